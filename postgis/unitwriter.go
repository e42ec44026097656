package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge/geo"
)

// UnitChannel carries applied unit changes between replicas: a JSON array
// of UnitChange, at most unitsPerNotify per notification (well under the
// 8000-byte payload limit).
const UnitChannel = "wangge_units"

const unitsPerNotify = 25

// UnitUpdate is one position report: where the unit was at At, and, when
// Status is not "", its status as of StatusAt.
type UnitUpdate struct {
	ID       int64
	Lon, Lat float64
	At       time.Time
	Status   geo.Status
	StatusAt time.Time
}

// merge folds a later-arriving update u into p register by register.
func (p UnitUpdate) merge(u UnitUpdate) UnitUpdate {
	if !u.At.Before(p.At) {
		p.Lon, p.Lat, p.At = u.Lon, u.Lat, u.At
	}
	if u.Status != "" && (p.Status == "" || !u.StatusAt.Before(p.StatusAt)) {
		p.Status, p.StatusAt = u.Status, u.StatusAt
	}
	return p
}

// UnitWriter batches position writes: updates are coalesced per unit (the
// newest wins) and flushed every interval, or at once when maxBatch units
// are pending, with one statement per batch that skips rows whose stored
// position_at (status_at) is newer and NOTIFYs the rows it changed.
type UnitWriter struct {
	db       *DB
	log      *slog.Logger
	interval time.Duration
	maxBatch int

	mu      sync.Mutex
	pending map[int64]UnitUpdate
	kick    chan struct{}

	written atomic.Int64 // rows applied by the database
	dropped atomic.Int64 // rows lost to failed flushes
}

// NewUnitWriter builds a writer; Run starts it.
func (db *DB) NewUnitWriter(log *slog.Logger, interval time.Duration, maxBatch int) *UnitWriter {
	return &UnitWriter{db: db, log: log, interval: interval, maxBatch: maxBatch,
		pending: make(map[int64]UnitUpdate), kick: make(chan struct{}, 1)}
}

// Enqueue queues u; it never blocks on the database.
func (w *UnitWriter) Enqueue(u UnitUpdate) {
	w.mu.Lock()
	if p, ok := w.pending[u.ID]; ok {
		u = p.merge(u)
	}
	w.pending[u.ID] = u
	n := len(w.pending)
	w.mu.Unlock()
	if n >= w.maxBatch {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Written is the number of rows the database applied so far.
func (w *UnitWriter) Written() int64 { return w.written.Load() }

// flushTimeout bounds one batch write.
const flushTimeout = 5 * time.Second

// Run flushes until ctx ends, then flushes what is left.
// A failed flush is logged and its rows dropped: positions are superseded
// by the next report within seconds, and the index already holds them.
func (w *UnitWriter) Run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	// Writes outlive ctx: a batch in flight when shutdown starts must land,
	// not be cancelled and dropped (each flush has its own time bound).
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			w.drain(wctx, 1)
			return
		case <-t.C:
		case <-w.kick:
		}
		w.drain(wctx, w.maxBatch)
	}
}

// drain flushes batches while each takes at least least rows.
func (w *UnitWriter) drain(ctx context.Context, least int) {
	for {
		if n := w.flushLogged(ctx); n == 0 || n < least {
			return
		}
	}
}

func (w *UnitWriter) flushLogged(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	n, err := w.Flush(ctx)
	if err != nil {
		w.dropped.Add(int64(n))
		w.log.Error("unit positions not written", "rows", n, "err", err)
	}
	return n
}

// Flush writes up to maxBatch pending updates now and returns how many it
// took from the queue.
func (w *UnitWriter) Flush(ctx context.Context) (int, error) {
	w.mu.Lock()
	batch := make([]UnitUpdate, 0, min(len(w.pending), w.maxBatch))
	for id, u := range w.pending {
		if len(batch) == w.maxBatch {
			break
		}
		batch = append(batch, u)
		delete(w.pending, id)
	}
	w.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	n, err := w.db.writeUnits(ctx, batch)
	w.written.Add(n)
	return len(batch), err
}

// writeUnits applies a batch in one statement: UPDATE … FROM unnest(…),
// register by register (position if not older than position_at, status
// if not older than status_at), and one pg_notify per unitsPerNotify
// applied rows, delivered when the statement commits.
func (db *DB) writeUnits(ctx context.Context, batch []UnitUpdate) (int64, error) {
	ids := make([]int64, len(batch))
	lons := make([]float64, len(batch))
	lats := make([]float64, len(batch))
	ats := make([]time.Time, len(batch))
	sts := make([]*string, len(batch))
	stAts := make([]*time.Time, len(batch))
	for i, u := range batch {
		ids[i], lons[i], lats[i], ats[i] = u.ID, u.Lon, u.Lat, u.At
		if u.Status != "" {
			s, at := string(u.Status), u.StatusAt
			sts[i], stAts[i] = &s, &at
		}
	}
	var n int64
	err := db.Pool.QueryRow(ctx, `
WITH v AS (
	SELECT * FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::timestamptz[], $5::text[], $6::timestamptz[])
		AS v(id, lon, lat, at, status, status_at)
), upd AS (
	UPDATE units u SET
		geom = CASE WHEN u.position_at <= v.at THEN ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) ELSE u.geom END,
		position_at = greatest(u.position_at, v.at),
		status = CASE WHEN `+statusWins+` THEN v.status ELSE u.status END,
		status_at = CASE WHEN `+statusWins+` THEN v.status_at ELSE u.status_at END,
		updated_at = now()
	FROM v
	WHERE u.id = v.id AND (u.position_at <= v.at OR `+statusWins+`)
	RETURNING `+unitChangeJSON+` AS j
), msg AS (
	SELECT (row_number() OVER () - 1) / `+fmt.Sprint(unitsPerNotify)+` AS chunk, j FROM upd
)
SELECT coalesce(sum(n), 0) FROM (
	SELECT count(*) AS n, pg_notify('`+UnitChannel+`', json_agg(j)::text) FROM msg GROUP BY chunk
) sent`, ids, lons, lats, ats, sts, stAts).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgis: write %d unit positions: %w", len(batch), err)
	}
	return n, nil
}

// statusWins: the update carries a status not older than the stored one.
const statusWins = `(v.status IS NOT NULL AND (u.status_at IS NULL OR u.status_at <= v.status_at))`

// unitChangeJSON is a changed units row (alias u) as a UnitChange.
const unitChangeJSON = `json_build_object('id', u.id, 'kind', u.kind, 'status', u.status,
	'lon', ST_X(u.geom), 'lat', ST_Y(u.geom),
	'home', ` + unitHome + `,
	'position_at', u.position_at, 'status_at', u.status_at)`
