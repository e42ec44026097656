package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wangge/wangge"
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
	stop   context.CancelFunc // ends the listener and writer (with ctx)
	homes  unitHomes          // each unit's home grid, for the scope of position reports
}

// StartLive builds the index and returns once it is loaded and LISTEN is
// in place; the listener and the writer run until ctx ends. After every
// (re)connect the listener reloads every responder, since notifications
// sent while it was away are lost; a failed reload drops the connection
// and is tried again.
func (db *DB) StartLive(ctx context.Context, log *slog.Logger) (*Live, error) {
	ctx, stop := context.WithCancel(ctx)
	l := &Live{Index: geo.NewIndex(), Writer: db.NewUnitWriter(log, 100*time.Millisecond, 2000), db: db, log: log, stop: stop}
	ready := make(chan error, 1)
	var once sync.Once
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		db.listen(ctx, UnitChannel, log, func() error {
			n, err := l.reload(ctx)
			if err == nil {
				log.Info("responders loaded", "count", n, "index", l.Index.Len())
			}
			once.Do(func() { ready <- err })
			return err
		}, l.apply)
		once.Do(func() { ready <- fmt.Errorf("postgis: responders: %w", ctx.Err()) })
	}()
	if err := <-ready; err != nil {
		stop() // the listener would otherwise retry for ever behind a failed start
		l.wg.Wait()
		return nil, err
	}
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.Writer.Run(ctx) }()
	return l, nil
}

// Wait blocks until the listener and the writer (with its last flush) have
// stopped, after ctx ended.
func (l *Live) Wait() { l.wg.Wait() }

func (l *Live) reload(ctx context.Context) (int, error) {
	rs, err := l.db.LoadResponders(ctx)
	if err != nil {
		return 0, err
	}
	if err := l.homes.load(ctx, l.db); err != nil {
		return 0, err
	}
	for _, r := range rs {
		if _, err := l.Index.Upsert(r); err != nil {
			l.log.Warn("responder not indexed", "key", r.Key.String(), "err", err)
		}
	}
	return len(rs), nil
}

func (l *Live) apply(payload string) {
	cs, err := ParseUnitChanges(payload)
	if err != nil {
		l.log.Warn("bad unit notification", "err", err)
		return
	}
	for _, c := range cs {
		l.homes.set(c.ID, c.Home)
		if _, err := l.Index.Upsert(c.Responder()); err != nil {
			l.log.Warn("unit change not indexed", "unit", c.ID, "err", err)
		}
	}
}

// Nearest answers from the index, limited to the responders at home
// inside scope (ScopeQuery, as NearestExact).
func (l *Live) Nearest(scope wangge.Scope, q geo.Query) ([]geo.Match, geo.Search, error) {
	if err := q.Validate(); err != nil {
		return nil, geo.Search{}, err
	}
	q, ok := ScopeQuery(scope, q)
	if !ok {
		return []geo.Match{}, geo.Search{Stop: "the asked street or district lies outside the jurisdiction"}, nil
	}
	return l.Index.Nearest(q)
}

// MoveUnit records a position report: checked and applied in the index at
// once (unknown unit, or one whose home lies outside scope → ErrNotFound;
// older than the stored report → ErrConflict/ErrStale; nothing changed),
// then written behind in a batch. The scope is checked against the homes
// table loaded with the index rather than in SQL: a report is acknowledged
// from memory, and its write behind is batched across callers.
func (l *Live) MoveUnit(_ context.Context, scope wangge.Scope, id int64, lon, lat float64, status geo.Status, at time.Time) (geo.Responder, error) {
	if !l.homes.inside(scope, id) {
		return geo.Responder{}, fmt.Errorf("postgis: unit %d: %w", id, wangge.ErrNotFound)
	}
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
func (l *Live) SetUnitStatus(ctx context.Context, scope wangge.Scope, s StatusChange) (geo.Responder, error) {
	ch, err := l.db.SetUnitStatus(ctx, scope, s)
	if err != nil {
		return geo.Responder{}, err
	}
	l.homes.set(ch.ID, ch.Home)
	r := ch.Responder()
	if _, err := l.Index.Upsert(r); err != nil {
		return r, fmt.Errorf("postgis: unit %d: %w", s.ID, err)
	}
	got, _ := l.Index.Get(r.Key)
	return got, nil
}
