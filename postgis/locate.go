package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// Region is a code with its name.
type Region struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Worker is the grid worker (units.kind = grid_worker) who owns a grid.
// The phone is shown only to those the policy reveals it to
// (wangge.PermStaffContacts).
type Worker struct {
	ID    int64            `json:"id"`
	Name  string           `json:"name"`
	Phone wangge.Sensitive `json:"phone"`
}

// Reveal is the worker as p may see it.
func (w *Worker) Reveal(p wangge.Principal) *Worker {
	if w == nil {
		return nil
	}
	c := *w
	c.Phone = c.Phone.Reveal(p, wangge.PermStaffContacts)
	return &c
}

// Located is the answer to "where is this point": the grid, the regions
// above it and the grid's worker (nil when the grid has none).
type Located struct {
	Grid      Region  `json:"grid"`
	Community Region  `json:"community"`
	Street    Region  `json:"street"`
	District  Region  `json:"district"`
	Worker    *Worker `json:"worker"`
}

// LoadGrids reads the active grids, all of them (box nil) or those whose
// outline meets the box.
func (db *DB) LoadGrids(ctx context.Context, box *orb.Bound) ([]geo.Grid, error) {
	if box == nil {
		return db.loadGrids(ctx, "")
	}
	return db.loadGrids(ctx, ` AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`,
		box.Min[0], box.Min[1], box.Max[0], box.Max[1])
}

func (db *DB) loadGrids(ctx context.Context, where string, args ...any) ([]geo.Grid, error) {
	q := `SELECT code, name, ST_AsBinary(geom) FROM grids WHERE status = 'active' AND geom IS NOT NULL` + where
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgis: load grids: %w", err)
	}
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.Grid, error) {
		var (
			g geo.Grid
			b []byte
		)
		if err := row.Scan(&g.Code, &g.Name, &b); err != nil {
			return g, err
		}
		shape, err := wkb.Unmarshal(b)
		if err != nil {
			return g, fmt.Errorf("grid %s: %w", g.Code, err)
		}
		switch s := shape.(type) {
		case orb.MultiPolygon:
			g.Shape = s
		case orb.Polygon:
			g.Shape = orb.MultiPolygon{s}
		default:
			return g, fmt.Errorf("grid %s: geometry is a %s", g.Code, shape.GeoJSONType())
		}
		return g, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: load grids: %w", err)
	}
	return gs, nil
}

// directory holds what a locate answer names besides the grid.
type directory struct {
	regions map[string]string // code → name: districts, streets, communities
	workers map[string]Worker // grid code → its worker (lowest unit id)
	answers sync.Map          // grid code → *Located, filled on first use
}

