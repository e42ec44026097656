package postgis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// rollupWalk drives every writer of the rollups (migration 0014) through
// the store methods the API calls, on a small seeded city, and after each
// step holds the rollups to their recomputation from the base tables and
// the figures read from them to what the step did.
type rollupWalk struct {
	db    *postgis.DB
	plan  *planFixture // the community the events and plans work in
	store postgis.IntakeEvents
	scope wangge.Scope            // the district's, as its commander and its sensor hub have
	ev    map[string]wangge.Event // the walk's events by name
}

func newRollupWalk(t *testing.T) *rollupWalk {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.New(t)
	w := &rollupWalk{db: db, scope: wangge.ScopeOf("500103"), ev: map[string]wangge.Event{}}
	// The seeded events end 60 days back, so the KPI window and the
	// 30-day figures hold the walk's events alone, whatever the clock says.
	opts := data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103"},
		Now: wangge.CityDay(time.Now()).AddDate(0, 0, -60)}
	if _, err := data.Seed(ctx, db, opts, quietLog()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	// The community with the most grids and, among those, the most posts:
	// a merge below moves a post.
	f := planFixtureAt(t, db, `SELECT g.community_code FROM grids g WHERE g.status = 'active' GROUP BY 1
		ORDER BY count(*) DESC, (SELECT count(*) FROM posts p WHERE left(p.grid_code, 12) = g.community_code) DESC, 1
		LIMIT 1`)
	if len(f.grids) < 5 {
		t.Fatalf("community %s has %d grids; the walk needs 5", f.community, len(f.grids))
	}
	w.plan = f
	ew := db.NewEventWriter(quietLog(), 2, 64)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ew.Run(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// As serve wires it (cmd/wangge/serve.go), one database for both pools.
	w.store = postgis.IntakeEvents{Reads: db, Intake: db, Writer: ew}
	return w
}

// verify fails the test with every drifting row when a rollup differs
// from its recomputation from the base tables.
func (w *rollupWalk) verify(t *testing.T) {
	t.Helper()
	drift, err := w.db.VerifyRollups(context.Background(), 50)
	if err != nil {
		t.Fatalf("verify rollups: %v", err)
	}
	for _, d := range drift {
		t.Errorf("drift: %s", d)
	}
}

// snapshot is every rollup row as text: a step that changes no figure
// leaves it equal, byte for byte.
func (w *rollupWalk) snapshot(t *testing.T) map[string]string {
	t.Helper()
	rows, err := w.db.Pool.Query(context.Background(), `
		SELECT 'c/' || code || '/' || key, n::text FROM rollup_counts
		UNION ALL
		SELECT format('e/%s/%s/%s/%s', code, day, tier, category), format('%s %s %s %s %s %s %s %s %s',
			reported, resolved, closed, excluded, evaluated, score_sum, closed_n, closed_minutes, hist) FROM event_rollups`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if len(out) == 0 {
		t.Fatal("no rollup rows at all")
	}
	return out
}

// unchanged fails when the rollups differ from snapshot s.
func (w *rollupWalk) unchanged(t *testing.T, s map[string]string, what string) {
	t.Helper()
	if diff := cmp.Diff(s, w.snapshot(t)); diff != "" {
		t.Errorf("%s changed the rollups (-before +after):\n%s", what, diff)
	}
}

// counts is a region's Counts as the drill-down reads them (GET
// /regions/{code}), flattened: every figure by name, zeros left out.
func (w *rollupWalk) counts(t *testing.T, code string) map[string]int64 {
	t.Helper()
	d, err := w.db.Region(context.Background(), wangge.CityScope(), code, false)
	if err != nil {
		t.Fatalf("region %s: %v", code, err)
	}
	return flatCounts(d.Counts)
}

// countsIf is counts, or none for a region or grid not made yet.
func (w *rollupWalk) countsIf(t *testing.T, code string) map[string]int64 {
	t.Helper()
	d, err := w.db.Region(context.Background(), wangge.CityScope(), code, false)
	if errors.Is(err, wangge.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("region %s: %v", code, err)
	}
	return flatCounts(d.Counts)
}

// flatCounts is every figure of c by name, zeros left out.
func flatCounts(c *postgis.Counts) map[string]int64 {
	m := map[string]int64{"residents": c.Residents, "households": c.Households, "buildings": c.Buildings,
		"grids": c.Grids, "open_events": c.OpenEvents, "events_30d": c.Events30d, "overdue": c.Overdue}
	for prefix, by := range map[string]map[string]int64{"tag:": c.ResidentsByTag, "object:": c.ObjectsByCategory,
		"post:": c.PostsByKind, "unit:": c.UnitsByKind} {
		for k, n := range by {
			m[prefix+k] = n
		}
	}
	return nonzero(m)
}

// kpi is a region's 7-day window as GET /kpi computes it, flattened:
// overall, "tier:T:" and "cat:C:" figures, zeros left out.
func (w *rollupWalk) kpi(t *testing.T, region string) (map[string]int64, postgis.KPIPeriod) {
	t.Helper()
	now := time.Now()
	today := wangge.CityDay(now)
	win, _, err := w.db.KPI(context.Background(), wangge.CityScope(), region, today.AddDate(0, 0, -6), today, now)
	if err != nil {
		t.Fatalf("kpi %q: %v", region, err)
	}
	m := map[string]int64{}
	add := func(prefix string, f postgis.KPIFigures) {
		for k, n := range map[string]int64{"reported": f.Reported, "resolved": f.Resolved, "closed": f.Closed,
			"evaluated": f.Evaluated, "open": f.Open, "overdue": f.Overdue} {
			m[prefix+k] += n
		}
	}
	add("", win.All)
	for k, f := range win.ByTier {
		add("tier:"+k+":", f)
	}
	for k, f := range win.ByCategory {
		add("cat:"+k+":", f)
	}
	return nonzero(m), win
}

// kpiAgree: the district's KPI, read from the day rollups, equals its
// street's, counted from the events themselves (every event of the walk
// lies in that street; the median, an estimate from the rollups'
// histogram, is left out).
func (w *rollupWalk) kpiAgree(t *testing.T) {
	t.Helper()
	district, _ := w.kpi(t, "500103")
	street, _ := w.kpi(t, w.plan.community[:9])
	if diff := cmp.Diff(street, district); diff != "" {
		t.Errorf("KPI of the district from its rollups (+) and of its street from the events (-) differ:\n%s", diff)
	}
}

// deref shows a figure that may be null.
func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func nonzero(m map[string]int64) map[string]int64 {
	for k, n := range m {
		if n == 0 {
			delete(m, k)
		}
	}
	return m
}

// delta is after − before, zeros left out.
func delta(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, n := range after {
		d[k] += n
	}
	for k, n := range before {
		d[k] -= n
	}
	return nonzero(d)
}

// sum adds figure maps, zeros left out.
func sum(ms ...map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range ms {
		for k, n := range m {
			out[k] += n
		}
	}
	return nonzero(out)
}

// without drops keys (figures a comparison cannot predict).
func without(m map[string]int64, keys ...string) map[string]int64 {
	out := map[string]int64{}
	for k, n := range m {
		out[k] = n
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// bump adds n to figure of an event of cat at tier, as the KPI reports
// it: overall, by tier and by category.
func bump(m map[string]int64, cat string, tier wangge.Tier, figure string, n int64) {
	m[figure] += n
	m["tier:"+string(tier)+":"+figure] += n
	m["cat:"+cat+":"+figure] += n
}

func wantDelta(t *testing.T, what string, want, before, after map[string]int64) {
	t.Helper()
	if diff := cmp.Diff(nonzero(want), delta(before, after), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: change (-want +got):\n%s", what, diff)
	}
}

// TestRollupsFollowEveryWriter is issue #17's must-show: after intake,
// alarms, every transition, escalations, unit moves, plan previews,
// applies and a revert, and imports of every layer, each rollup equals its
// recomputation from the base tables, and the drill-down's and the KPI's
// figures moved by exactly what the step did. Imports have no undo yet;
// the revert and the reopen are the walk's undos.
func TestRollupsFollowEveryWriter(t *testing.T) {
	t0 := time.Now()
	w := newRollupWalk(t)
	t.Logf("city seeded in %v", time.Since(t0).Round(time.Millisecond))
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"seed", w.seeded},
		{"intake", w.intake},
		{"alarm", w.alarm},
		{"transitions", w.transitions},
		{"escalation", w.escalation},
		{"units", w.units},
		{"preview", w.preview},
		{"reassign and revert", w.reassignRevert},
		{"merge", w.merge},
		{"split", w.split},
		{"draw", w.draw},
		{"import", w.imports},
		{"bulk load", w.bulkLoad},
	}
	for _, s := range steps {
		// Each step builds on the last: stop at the first that fails.
		if !t.Run(s.name, func(t *testing.T) { s.run(t); w.verify(t) }) {
			t.FailNow()
		}
	}
}

// seeded: the seed (COPY, through the triggers) left no drift, nothing
// open and nothing in the KPI window, which the steps' figures assume.
func (w *rollupWalk) seeded(t *testing.T) {
	w.verify(t)
	if k, _ := w.kpi(t, ""); len(k) != 0 {
		t.Fatalf("the seeded city has figures in the KPI window: %v", k)
	}
	open, err := w.db.Events(context.Background(), wangge.CityScope(), postgis.EventQuery{
		Statuses: []wangge.Status{wangge.StatusReported, wangge.StatusAccepted, wangge.StatusDispatched, wangge.StatusOnSite}, Limit: 10})
	if err != nil || len(open) != 0 {
		t.Fatalf("open seeded events: %d %v", len(open), err)
	}
	c := w.counts(t, w.plan.community)
	if c["residents"] == 0 || c["grids"] < 5 || c["unit:grid_worker"] == 0 {
		t.Fatalf("community %s: %v", w.plan.community, c)
	}
}
