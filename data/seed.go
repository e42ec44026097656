package data

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Options choose what Seed generates.
type Options struct {
	Scale     float64   // 0 < Scale <= 1: thins buildings, households, residents, objects and events; the hierarchy is always whole
	Seed      int64     // same Seed, Now, Scale and Districts → byte-identical data
	Districts []string  // 6-digit district codes to seed; empty means all 38
	Now       time.Time // the "today" that historic and open events lead up to
}

// Phase is one timed step of a seed.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Stats tells what a seed wrote and how long each phase took.
type Stats struct {
	Rows     map[string]int64         // rows written per table
	CopyTime map[string]time.Duration // time per table of the districts' passes that wrote it, summed
	Phases   []Phase
	Rebuild  []postgis.Step // keys, indexes, ANALYZE and foreign keys, each as it finished
	Total    time.Duration
}

// workers is how many districts are worked on at once: the machine the
// seed targets has two cores, shared with PostgreSQL.
const workers = 2

// DefaultScale is the scale `make run` seeds: the largest that keeps the
// whole city under about two minutes on a two-core machine.
func DefaultScale() float64 { return 0.1 }

// Seed fills an empty, migrated database with the demo city. It fails
// with wangge.ErrConflict when the database already holds data.
//
// The secondary indexes and foreign keys of the big tables (and the keys
// of those loaded by one COPY each) are dropped first and rebuilt as the
// tables complete, while later tables still load; every phase, and every
// long statement of the rebuild, logs its progress.
func Seed(ctx context.Context, db *postgis.DB, opts Options, log *slog.Logger) (Stats, error) {
	st := Stats{Rows: map[string]int64{}, CopyTime: map[string]time.Duration{}}
	start := time.Now()
	if opts.Scale <= 0 || opts.Scale > 1 {
		return st, fmt.Errorf("data: seed: scale %v: %w", opts.Scale, wangge.Invalid("scale", "must be in (0, 1]"))
	}
	if opts.Now.IsZero() {
		return st, fmt.Errorf("data: seed: %w", wangge.Invalid("now", "must be set"))
	}
	if err := db.SeedCheckEmpty(ctx); err != nil {
		return st, fmt.Errorf("data: seed: %w", err)
	}
	all, err := loadDistricts()
	if err != nil {
		return st, err
	}
	ds, err := selectDistricts(all, opts.Districts)
	if err != nil {
		return st, err
	}
	rivers, err := loadRivers()
	if err != nil {
		return st, err
	}
	s := &seeder{db: db, opts: opts, log: log, st: &st}
	if err := s.phase("plan", func() error { return s.plan(ctx, ds, rivers) }); err != nil {
		return st, err
	}
	ddl, err := db.DropBulkIndexes(ctx)
	if err != nil {
		return st, fmt.Errorf("data: seed: %w", err)
	}
	// The rollups are recomputed once after the load (phase "rollups"):
	// kept row by row through COPY, they would cost every statement a pass
	// over its millions of rows.
	if err := db.SetRollupTriggers(ctx, false); err != nil {
		return st, fmt.Errorf("data: seed: %w", err)
	}
	defer func() {
		if err := db.SetRollupTriggers(context.WithoutCancel(ctx), true); err != nil {
			log.Error("seed: rollup triggers left off", "err", err)
		}
	}()
	s.rebuild = db.StartRebuild(ctx, ddl, log)
	err = s.run(ctx, rivers)
	if err == nil {
		// What the loads left to rebuild: the last tables' keys, indexes,
		// statistics and foreign keys.
		err = s.phase("finish", s.rebuild.Wait)
	}
	st.Rebuild = s.rebuild.Done
	if err != nil {
		// Put the schema back even after a failed or cancelled load, so the
		// database keeps its indexes and keys; the load error is the one to
		// report, the restore's only goes to the log.
		if rerr := s.rebuild.Abandon(context.WithoutCancel(ctx)); rerr != nil {
			log.Error("seed: restoring indexes after a failed load", "err", rerr)
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}
	if err == nil {
		err = s.phase("rollups", func() error { return db.RebuildRollups(ctx, log) })
	}
	if derr := db.SeedDropStage(context.WithoutCancel(ctx)); err == nil && derr != nil {
		err = derr
	}
	st.Total = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("data: seed: %w", err)
	}
	log.Info("seed: done", "duration", st.Total.Round(time.Millisecond), "rows", st.Rows)
	return st, nil
}