func (db *DB) loadDirectory(ctx context.Context) (*directory, error) {
	d := &directory{regions: map[string]string{}, workers: map[string]Worker{}}
	var code, name string
	rows, err := db.Pool.Query(ctx, `SELECT code, name FROM regions`)
	if err != nil {
		return nil, fmt.Errorf("postgis: region names: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&code, &name}, func() error { d.regions[code] = name; return nil }); err != nil {
		return nil, fmt.Errorf("postgis: region names: %w", err)
	}
	var (
		w     Worker
		phone string
	)
	rows, err = db.Pool.Query(ctx, `SELECT DISTINCT ON (grid_code) grid_code, id, name, phone
		FROM units WHERE kind = 'grid_worker' ORDER BY grid_code, id`)
	if err != nil {
		return nil, fmt.Errorf("postgis: grid workers: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&code, &w.ID, &w.Name, &phone}, func() error {
		w.Phone = wangge.Conceal(phone)
		d.workers[code] = w
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgis: grid workers: %w", err)
	}
	return d, nil
}

func (d *directory) located(h geo.GridHit) *Located {
	// Answers are kept per grid: a hot path of four map lookups and an
	// allocation otherwise. The grid's name is checked because an Upsert
	// may rename a grid while this directory stays.
	if v, ok := d.answers.Load(h.Code); ok {
		if l := v.(*Located); l.Grid.Name == h.Name {
			return l
		}
	}
	l := &Located{
		Grid:      Region{h.Code, h.Name},
		Community: Region{h.Community, d.regions[h.Community]},
		Street:    Region{h.Street, d.regions[h.Street]},
		District:  Region{h.District, d.regions[h.District]},
	}
	if w, ok := d.workers[h.Code]; ok {
		l.Worker = &w
	}
	d.answers.Store(h.Code, l)
	return l
}

// Locator answers point → grid from a geo.GridIndex kept current with the
// database: loaded at start, the grids inside a changed box reloaded on
// every 'grids' notification (wangge_tiles), everything reloaded after a
// lost connection (notifications sent meanwhile are gone).
type Locator struct {
	Index *geo.GridIndex
	dir   atomic.Pointer[directory]
	db    *DB
	log   *slog.Logger
	wg    sync.WaitGroup
	stop  context.CancelFunc
	seen  atomic.Int64 // the grids data version the index reflects
}

// Seen is the data version of a layer the index reflects (only grids
// move it); a writer waits for it to answer read-your-writes.
func (l *Locator) Seen(layer string) int64 {
	if layer != "grids" {
		return 0
	}
	return l.seen.Load()
}

// StartLocator loads the index and returns once it is loaded and LISTEN
// is in place; it follows changes until ctx ends. When the first load
// fails, the listener it started is stopped before the error returns.
func (db *DB) StartLocator(ctx context.Context, log *slog.Logger) (*Locator, error) {
	ctx, stop := context.WithCancel(ctx)
	l := &Locator{Index: geo.NewGridIndex(0), db: db, log: log, stop: stop}
	ready := make(chan error, 1)
	var once sync.Once
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		db.Listen(ctx, TileChannel, log, func() {
			err := l.Reload(ctx)
			once.Do(func() { ready <- err })
		}, l.handle(ctx))
		once.Do(func() { ready <- fmt.Errorf("postgis: locator: %w", ctx.Err()) })
	}()
	if err := <-ready; err != nil {
		stop()
		l.wg.Wait()
		return nil, err
	}
	return l, nil
}

// Wait blocks until the listener has stopped, after ctx ended.
func (l *Locator) Wait() { l.wg.Wait() }

// NewLocator is a Locator loaded once and never refreshed (tests, benches).
func (db *DB) NewLocator(ctx context.Context, log *slog.Logger) (*Locator, error) {
	l := &Locator{Index: geo.NewGridIndex(0), db: db, log: log}
	return l, l.Reload(ctx)
}

// Reload reads every grid, region name and grid worker again.
func (l *Locator) Reload(ctx context.Context) error {
	vs, err := l.db.TileVersions(ctx) // read first: the load then reflects at least this
	if err != nil {
		return err
	}
	d, err := l.db.loadDirectory(ctx)
	if err != nil {
		return err
	}
	gs, err := l.db.LoadGrids(ctx, nil)
	if err != nil {
		return err
	}
	l.Index.Replace(gs)
	l.dir.Store(d)
	l.markSeen(vs["grids"])
	l.log.Info("grid locate index loaded", "grids", l.Index.Len(), "cells", l.Index.Cells())
	return nil
}

func (l *Locator) handle(ctx context.Context) func(string) {
	return func(payload string) {
		c, err := ParseTileChange(payload)
		if err != nil {
			l.log.Warn("locator: bad notification", "err", err)
			return
		}
		switch c.Layer {
		case "grids":
			err = l.reloadBox(ctx, orb.Bound{Min: orb.Point{c.BBox[0], c.BBox[1]}, Max: orb.Point{c.BBox[2], c.BBox[3]}})
		case "districts", "streets", "communities":
			var d *directory
			if d, err = l.db.loadDirectory(ctx); err == nil {
				l.dir.Store(d)
			}
		default:
			return
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("locator: reload after change failed", "layer", c.Layer, "err", err)
		}
		if err == nil && c.Layer == "grids" {
			l.markSeen(c.Version)
		}
	}
}

func (l *Locator) markSeen(v int64) {
	for {
		old := l.seen.Load()
		if v <= old || l.seen.CompareAndSwap(old, v) {
			return
		}
	}
}

// reloadBox re-reads the grids inside b: those that still meet it are
// replaced, those the index had there but the database no longer has
// there (retired, or moved out of the box) are re-read or dropped.
func (l *Locator) reloadBox(ctx context.Context, b orb.Bound) error {
	gs, err := l.db.LoadGrids(ctx, &b)
	if err != nil {
		return err
	}
	had := l.Index.CodesIn(b)
	seen := make(map[string]bool, len(gs))
	for _, g := range gs {
		seen[g.Code] = true
	}
	var gone []string
	for _, code := range had {
		if !seen[code] {
			gone = append(gone, code)
		}
	}
	if len(gone) > 0 { // a grid that left the box may still exist elsewhere
		more, err := l.db.gridsByCode(ctx, gone)
		if err != nil {
			return err
		}
		for _, g := range more {
			seen[g.Code] = true
		}
		gs = append(gs, more...)
		gone = slicesFilter(gone, func(c string) bool { return !seen[c] })
	}
	l.Index.Remove(gone...)
	l.Index.Upsert(gs...)
	d, err := l.db.loadDirectory(ctx) // new grids may come with new workers
	if err != nil {
		return err
	}
	l.dir.Store(d)
	return nil
}

func (db *DB) gridsByCode(ctx context.Context, codes []string) ([]geo.Grid, error) {
	return db.loadGrids(ctx, ` AND code = ANY($1)`, codes)
}

func slicesFilter(s []string, keep func(string) bool) []string {
	out := s[:0]
	for _, x := range s {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// Locate finds the grid covering (lon, lat), WGS-84.
func (l *Locator) Locate(lon, lat float64) (Located, bool) {
	h, ok := l.Index.Locate(lon, lat)
	if !ok {
		return Located{}, false
	}
	return *l.dir.Load().located(h), true
}

// LocateIn is Locate for a caller: a point whose grid lies outside the
// scope is answered as one outside every grid (no existence leak).
func (l *Locator) LocateIn(scope wangge.Scope, lon, lat float64) (Located, bool) {
	got, ok := l.Locate(lon, lat)
	if !ok || !scope.Covers(got.Grid.Code) {
		return Located{}, false
	}
	return got, true
}

// LocateBatchIn is LocateBatch for a caller: nil for points whose grid
// lies outside the scope.
func (l *Locator) LocateBatchIn(scope wangge.Scope, pts []orb.Point) []*Located {
	out := l.LocateBatch(pts)
	for i, got := range out {
		if got != nil && !scope.Covers(got.Grid.Code) {
			out[i] = nil
		}
	}
	return out
}

// LocateBatch locates every point: out[i] answers pts[i], nil outside
// every grid. Answers are shared per grid: read them, do not change them.
func (l *Locator) LocateBatch(pts []orb.Point) []*Located {
	hits, found := make([]geo.GridHit, len(pts)), make([]bool, len(pts))
	l.Index.LocateBatch(pts, hits, found)
	d := l.dir.Load()
	out := make([]*Located, len(pts))
	var last *Located // neighbouring points often share a grid
	for i := range pts {
		if !found[i] {
			continue
		}
		if last == nil || last.Grid.Code != hits[i].Code || last.Grid.Name != hits[i].Name {
			last = d.located(hits[i])
		}
		out[i] = last
	}
	return out
}

// LocateSQL is the PostGIS baseline of Locator.LocateIn: the same answer
// (ST_Covers, lowest code on a shared edge) from one indexed query; a grid
// outside the scope is filtered after it is found, as LocateIn does, so
// the two engines agree on shared edges too.
func (db *DB) LocateSQL(ctx context.Context, scope wangge.Scope, lon, lat float64) (Located, error) {
	var (
		l  Located
		wk *int64
		wn *string
		wp *string
	)
	err := db.Pool.QueryRow(ctx, `SELECT g.code, g.name, c.code, c.name, s.code, s.name, d.code, d.name, w.id, w.name, w.phone
		FROM (SELECT code, name, community_code FROM grids
		      WHERE status = 'active' AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
		      ORDER BY code LIMIT 1) g
		JOIN regions c ON c.code = g.community_code
		JOIN regions s ON s.code = c.parent_code
		JOIN regions d ON d.code = s.parent_code
		LEFT JOIN LATERAL (SELECT id, name, phone FROM units
		      WHERE kind = 'grid_worker' AND grid_code = g.code ORDER BY id LIMIT 1) w ON true
		WHERE g.code LIKE $3`, lon, lat, scope.Like()).
		Scan(&l.Grid.Code, &l.Grid.Name, &l.Community.Code, &l.Community.Name, &l.Street.Code, &l.Street.Name,
			&l.District.Code, &l.District.Name, &wk, &wn, &wp)
	if err == pgx.ErrNoRows {
		return l, OutsideCity(lon, lat)
	}
	if err != nil {
		return l, fmt.Errorf("postgis: locate: %w", err)
	}
	if wk != nil {
		l.Worker = &Worker{ID: *wk, Name: *wn, Phone: wangge.Conceal(*wp)}
	}
	return l, nil
}

// OutsideCity is the not-found answer of a locate, whichever engine ran it.
func OutsideCity(lon, lat float64) error {
	return fmt.Errorf("point %s,%s (WGS-84) lies outside every grid of the city: %w",
		strconv.FormatFloat(lon, 'f', -1, 64), strconv.FormatFloat(lat, 'f', -1, 64), wangge.ErrNotFound)
}

// GridAt is Locate for callers that want only the grid code (event
// intake): a point outside every grid is invalid input, as in DB.GridAt,
// so the in-memory index replaces the SQL lookup one for one.
func (l *Locator) GridAt(_ context.Context, lon, lat float64) (string, error) {
	h, ok := l.Index.Locate(lon, lat)
	if !ok {
		return "", wangge.Invalid("location", "(%.6f, %.6f) is outside the city's grids", lon, lat)
	}
	return h.Code, nil
}
