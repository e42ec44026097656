package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// The rollups (migration 0014) are kept by statement-level triggers named
// <table>_rollup_<op> and posts_rollup_units.
const rollupTriggersSQL = `SELECT format('ALTER TABLE %I %s TRIGGER %I', c.relname, $1::text, t.tgname)
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	WHERE NOT t.tgisinternal AND t.tgname LIKE '%\_rollup\_%' ORDER BY 1`

// SetRollupTriggers turns the rollup triggers off (before a bulk load,
// which then calls RebuildRollups) or back on.
func (db *DB) SetRollupTriggers(ctx context.Context, on bool) error {
	verb := "DISABLE"
	if on {
		verb = "ENABLE"
	}
	rows, err := db.Pool.Query(ctx, rollupTriggersSQL, verb)
	if err != nil {
		return fmt.Errorf("postgis: rollup triggers: %w", err)
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgis: rollup triggers: %w", err)
	}
	for _, q := range stmts {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: %s: %w", q, err)
		}
	}
	return nil
}

// rebuildSettings: a recomputation aggregates millions of rows at scale 1;
// room to hash in memory rather than sort on disk, no JIT compiling of its
// many expressions (measured slower), and a deadline of its own: serve's
// pool stops statements after 30 s, and the nightly check runs there
// (2 min 20 s at scale 1).
const rebuildSettings = `SET LOCAL work_mem = '256MB'; SET LOCAL jit = off; SET LOCAL statement_timeout = '30min'`

// RebuildRollups recomputes both rollup tables from the base tables in
// one transaction (writers wait meanwhile), logging each part's time.
func (db *DB) RebuildRollups(ctx context.Context, log *slog.Logger) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: rebuild rollups: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit a no-op
	for _, part := range []struct{ name, sql string }{
		{"lock", `LOCK TABLE rollup_counts, event_rollups IN EXCLUSIVE MODE`},
		{"settings", rebuildSettings},
		// CREATE TABLE AS may scan in parallel (INSERT … SELECT may not).
		{"counts", `CREATE TEMP TABLE rollup_counts_new ON COMMIT DROP AS SELECT * FROM rollups_expected_counts()`},
		{"events", `CREATE TEMP TABLE event_rollups_new ON COMMIT DROP AS SELECT * FROM rollups_expected_events()`},
		{"swap", `TRUNCATE rollup_counts, event_rollups;
			INSERT INTO rollup_counts SELECT * FROM rollup_counts_new;
			INSERT INTO event_rollups SELECT * FROM event_rollups_new`},
	} {
		t0 := time.Now()
		tag, err := tx.Exec(ctx, part.sql)
		if err != nil {
			return fmt.Errorf("postgis: rebuild rollups (%s): %w", part.name, err)
		}
		if part.name != "lock" && part.name != "settings" {
			log.Info("rollups: rebuilt", "part", part.name, "rows", tag.RowsAffected(),
				"duration", time.Since(t0).Round(time.Millisecond))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgis: rebuild rollups: %w", err)
	}
	return nil
}

// RollupDrift is one rollup row that differs from its recomputation.
type RollupDrift struct {
	Table string // rollup_counts or event_rollups
	Key   string // code and key (or code, day, tier, category)
	Have  string // the stored figures ("" when the row is missing)
	Want  string // the recomputed ones ("" when there should be none)
}

func (d RollupDrift) String() string {
	return fmt.Sprintf("%s %s: stored %q, recomputed %q", d.Table, d.Key, d.Have, d.Want)
}

