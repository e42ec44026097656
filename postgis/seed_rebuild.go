package postgis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// rebuildWorkers is how many statements of a rebuild run at once: the
// machine a seed targets has two cores.
const rebuildWorkers = 2

// Rebuild puts back what DropBulkIndexes dropped while the seed goes on
// loading: a table's keys and indexes are built as soon as its load is
// committed, then it is analyzed (the foreign-key checks plan with its
// statistics), then its foreign keys are validated once the tables they
// reference are analyzed too. Among the steps that may run, the one
// heading the longest chain of work goes first.
//
// Locks: an index build (SHARE) and a validation (SHARE UPDATE
// EXCLUSIVE) on one table exclude each other, and adding a key NOT VALID
// (SHARE ROW EXCLUSIVE on both tables) waits for both; the dependencies
// keep index builds away from tables whose keys are being added, and
// the adds run one at a time, so no two steps can wait for each other.
type Rebuild struct {
	db   *DB
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc

	mu     sync.Mutex
	wake   chan struct{} // a table was loaded or a step finished
	steps  []*step
	loaded map[string]int64 // rows per loaded table
	size   map[string]int64 // bytes per loaded table
	ran    map[string]bool  // statements done
	Done   []Step
	err    error
	wg     sync.WaitGroup
	adding sync.Mutex // foreign keys are added NOT VALID one at a time
	ddl    BulkDDL
}

// Step is one finished step of a rebuild.
type Step struct {
	Kind, Name, Table string
	Duration          time.Duration
}

type step struct {
	kind, name, table string
	sql               []string
	weight            float64 // cost per byte of the table
	after             []*step
	state             int // 0 waiting, 1 running, 2 done
}

// StartRebuild starts the rebuild of ddl; Loaded tells it which tables
// are complete, Wait waits for the end.
func (db *DB) StartRebuild(ctx context.Context, ddl BulkDDL, log *slog.Logger) *Rebuild {
	ctx, stop := context.WithCancel(ctx)
	r := &Rebuild{db: db, log: log, ctx: ctx, stop: stop, wake: make(chan struct{}, 1),
		loaded: map[string]int64{}, size: map[string]int64{}, ran: map[string]bool{}, ddl: ddl}
	byTable := map[string][]*step{}
	add := func(s *step) *step {
		r.steps = append(r.steps, s)
		byTable[s.table] = append(byTable[s.table], s)
		return s
	}
	for _, k := range ddl.Keys {
		add(&step{kind: "key", name: k.Name, table: k.Table, sql: []string{k.SQL}, weight: 1})
	}
	for _, ix := range ddl.Indexes {
		w := 1.0
		switch {
		case strings.Contains(ix.SQL, "USING gin"):
			w = 4
		case strings.Contains(ix.SQL, "USING gist"):
			w = 2
		}
		add(&step{kind: "index", name: ix.Name, table: ix.Table, sql: []string{ix.SQL}, weight: w})
	}
	analyzed := map[string]*step{}
	for _, t := range SeedTables {
		a := &step{kind: "analyze", name: t, table: t, sql: []string{"ANALYZE " + pgx.Identifier{t}.Sanitize()}, weight: 0.05}
		a.after = slices.Clone(byTable[t])
		analyzed[t] = add(a)
	}
	fks := map[string]*step{}
	for _, fk := range ddl.ForeignKeys {
		s := fks[fk.Table]
		if s == nil {
			s = add(&step{kind: "foreign keys", name: fk.Table, table: fk.Table, weight: 0})
			fks[fk.Table] = s
			if a := analyzed[fk.Table]; a != nil {
				s.after = append(s.after, a)
			}
		}
		s.sql = append(s.sql, fk.Add, fk.Validate)
		s.weight += 0.8
		if a := analyzed[fk.Parent]; a != nil && !slices.Contains(s.after, a) {
			s.after = append(s.after, a)
		}
	}
	for range rebuildWorkers {
		r.wg.Go(r.work)
	}
	return r
}

// Loaded tells the rebuild that tables hold all their rows.
func (r *Rebuild) Loaded(ctx context.Context, rows map[string]int64) {
	sizes := map[string]int64{}
	for t := range rows {
		var n int64
		if err := r.db.Pool.QueryRow(ctx, `SELECT pg_relation_size($1::regclass)`, t).Scan(&n); err == nil {
			sizes[t] = n
		}
	}
	r.mu.Lock()
	for t, n := range rows {
		r.loaded[t] = n
		r.size[t] = max(sizes[t], 8192)
	}
	r.mu.Unlock()
	r.poke()
}

func (r *Rebuild) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// ready tells whether s may start; r.mu is held.
func (r *Rebuild) ready(s *step) bool {
	if s.state != 0 {
		return false
	}
	if _, ok := r.loaded[s.table]; !ok && s.kind != "foreign keys" {
		return false
	}
	for _, a := range s.after {
		if a.state != 2 {
			return false
		}
	}
	return true
}

