package postgis

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProgressEvery is how often a long seed statement reports how far it is.
const ProgressEvery = 5 * time.Second

// execWatched runs q on c and, every ProgressEvery while it runs, logs
// its progress as PostgreSQL reports it: the phase and share done of an
// index build (pg_stat_progress_create_index) or an ANALYZE
// (pg_stat_progress_analyze); for other statements (a foreign-key check,
// an UPDATE) only how long it has run and what it waits for, if anything.
func (db *DB) execWatched(ctx context.Context, c *pgx.Conn, log *slog.Logger, what, q string) error {
	done := make(chan struct{})
	t0 := time.Now()
	pid := c.PgConn().PID()
	go func() {
		t := time.NewTicker(ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				db.logProgress(ctx, log, what, pid, time.Since(t0))
			}
		}
	}()
	_, err := c.Exec(ctx, q)
	close(done)
	return err
}

func (db *DB) logProgress(ctx context.Context, log *slog.Logger, what string, pid uint32, d time.Duration) {
	var phase string
	var pct *float64
	err := db.Pool.QueryRow(ctx, `
		SELECT coalesce(i.phase, a.phase, CASE WHEN s.wait_event_type IN ('Lock', 'LWLock', 'IO')
		                                       THEN 'waiting: ' || s.wait_event_type || ' ' || s.wait_event ELSE 'running' END),
		       round(100 * coalesce(
		           CASE WHEN i.phase LIKE '%loading tuples%' AND i.tuples_total > 0 THEN i.tuples_done::numeric / i.tuples_total END,
		           CASE WHEN i.blocks_total > 0 AND i.phase LIKE '%scanning%' THEN i.blocks_done::numeric / i.blocks_total END,
		           CASE WHEN a.sample_blks_total > 0 THEN a.sample_blks_scanned::numeric / a.sample_blks_total END), 1)::float8
		FROM pg_stat_activity s
		LEFT JOIN pg_stat_progress_create_index i ON i.pid = s.pid
		LEFT JOIN pg_stat_progress_analyze a ON a.pid = s.pid
		WHERE s.pid = $1`, int32(pid)).Scan(&phase, &pct)
	if err != nil {
		return // the statement just ended, or the pool is busy: the next tick tells
	}
	attrs := []any{"step", what, "elapsed", d.Round(time.Second), "phase", phase}
	if pct != nil {
		attrs = append(attrs, "done_pct", *pct)
	}
	log.Info("seed: progress", attrs...)
}