// A stored event row of zeros (everything it counted has gone) equals a
// missing one.
const rollupDriftSQL = `
SELECT 'rollup_counts', format('%s/%s', code, key), coalesce(r.n::text, ''), coalesce(e.n::text, '')
FROM rollups_expected_counts() e FULL JOIN rollup_counts r USING (code, key)
WHERE coalesce(e.n, 0) <> coalesce(r.n, 0)
UNION ALL
SELECT 'event_rollups', format('%s/%s/%s/%s', code, day, tier, category),
	coalesce(format('%s %s %s %s %s %s %s %s %s', r.reported, r.resolved, r.closed, r.excluded, r.evaluated, r.score_sum,
		r.closed_n, round(r.closed_minutes::numeric, 3), r.hist), ''),
	coalesce(format('%s %s %s %s %s %s %s %s %s', e.reported, e.resolved, e.closed, e.excluded, e.evaluated, e.score_sum,
		e.closed_n, round(e.closed_minutes::numeric, 3), e.hist), '')
FROM rollups_expected_events() e FULL JOIN event_rollups r USING (code, day, tier, category)
WHERE (e.reported, e.resolved, e.closed, e.excluded, e.evaluated, e.score_sum, e.closed_n, e.hist,
		round(e.closed_minutes::numeric, 3))
	IS DISTINCT FROM (r.reported, r.resolved, r.closed, r.excluded, r.evaluated, r.score_sum, r.closed_n, r.hist,
		round(r.closed_minutes::numeric, 3))
  AND NOT (e.code IS NULL AND r.reported = 0 AND r.resolved = 0 AND r.closed = 0 AND r.excluded = 0
	AND r.evaluated = 0 AND r.score_sum = 0 AND r.closed_n = 0 AND 0 = ALL (r.hist))
ORDER BY 1, 2
LIMIT $1`

// VerifyRollups recomputes every rollup from the base tables inside one
// snapshot and returns up to limit rows that differ (none: no drift).
func (db *DB) VerifyRollups(ctx context.Context, limit int) ([]RollupDrift, error) {
	drift, _, err := db.verifyRollups(ctx, limit, false)
	return drift, err
}

// verifyRollups runs the check in one read-only snapshot; with once, only
// when no other replica holds the nightly check's lock (ran false).
func (db *DB) verifyRollups(ctx context.Context, limit int, once bool) (drift []RollupDrift, ran bool, err error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, false, fmt.Errorf("postgis: verify rollups: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	if once {
		err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('wangge.rollups.check'))`).Scan(&ran)
		if err != nil || !ran {
			return nil, false, err
		}
	}
	if _, err := tx.Exec(ctx, rebuildSettings); err != nil {
		return nil, false, fmt.Errorf("postgis: verify rollups: %w", err)
	}
	drift, err = verifyRollupsIn(ctx, tx, limit)
	return drift, true, err
}

func verifyRollupsIn(ctx context.Context, tx pgx.Tx, limit int) ([]RollupDrift, error) {
	rows, err := tx.Query(ctx, rollupDriftSQL, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: verify rollups: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RollupDrift])
	if err != nil {
		return nil, fmt.Errorf("postgis: verify rollups: %w", err)
	}
	return out, nil
}

// RollupSize is the rows and bytes (with indexes) of the rollup tables.
func (db *DB) RollupSize(ctx context.Context) (rows, bytes int64, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rollup_counts) + (SELECT count(*) FROM event_rollups),
		pg_total_relation_size('rollup_counts') + pg_total_relation_size('event_rollups')`).Scan(&rows, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("postgis: rollup size: %w", err)
	}
	return rows, bytes, nil
}

// RunRollupCheck verifies the rollups once a day at hour (city time),
// one replica per day (a transaction-level advisory lock), logging any
// drift as an error; drifted, when set, gets the number of rows found.
func (db *DB) RunRollupCheck(ctx context.Context, log *slog.Logger, hour int, drifted func(int)) {
	for {
		now := time.Now().In(wangge.CityZone)
		next := wangge.CityDay(now).Add(time.Duration(hour) * time.Hour)
		if !next.After(now) {
			next = next.AddDate(0, 0, 1)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next.Sub(now)):
		}
		t0 := time.Now()
		drift, ran, err := db.verifyRollups(ctx, 100, true)
		switch {
		case err != nil:
			log.Error("rollups: nightly check failed", "err", err)
		case !ran:
			log.Info("rollups: nightly check run by another replica")
		case len(drift) > 0:
			log.Error("rollups: drift from the base tables; `wangge rollups rebuild` recomputes them",
				"rows", len(drift), "first", drift[0].String())
		default:
			log.Info("rollups: nightly check found no drift", "duration", time.Since(t0).Round(time.Millisecond))
		}
		if err == nil && ran && drifted != nil {
			drifted(len(drift))
		}
	}
}