// rank is the cost of s and of the longest chain of steps waiting for it.
func (r *Rebuild) rank(s *step, memo map[*step]float64) float64 {
	if v, ok := memo[s]; ok {
		return v
	}
	var tail float64
	for _, o := range r.steps {
		if slices.Contains(o.after, s) {
			tail = max(tail, r.rank(o, memo))
		}
	}
	v := s.weight*float64(r.size[s.table]) + tail
	memo[s] = v
	return v
}

// next picks the ready step heading the longest chain, or nil.
func (r *Rebuild) next() *step {
	memo := map[*step]float64{}
	var best *step
	for _, s := range r.steps {
		if r.ready(s) && (best == nil || r.rank(s, memo) > r.rank(best, memo)) {
			best = s
		}
	}
	return best
}

// Progress is how many of the steps are done.
func (r *Rebuild) Progress() (done, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.steps {
		if s.state == 2 {
			done++
		}
	}
	return done, len(r.steps)
}

func (r *Rebuild) finished() bool {
	for _, s := range r.steps {
		if s.state != 2 {
			return false
		}
	}
	return true
}

func (r *Rebuild) work() {
	c, err := r.db.conn(r.ctx)
	if err == nil {
		err = sessionForRebuild(r.ctx, c)
	}
	if err != nil {
		r.fail(err)
		return
	}
	defer c.Close(context.WithoutCancel(r.ctx))
	for {
		r.mu.Lock()
		var s *step
		for {
			if r.err != nil || r.finished() {
				r.mu.Unlock()
				r.poke() // pass the news on to the other worker
				return
			}
			if s = r.next(); s != nil {
				break
			}
			r.mu.Unlock()
			select {
			case <-r.wake:
			case <-r.ctx.Done():
				r.fail(r.ctx.Err())
				return
			}
			r.mu.Lock()
		}
		s.state = 1
		rows := r.loaded[s.table]
		r.mu.Unlock()
		r.poke() // another step may be ready for the other worker

		t0 := time.Now()
		err := r.run(c, s)
		d := time.Since(t0)
		r.mu.Lock()
		if err != nil {
			r.mu.Unlock()
			r.fail(fmt.Errorf("postgis: %s %s: %w", s.kind, s.name, err))
			return
		}
		s.state = 2
		r.Done = append(r.Done, Step{s.kind, s.name, s.table, d})
		n := 0
		for _, o := range r.steps {
			if o.state == 2 {
				n++
			}
		}
		r.mu.Unlock()
		r.log.Info("seed: rebuilt", "step", s.kind, "name", s.name, "table", s.table, "duration", d.Round(time.Millisecond),
			"rows", rows, "rows_per_s", int64(float64(rows)/max(d.Seconds(), 1e-3)), "done", fmt.Sprintf("%d/%d", n, len(r.steps)))
		r.poke()
	}
}

func (r *Rebuild) run(c *pgx.Conn, s *step) error {
	for _, q := range s.sql {
		if strings.HasSuffix(q, " NOT VALID") {
			r.adding.Lock()
			_, err := c.Exec(r.ctx, q)
			r.adding.Unlock()
			if err != nil {
				return err
			}
		} else if err := r.db.execWatched(r.ctx, c, r.log, s.kind+" "+s.name, q); err != nil {
			return err
		}
		r.mu.Lock()
		r.ran[q] = true
		r.mu.Unlock()
	}
	return nil
}

func (r *Rebuild) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.stop()
	r.poke()
}

// Wait returns once every step ran, or the first error; then it turns
// the tables' autovacuum back on.
func (r *Rebuild) Wait() error {
	r.wg.Wait()
	r.stop()
	if r.err != nil {
		return r.err
	}
	for _, t := range r.ddl.Autovacuum {
		if _, err := r.db.Pool.Exec(context.WithoutCancel(r.ctx), "ALTER TABLE "+pgx.Identifier{t}.Sanitize()+" RESET (autovacuum_enabled)"); err != nil {
			return fmt.Errorf("postgis: autovacuum of %s back on: %w", t, err)
		}
	}
	return nil
}

// Abandon stops the rebuild after a failed load and puts back, one
// statement at a time, whatever is still missing.
func (r *Rebuild) Abandon(ctx context.Context) error {
	r.fail(errors.New("postgis: rebuild abandoned"))
	r.wg.Wait()
	return r.db.RestoreBulkIndexes(ctx, r.ddl, r.log)
}

// sessionForRebuild gives index builds and key checks room: sorts and
// the hash tables of foreign-key checks (which take maintenance_work_mem
// as their work_mem) stay in memory, and no JIT compiles what runs once.
func sessionForRebuild(ctx context.Context, c *pgx.Conn) error {
	_, err := c.Exec(ctx, `SELECT set_config('maintenance_work_mem', '1GB', false)
		WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('1GB');
		SET jit = off`)
	if err != nil {
		return fmt.Errorf("postgis: rebuild session: %w", err)
	}
	return nil
}
