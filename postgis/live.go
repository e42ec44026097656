package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/geo"
)

// Live keeps a geo.Index current with the database and with the other
// replicas: it loads every responder, follows UnitChannel, and writes
// position reports behind (batched by a UnitWriter).
//
// Consistency: PostgreSQL is the truth; every replica's index converges to
// it because position and status are last-writer-wins registers keyed by
// their timestamps, merged the same way in SQL and in geo.Index.Upsert, so
// the order notifications arrive in does not matter.
type Live struct {
	Index  *geo.Index
	Writer *UnitWriter
	db     *DB
	log    *slog.Logger
	wg     sync.WaitGroup
}

// StartLive builds the index and returns once it is loaded and LISTEN is
// in place; the listener and the writer run until ctx ends.
func (db *DB) StartLive(ctx context.Context, log *slog.Logger) (*Live, error) {
	l := &Live{Index: geo.NewIndex(), Writer: db.NewUnitWriter(log, 100*time.Millisecond, 2000), db: db, log: log}
	ready := make(chan error, 1)
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.follow(ctx, ready) }()
	select {
	case err := <-ready:
		if err != nil {
			l.wg.Done() // the writer never started
			return nil, err
		}
	case <-ctx.Done():
		l.wg.Done()
		return nil, ctx.Err()
	}
	go func() { defer l.wg.Done(); l.Writer.Run(ctx) }()
	return l, nil
}

// Wait blocks until the listener and the writer (with its last flush) have
// stopped, after ctx ended.
func (l *Live) Wait() { l.wg.Wait() }

// follow LISTENs on UnitChannel and applies every change, reconnecting
// with backoff (100 ms doubling to 10 s). After each (re)connect it reloads
// every responder, since notifications sent while it was away are lost;
// the first attempt's outcome goes to ready.
func (l *Live) follow(ctx context.Context, ready chan<- error) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := l.listenOnce(ctx, func() error {
			n, err := l.reload(ctx)
			if err == nil {
				backoff = 100 * time.Millisecond
				l.log.Info("responders loaded", "count", n, "index", l.Index.Len())
			}
			if first {
				first = false
				ready <- err
			}
			return err
		})
		if ctx.Err() != nil {
			return
		}
		if first {
			first = false
			ready <- err
			return
		}
		l.log.Warn("unit listener lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (l *Live) reload(ctx context.Context) (int, error) {
	rs, err := l.db.LoadResponders(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		if _, err := l.Index.Upsert(r); err != nil {
			l.log.Warn("responder not indexed", "key", r.Key.String(), "err", err)
		}
	}
	return len(rs), nil
}

// listenOnce holds a connection of its own (taken out of the pool: it
// carries LISTEN state) until it fails or ctx ends.
func (l *Live) listenOnce(ctx context.Context, onListen func() error) error {
	pooled, err := l.db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgis: listen %s: acquire: %w", UnitChannel, err)
	}
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{UnitChannel}.Sanitize()); err != nil {
		return fmt.Errorf("postgis: listen %s: %w", UnitChannel, err)
	}
	if err := onListen(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgis: wait on %s: %w", UnitChannel, err)
		}
		l.apply(n.Payload)
	}
}

func (l *Live) apply(payload string) {
	cs, err := ParseUnitChanges(payload)
	if err != nil {
		l.log.Warn("bad unit notification", "err", err)
		return
	}
	for _, c := range cs {
		if _, err := l.Index.Upsert(c.Responder()); err != nil {
			l.log.Warn("unit change not indexed", "unit", c.ID, "err", err)
		}
	}
}

// Nearest answers from the index.
func (l *Live) Nearest(q geo.Query) ([]geo.Match, geo.Search, error) { return l.Index.Nearest(q) }

// MoveUnit records a position report: checked and applied in the index at
// once (unknown unit → ErrNotFound, older than the stored report →
// ErrConflict/ErrStale, nothing changed), then written behind in a batch.
func (l *Live) MoveUnit(_ context.Context, id int64, lon, lat float64, status geo.Status, at time.Time) (geo.Responder, error) {
	r, err := l.Index.Move(geo.Key{Class: geo.ClassUnit, ID: id}, lon, lat, status, at)
	if err != nil {
		return r, fmt.Errorf("postgis: unit %d: %w", id, err)
	}
	u := UnitUpdate{ID: id, Lon: lon, Lat: lat, At: at}
	if status != "" {
		u.Status, u.StatusAt = status, at
	}
	l.Writer.Enqueue(u)
	return r, nil
}

// SetUnitStatus writes a status change through to the database, then to
// the index.
func (l *Live) SetUnitStatus(ctx context.Context, s StatusChange) (geo.Responder, error) {
	ch, err := l.db.SetUnitStatus(ctx, s)
	if err != nil {
		return geo.Responder{}, err
	}
	r := ch.Responder()
	if _, err := l.Index.Upsert(r); err != nil {
		return r, fmt.Errorf("postgis: unit %d: %w", s.ID, err)
	}
	got, _ := l.Index.Get(r.Key)
	return got, nil
}