// run loads every layer, parents first, telling the rebuild which
// tables are complete.
func (s *seeder) run(ctx context.Context, rivers []river) error {
	steps := []struct {
		name   string
		fn     func(context.Context) error
		tables []string // complete after the step
	}{
		{"stage", func(ctx context.Context) error { return s.stage(ctx, rivers) }, []string{"grid_versions"}},
		{"districts", s.districts, nil},
		{"parcels+regions", s.geometry, []string{"regions", "parcels"}},
		{"resources", s.resources, []string{"posts", "units"}},
		{"load", s.load, nil}, // marks its tables itself
	}
	for _, step := range steps {
		if err := s.phase(step.name, func() error { return step.fn(ctx) }); err != nil {
			return err
		}
		s.loaded(step.tables...)
	}
	return nil
}

// load runs the people pass and the events pass side by side: one
// COPY stream per table, events following the people district by
// district (events are about the components the people pass places).
// The per-grid counts are summed once the buildings are in.
func (s *seeder) load(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	next := make(chan *plan, len(s.plans))
	people := s.prog.count("people_districts", len(s.plans))
	events := s.prog.count("events_districts", len(s.plans))
	g.Go(func() error {
		if err := s.people(gctx, next, people); err != nil {
			return err
		}
		if err := s.db.SeedGridCounts(gctx, s.log); err != nil {
			return err
		}
		s.loaded(append(slices.Clone(peopleTables), "grids")...)
		return nil
	})
	g.Go(func() error {
		if err := s.events(gctx, next, events); err != nil {
			return err
		}
		if err := s.db.SeedSequences(gctx); err != nil {
			return err
		}
		s.loaded(eventTables...)
		return nil
	})
	return g.Wait()
}

// loaded tells the rebuild that tables are complete.
func (s *seeder) loaded(tables ...string) {
	if len(tables) == 0 {
		return
	}
	rows := map[string]int64{}
	s.mu.Lock()
	for _, t := range tables {
		rows[t] = s.st.Rows[t]
	}
	s.mu.Unlock()
	s.rebuild.Loaded(context.Background(), rows)
}

func selectDistricts(all []*district, codes []string) ([]*district, error) {
	if len(codes) == 0 {
		return all, nil
	}
	var out []*district
	for _, d := range all {
		if slices.Contains(codes, d.Code) {
			out = append(out, d)
		}
	}
	if len(out) != len(slices.Compact(slices.Sorted(slices.Values(codes)))) {
		return nil, fmt.Errorf("data: seed: districts %v: %w", codes, wangge.Invalid("districts", "unknown district code"))
	}
	return out, nil
}

// seeder carries one seed's state.
type seeder struct {
	db      *postgis.DB
	opts    Options
	log     *slog.Logger
	st      *Stats
	plans   []*plan
	mu      sync.Mutex // guards st.Rows
	prog    progress
	rebuild *postgis.Rebuild
}

// count adds n rows of table to the stats and logs the rate.
func (s *seeder) count(table string, n int64, d time.Duration, attrs ...any) {
	s.mu.Lock()
	s.st.Rows[table] += n
	s.st.CopyTime[table] += d
	s.mu.Unlock()
	if d > 0 {
		s.log.Info("seed: copied", append([]any{"table", table, "rows", n,
			"rows_per_s", int64(float64(n) / max(d.Seconds(), 1e-9))}, attrs...)...)
	}
}

// phase runs fn as the named phase, logging its progress while it runs
// and its duration at the end.
func (s *seeder) phase(name string, fn func() error) error {
	t0 := time.Now()
	s.prog.reset()
	if name == "finish" {
		s.prog.countFunc("steps", s.rebuild.Progress)
	}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.prog.watch(s.log, name, stop)
	}()
	err := fn()
	close(stop)
	<-watched
	d := time.Since(t0)
	s.st.Phases = append(s.st.Phases, Phase{name, d})
	if err == nil {
		s.log.Info("seed: phase done", "phase", name, "duration", d.Round(time.Millisecond))
	}
	return err
}

// plan lays out every district, two at a time.
func (s *seeder) plan(ctx context.Context, ds []*district, rivers []river) error {
	s.plans = make([]*plan, len(ds))
	done := s.prog.count("districts", len(ds))
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, d := range ds {
		g.Go(func() error {
			p, err := newPlan(d, rivers, s.opts.Seed)
			s.plans[i] = p
			done.done.Add(1)
			return err
		})
	}
	return g.Wait()
}

// eachDistrict runs fn for every plan, two at a time.
func (s *seeder) eachDistrict(ctx context.Context, fn func(context.Context, *plan) error) error {
	done := s.prog.count("districts", len(s.plans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, p := range s.plans {
		g.Go(func() error {
			err := fn(gctx, p)
			done.done.Add(1)
			return err
		})
	}
	return g.Wait()
}
