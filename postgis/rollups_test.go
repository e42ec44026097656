package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/data/importer"
	"github.com/wangge/wangge/geo"
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
	scope wangge.Scope // the district's: every write below happens in it
	// The city's rows are written from 60 days back, so the KPI window
	// and the 30-day figures hold the walk's events alone, whatever the
	// clock says.
	seededTo time.Time
	ev       map[string]wangge.Event // the walk's events by name
}

// walkEvent is an incident the walk reports: its category's default tier
// (migration 0002), written here rather than read back, and the grid (an
// index in the community's grids) it lies in.
type walkEvent struct {
	name, cat string
	tier      wangge.Tier
	grid      int
}

var walkEvents = []walkEvent{
	{"loop", "noise", wangge.TierGrid, 0},                // dispatched, arrives, resolved, closed, evaluated
	{"reopened", "sanitation", wangge.TierGrid, 1},       // resolved, closed, reopened, resolved
	{"rejected", "road_damage", wangge.TierStreet, 2},    // rejected
	{"top", "food_safety", wangge.TierDistrict, 3},       // stays open at the top tier
	{"duplicate", "illegal_parking", wangge.TierGrid, 0}, // a duplicate of "loop"
	{"flood", "flood_risk", wangge.TierStreet, 1},        // escalated once
	{"elderly", "elderly_care", wangge.TierGrid, 2},      // escalated twice
	{"tree", "tree_hazard", wangge.TierGrid, 3},          // sent three times with one Idempotency-Key; escalated twice
}

func newRollupWalk(t *testing.T) *rollupWalk {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.New(t)
	w := &rollupWalk{db: db, scope: wangge.ScopeOf("500103"), ev: map[string]wangge.Event{},
		seededTo: wangge.CityDay(time.Now()).AddDate(0, 0, -60)}
	opts := data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103"}, Now: w.seededTo}
	if _, err := data.Seed(ctx, db, opts, quietLog()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := &planFixture{db: db}
	// The community with the most grids and, among those, the most posts:
	// a merge below moves a post.
	err := db.Pool.QueryRow(ctx, `SELECT g.community_code FROM grids g WHERE g.status = 'active' GROUP BY 1
		ORDER BY count(*) DESC, (SELECT count(*) FROM posts p WHERE left(p.grid_code, 12) = g.community_code) DESC, 1
		LIMIT 1`).Scan(&f.community)
	if err != nil {
		t.Fatal(err)
	}
	f.planner = principal(t, db, wangge.RolePlanner, f.community[:9])
	f.approver = principal(t, db, wangge.RoleApprover, f.community[:6])
	rows, _ := db.Pool.Query(ctx, `SELECT code FROM grids WHERE community_code = $1 ORDER BY code`, f.community)
	for rows.Next() {
		var c string
		_ = rows.Scan(&c)
		f.grids = append(f.grids, c)
	}
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
	c := d.Counts
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
	w := newRollupWalk(t)
	t.Run("seed", w.seeded)
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
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

// report is a walkEvent as POST /events sends it to the store: located
// by the PostGIS locate, at a point inside its grid.
func (w *rollupWalk) report(t *testing.T, e walkEvent, key, hash string) postgis.NewEvent {
	t.Helper()
	ctx := context.Background()
	var lon, lat float64
	if err := w.db.Pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM grids, ST_PointOnSurface(geom) p WHERE code = $1`,
		w.plan.grids[e.grid]).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	grid, err := w.db.GridAt(ctx, lon, lat)
	if err != nil {
		t.Fatal(err)
	}
	return postgis.NewEvent{Category: e.cat, Source: "hotline_12345", GridCode: grid, Lon: lon, Lat: lat,
		Description: e.name, Reporter: "13800000000", IdemKey: key, IdemHash: hash, At: time.Now(), Actor: "commander"}
}

// intake: the walk's events at once through the group-commit writer, with
// a key sent three times and an unknown category in the same batches; then
// replays, which change nothing.
func (w *rollupWalk) intake(t *testing.T) {
	ctx := context.Background()
	kpi0, _ := w.kpi(t, "")
	district0, comm0, grid0 := w.counts(t, "500103"), w.counts(t, w.plan.community), w.counts(t, w.plan.grids[0])
	type answer struct {
		e       wangge.Event
		created bool
		err     error
	}
	var reqs []postgis.NewEvent
	for _, e := range walkEvents {
		if e.name == "tree" {
			for range 3 {
				reqs = append(reqs, w.report(t, e, "rollup-tree", "h1"))
			}
			continue
		}
		reqs = append(reqs, w.report(t, e, "", ""))
	}
	reqs = append(reqs, w.report(t, walkEvent{"ufo", "ufo", wangge.TierGrid, 4}, "", ""))
	answers := make([]answer, len(reqs))
	done := make(chan int)
	for i, r := range reqs {
		go func() {
			e, created, err := w.store.CreateEvent(ctx, w.scope, r)
			answers[i] = answer{e, created, err}
			done <- i
		}()
	}
	for range reqs {
		<-done
	}
	created := 0
	for i, a := range answers {
		name := reqs[i].Description
		switch {
		case name == "ufo":
			if !errors.Is(a.err, wangge.ErrInvalid) {
				t.Errorf("unknown category: %v", a.err)
			}
		case a.err != nil:
			t.Fatalf("%s: %v", name, a.err)
		case name == "tree" && w.ev["tree"].ID != 0 && w.ev["tree"].ID != a.e.ID:
			t.Errorf("tree: one key made events %d and %d", w.ev["tree"].ID, a.e.ID)
		default:
			w.ev[name] = a.e
		}
		if a.created {
			created++
		}
	}
	if created != len(walkEvents) {
		t.Fatalf("%d events created; want %d", created, len(walkEvents))
	}
	// A retry after the commit answers the first event; the key reused
	// for another request is a conflict. Neither writes anything.
	s := w.snapshot(t)
	tree := walkEvents[len(walkEvents)-1]
	if e, created, err := w.store.CreateEvent(ctx, w.scope, w.report(t, tree, "rollup-tree", "h1")); err != nil || created || e.ID != w.ev["tree"].ID {
		t.Errorf("replay: %d %v %v", e.ID, created, err)
	}
	if _, _, err := w.store.CreateEvent(ctx, w.scope, w.report(t, tree, "rollup-tree", "h2")); !errors.Is(err, wangge.ErrConflict) {
		t.Errorf("key reused for another request: %v", err)
	}
	w.unchanged(t, s, "a replay")

	want := map[string]int64{}
	for _, e := range walkEvents {
		bump(want, e.cat, e.tier, "reported", 1)
		bump(want, e.cat, e.tier, "open", 1)
	}
	kpi1, _ := w.kpi(t, "")
	wantDelta(t, "city KPI", want, kpi0, kpi1)
	n := int64(len(walkEvents))
	wantDelta(t, "district", map[string]int64{"open_events": n, "events_30d": n}, district0, w.counts(t, "500103"))
	wantDelta(t, "community", map[string]int64{"open_events": n, "events_30d": n}, comm0, w.counts(t, w.plan.community))
	wantDelta(t, "grid 0", map[string]int64{"open_events": 2, "events_30d": 2}, grid0, w.counts(t, w.plan.grids[0]))
}

// alarm: a smoke sensor's alarm makes a priority-1 event; its repeat
// joins it.
func (w *rollupWalk) alarm(t *testing.T) {
	ctx := context.Background()
	var device, grid string
	if err := w.db.Pool.QueryRow(ctx, `SELECT device_id, grid_code FROM objects WHERE category = 'smoke_sensor'
		AND device_id IS NOT NULL AND grid_code LIKE '500103%' ORDER BY left(grid_code, 12) = $1 DESC, id LIMIT 1`,
		w.plan.community).Scan(&device, &grid); err != nil {
		t.Fatal(err)
	}
	kpi0, _ := w.kpi(t, "")
	grid0 := w.counts(t, grid)
	a := postgis.Alarm{DeviceID: device, Window: 10 * time.Minute, At: time.Now(), Actor: "sensor-hub"}
	e, created, err := w.store.RaiseAlarm(ctx, w.scope, a)
	if err != nil || !created || e.Category != "fire_alarm" || e.Priority != 1 {
		t.Fatalf("alarm: %+v %v %v", e, created, err)
	}
	w.ev["alarm"] = e
	s := w.snapshot(t)
	a.At = time.Now()
	if again, created, err := w.store.RaiseAlarm(ctx, w.scope, a); err != nil || created || again.ID != e.ID {
		t.Errorf("repeat: %d %v %v", again.ID, created, err)
	}
	w.unchanged(t, s, "a repeated alarm")
	want := map[string]int64{}
	bump(want, "fire_alarm", wangge.TierGrid, "reported", 1)
	bump(want, "fire_alarm", wangge.TierGrid, "open", 1)
	kpi1, _ := w.kpi(t, "")
	wantDelta(t, "city KPI", want, kpi0, kpi1)
	wantDelta(t, "grid", map[string]int64{"open_events": 1, "events_30d": 1}, grid0, w.counts(t, grid))
}

// step moves the walk's event name by one workflow action.
func (w *rollupWalk) step(t *testing.T, name string, st wangge.Step, unit *int64) {
	t.Helper()
	if st.Actor == "" {
		st.Actor = "commander"
	}
	e, err := w.store.Transition(context.Background(), w.scope, postgis.TransitionReq{ID: w.ev[name].ID, Step: st, Unit: unit})
	if err != nil {
		t.Fatalf("%s %s: %v", name, st.Action, err)
	}
	w.ev[name] = e
}

// transitions walk the workflow's loop. Accept is not among them: intake
// accepts at once, so no event of the API is ever left reported.
func (w *rollupWalk) transitions(t *testing.T) {
	ctx := context.Background()
	var unit int64
	if err := w.db.Pool.QueryRow(ctx, `SELECT id FROM units WHERE kind = 'patrol' AND grid_code LIKE '500103%'
		ORDER BY id LIMIT 1`).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	kpi0, _ := w.kpi(t, "")
	district0 := w.counts(t, "500103")
	score, dup := int16(4), w.ev["loop"].ID
	w.step(t, "loop", wangge.Step{Action: wangge.ActDispatch, UnitID: &unit}, nil)
	w.step(t, "loop", wangge.Step{Action: wangge.ActArrive, Actor: "responder"}, &unit) // as its responder
	w.step(t, "loop", wangge.Step{Action: wangge.ActResolve, Actor: "responder"}, &unit)
	w.step(t, "loop", wangge.Step{Action: wangge.ActClose}, nil)
	w.step(t, "loop", wangge.Step{Action: wangge.ActEvaluate, Score: &score}, nil)
	for _, a := range []wangge.Action{wangge.ActResolve, wangge.ActClose, wangge.ActReopen, wangge.ActResolve} {
		w.step(t, "reopened", wangge.Step{Action: a}, nil)
	}
	w.step(t, "rejected", wangge.Step{Action: wangge.ActReject, Note: "not ours"}, nil)
	w.step(t, "duplicate", wangge.Step{Action: wangge.ActMarkDuplicate, DuplicateOf: &dup}, nil)
	w.step(t, "alarm", wangge.Step{Action: wangge.ActResolve}, nil) // the device goes back to normal
	s := w.snapshot(t)
	w.step(t, "top", wangge.Step{Action: wangge.ActNote, Note: "waiting for the district"}, nil)
	w.unchanged(t, s, "a note")

	want := map[string]int64{}
	for _, c := range []struct {
		name, cat string
		tier      wangge.Tier
		figures   []string
	}{
		{"loop", "noise", wangge.TierGrid, []string{"resolved", "closed", "evaluated"}},
		{"reopened", "sanitation", wangge.TierGrid, []string{"resolved"}},
		{"rejected", "road_damage", wangge.TierStreet, nil},
		{"duplicate", "illegal_parking", wangge.TierGrid, nil},
		{"alarm", "fire_alarm", wangge.TierGrid, []string{"resolved"}},
	} {
		bump(want, c.cat, c.tier, "open", -1)
		for _, f := range c.figures {
			bump(want, c.cat, c.tier, f, 1)
		}
	}
	kpi1, win := w.kpi(t, "")
	wantDelta(t, "city KPI", want, kpi0, kpi1)
	if win.All.Satisfaction == nil || *win.All.Satisfaction != 4 || win.All.MedianHandlingMinutes == nil {
		t.Errorf("satisfaction %v, median handling %v; want 4 and a median", win.All.Satisfaction, win.All.MedianHandlingMinutes)
	}
	district1 := w.counts(t, "500103")
	wantDelta(t, "district", map[string]int64{"open_events": -5}, district0, district1)
	// Closed: "loop" of the 9 reported, the rejected and the duplicate left out.
	d, err := w.db.Region(ctx, wangge.CityScope(), "500103", false)
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Counts.ClosureRate; r == nil || *r != 1.0/7 || d.Counts.AvgHandlingMinutes == nil {
		t.Errorf("district closure rate %v, handling %v; want 1/7 and a mean", r, d.Counts.AvgHandlingMinutes)
	}
	var status string
	_ = w.db.Pool.QueryRow(ctx, `SELECT status FROM objects WHERE id = $1`, *w.ev["alarm"].ObjectID).Scan(&status)
	if status != "normal" {
		t.Errorf("the alarm's device is %s after its event was resolved", status)
	}
}

// escalation: the deadline escalator, run as if a week and then a month
// had passed, moves the open events up one tier per pass.
func (w *rollupWalk) escalation(t *testing.T) {
	ctx := context.Background()
	passes := []struct {
		after time.Duration
		n     int
		moves []walkEvent // category and tier it leaves
	}{
		{8 * 24 * time.Hour, 3, []walkEvent{{"flood", "flood_risk", wangge.TierStreet, 0},
			{"elderly", "elderly_care", wangge.TierGrid, 0}, {"tree", "tree_hazard", wangge.TierGrid, 0}}},
		{30 * 24 * time.Hour, 2, []walkEvent{{"elderly", "elderly_care", wangge.TierStreet, 0},
			{"tree", "tree_hazard", wangge.TierStreet, 0}}},
		{60 * 24 * time.Hour, 0, nil}, // everything open is at the top
	}
	for _, p := range passes {
		kpi0, _ := w.kpi(t, "")
		n, ran, err := w.db.EscalateOverdue(ctx, time.Now().Add(p.after), 100)
		if err != nil || !ran || n != p.n {
			t.Fatalf("pass at +%v: %d escalated, ran %v, %v; want %d", p.after, n, ran, err, p.n)
		}
		want := map[string]int64{}
		for _, m := range p.moves {
			up, _ := wangge.NextTier(m.tier)
			for _, f := range []string{"reported", "open"} {
				bump(want, m.cat, m.tier, f, -1)
				bump(want, m.cat, up, f, 1)
			}
		}
		kpi1, _ := w.kpi(t, "")
		wantDelta(t, fmt.Sprintf("city KPI after the pass at +%v", p.after), want, kpi0, kpi1)
		w.verify(t)
	}
	for _, name := range []string{"flood", "elderly", "tree", "top"} {
		if e, err := w.store.Event(ctx, w.scope, w.ev[name].ID); err != nil || e.Tier != wangge.TierDistrict {
			t.Errorf("%s: tier %s, %v; want district", name, e.Tier, err)
		}
	}
}

// units: positions (the batched writer) and statuses move no figure.
func (w *rollupWalk) units(t *testing.T) {
	ctx := context.Background()
	var worker, patrol int64
	var lon, lat float64
	if err := w.db.Pool.QueryRow(ctx, `SELECT (SELECT id FROM units WHERE grid_code = $1 AND kind = 'grid_worker' LIMIT 1),
		(SELECT min(id) FROM units WHERE kind = 'patrol' AND grid_code LIKE '500103%'), ST_X(p), ST_Y(p)
		FROM grids, ST_PointOnSurface(geom) p WHERE code = $2`, w.plan.grids[0], w.plan.grids[1]).Scan(&worker, &patrol, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	s := w.snapshot(t)
	comm0 := w.counts(t, w.plan.community)
	uw := w.db.NewUnitWriter(quietLog(), time.Hour, 100)
	now := time.Now()
	uw.Enqueue(postgis.UnitUpdate{ID: patrol, Lon: lon, Lat: lat, At: now})
	uw.Enqueue(postgis.UnitUpdate{ID: worker, Lon: lon, Lat: lat, At: now, Status: geo.StatusOffDuty, StatusAt: now})
	if n, err := uw.Flush(ctx); err != nil || n != 2 || uw.Written() != 2 {
		t.Fatalf("positions: %d taken, %d written, %v", n, uw.Written(), err)
	}
	if _, err := w.db.SetUnitStatus(ctx, w.scope, postgis.StatusChange{ID: worker, Status: geo.StatusAvailable,
		At: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	w.unchanged(t, s, "unit positions and statuses")
	wantDelta(t, "community", nil, comm0, w.counts(t, w.plan.community))
}

// preview: a draft plan is previewed in a transaction rolled back.
func (w *rollupWalk) preview(t *testing.T) {
	s := w.snapshot(t)
	f := w.plan
	pr := f.pairs(t, true)[0]
	if _, err := f.create(t, geo.GridOp{Kind: geo.OpMerge, From: pr[1], To: pr[0]}); err != nil {
		t.Fatal(err)
	}
	w.unchanged(t, s, "a preview")
}

// apply applies a previewed plan as its approver.
func (w *rollupWalk) apply(t *testing.T, p postgis.PlanPreview) postgis.PlanPreview {
	t.Helper()
	applied, err := w.db.ApplyPlan(context.Background(), w.plan.approver.Scope(), p.PlanID, w.plan.approver, postgis.DefaultPlanRules)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return applied
}

// moved is what a plan's moves take into (+) and out of (−) grid code.
func moved(p postgis.PlanPreview, code string) map[string]int64 {
	m := map[string]int64{}
	for _, mv := range p.Moves {
		sign := int64(0)
		switch code {
		case mv.To:
			sign = 1
		case mv.From:
			sign = -1
		}
		m["buildings"] += sign * int64(mv.Buildings)
		m["households"] += sign * int64(mv.Households)
		m["residents"] += sign * int64(mv.Residents)
		m["objects"] += sign * int64(mv.Objects)
		m["posts"] += sign * int64(mv.Posts)
		m["open_events"] += sign * int64(mv.OpenEvents)
	}
	return nonzero(m)
}

// totals keeps the figures a plan's moves count, objects and posts summed.
func totals(c map[string]int64) map[string]int64 {
	m := map[string]int64{}
	for k, n := range c {
		switch {
		case strings.HasPrefix(k, "object:"):
			m["objects"] += n
		case strings.HasPrefix(k, "post:"):
			m["posts"] += n
		case k == "buildings", k == "households", k == "residents", k == "open_events":
			m[k] = n
		}
	}
	return m
}

// reassignRevert moves a parcel (one with people on it if any can go) to
// its neighbour, then reverts the neighbour: every figure comes back.
func (w *rollupWalk) reassignRevert(t *testing.T) {
	ctx := context.Background()
	f := w.plan
	// Parcels carrying residents on the edge with a neighbour of the
	// community first; the first that can go without breaking a rule.
	rows, err := w.db.Pool.Query(ctx, `SELECT p.id, p.grid_code, g.code FROM parcels p
		JOIN grids g ON g.community_code = p.community_code AND g.code <> p.grid_code AND g.status = 'active'
		WHERE p.community_code = $1
		AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 1
		ORDER BY (SELECT count(*) FROM residents r JOIN buildings b ON b.id = r.building_id WHERE b.parcel_id = p.id) DESC,
			p.id, g.code LIMIT 20`, f.community)
	if err != nil {
		t.Fatal(err)
	}
	type cand struct {
		Parcel   int64
		From, To string
	}
	cands, err := pgx.CollectRows(rows, pgx.RowToStructByPos[cand])
	if err != nil {
		t.Fatal(err)
	}
	var (
		p        postgis.PlanPreview
		from, to string
	)
	for _, c := range cands {
		if got, err := f.create(t, geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{c.Parcel}, To: c.To}); err == nil {
			p, from, to = got, c.From, c.To
			break
		}
	}
	if p.PlanID == 0 {
		t.Fatal("no parcel could be reassigned")
	}
	t.Logf("reassign %s → %s moves %+v", from, to, p.Moves)
	comm0, from0, to0 := w.counts(t, f.community), w.counts(t, from), w.counts(t, to)
	p = w.apply(t, p)
	wantDelta(t, "community", nil, comm0, w.counts(t, f.community))
	wantDelta(t, "grid "+to, moved(p, to), totals(to0), totals(w.counts(t, to)))
	wantDelta(t, "grid "+from, moved(p, from), totals(from0), totals(w.counts(t, from)))
	w.verify(t)

	if _, err := w.db.RevertGrid(ctx, f.approver.Scope(), to, 1, f.approver, "", postgis.DefaultPlanRules); err != nil {
		t.Fatalf("revert: %v", err)
	}
	for code, c0 := range map[string]map[string]int64{from: from0, to: to0, f.community: comm0} {
		if diff := cmp.Diff(c0, w.counts(t, code)); diff != "" {
			t.Errorf("%s after the revert (-before the plan +now):\n%s", code, diff)
		}
	}
}

// merge retires a grid holding a post into its neighbour: its people,
// objects, open events, post, grid worker and the post's unit (one with
// no grid of its own, which counts where its post stands) go along.
func (w *rollupWalk) merge(t *testing.T) {
	ctx := context.Background()
	f := w.plan
	var p postgis.PlanPreview
	var into, gone string
	for _, pr := range f.pairs(t, true) {
		for _, m := range [][2]string{{pr[0], pr[1]}, {pr[1], pr[0]}} {
			var posts int
			_ = w.db.Pool.QueryRow(ctx, `SELECT count(*) FROM posts WHERE grid_code = $1`, m[1]).Scan(&posts)
			if posts == 0 {
				continue
			}
			if got, err := f.create(t, geo.GridOp{Kind: geo.OpMerge, From: m[1], To: m[0]}); err == nil {
				p, into, gone = got, m[0], m[1]
				break
			}
		}
		if p.PlanID != 0 {
			break
		}
	}
	if p.PlanID == 0 {
		t.Fatal("no grid holding a post could be merged")
	}
	// No writer makes a unit without a grid (the seed gives every unit
	// one), yet the schema allows it and the rollups count it at its
	// post: a fixture row, so that the post's move carries it.
	if _, err := w.db.Pool.Exec(ctx, `INSERT INTO units (id, kind, name, post_id, position_at, geom)
		SELECT (SELECT max(id) + 1 FROM units), 'ambulance', 'rollup walk ambulance', p.id, now(), p.geom
		FROM posts p WHERE p.grid_code = $1 ORDER BY p.id LIMIT 1`, gone); err != nil {
		t.Fatal(err)
	}
	w.verify(t)
	comm0, into0, gone0 := w.counts(t, f.community), w.counts(t, into), w.counts(t, gone)
	if gone0["unit:ambulance"] == 0 || gone0["unit:grid_worker"] == 0 {
		t.Fatalf("grid %s before the merge: %v", gone, gone0)
	}
	w.apply(t, p)
	wantDelta(t, "community", map[string]int64{"grids": -1}, comm0, w.counts(t, f.community))
	// Closed events keep the retired grid's code; everything else joins.
	want := without(sum(into0, gone0, map[string]int64{"grids": -1}), "events_30d")
	if diff := cmp.Diff(want, without(w.counts(t, into), "events_30d")); diff != "" {
		t.Errorf("grid %s after taking in %s (-before, summed +after):\n%s", into, gone, diff)
	}
	if left := without(w.counts(t, gone), "events_30d"); len(left) != 0 {
		t.Errorf("retired grid %s still counts %v", gone, left)
	}
}

// touched sums the counts of a plan's grids, events_30d left out (closed
// events stay where they were reported) and grids counted separately.
func (w *rollupWalk) touched(t *testing.T, p postgis.PlanPreview) map[string]int64 {
	t.Helper()
	var cs []map[string]int64
	for _, g := range p.Grids {
		cs = append(cs, without(w.counts(t, g.Code), "events_30d", "grids"))
	}
	return sum(cs...)
}

// planKeeps applies p and checks that its community's figures did not
// move but by grids, and that its grids together hold what they held.
func (w *rollupWalk) planKeeps(t *testing.T, p postgis.PlanPreview, grids int64) {
	t.Helper()
	comm0 := w.counts(t, w.plan.community)
	// A grid the plan creates has no rollup rows yet: zero, as after.
	var before []map[string]int64
	for _, g := range p.Grids {
		if g.Action != "new" {
			before = append(before, without(w.counts(t, g.Code), "events_30d", "grids"))
		}
	}
	w.apply(t, p)
	wantDelta(t, "community", map[string]int64{"grids": grids}, comm0, w.counts(t, w.plan.community))
	if diff := cmp.Diff(sum(before...), w.touched(t, p)); diff != "" {
		t.Errorf("the plan's grids together (-before +after):\n%s", diff)
	}
}

// split cuts an active grid in two: a new grid with its share.
func (w *rollupWalk) split(t *testing.T) {
	f := w.plan
	for _, code := range f.grids {
		if w.counts(t, code)["grids"] == 0 {
			continue // retired by the merge
		}
		p, err := f.create(t, geo.GridOp{Kind: geo.OpSplit, Grid: code, Line: f.splitLine(t, code)})
		if err != nil {
			continue
		}
		w.planKeeps(t, p, 1)
		return
	}
	t.Fatal("no grid could be split")
}

// draw grows a grid by about 10 m into its neighbours.
func (w *rollupWalk) draw(t *testing.T) {
	f := w.plan
	for _, code := range f.grids {
		if w.counts(t, code)["grids"] == 0 {
			continue
		}
		p, err := f.create(t, geo.GridOp{Kind: geo.OpDraw, Grid: code, Boundary: f.ringAround(t, code, 0.0001)})
		if err != nil || len(p.Grids) < 2 {
			continue
		}
		w.planKeeps(t, p, 0)
		return
	}
	t.Fatal("no grid could be redrawn")
}

// importDoc is a FeatureCollection of features given as properties and
// geometry JSON.
func importDoc(fs ...[2]string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, f[0], f[1]))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(parts, ",") + `]}`
}

func box(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

func pt(x, y float64) string { return fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, x, y) }

// Imported: a district of its own away from the seeded one (two grids
// side by side), so its figures are the imports' alone.
const (
	impDistrict, impStreet, impCommunity = "500104", "500104001", "500104001001"
	impGrid1, impGrid2                   = "500104001001001", "500104001001002"
)

func (w *rollupWalk) load(t *testing.T, layer, doc string, replace bool) {
	t.Helper()
	if _, err := importer.Import(context.Background(), w.db, strings.NewReader(doc),
		importer.Options{Layer: layer, Replace: replace, Actor: "rollup walk"}); err != nil {
		t.Fatalf("import %s: %v", layer, err)
	}
}

// imports load every layer the importer takes, replace some rows (a post
// and a building moved to the other grid, a grid renamed), and have a
// bad file refused whole. There is no import undo to walk yet.
func (w *rollupWalk) imports(t *testing.T) {
	city0, yuzhong0 := w.counts(t, "500103"), w.kpiCity(t)
	steps := []struct {
		layer   string
		doc     string
		replace bool
		want    map[string]map[string]int64 // region → change
	}{
		{"districts", importDoc([2]string{`{"code":"500104","name":"大渡口区"}`, box(107.90, 30.90, 107.95, 30.95)}), false, nil},
		{"streets", importDoc([2]string{`{"code":"500104001","name":"测试街道"}`, box(107.90, 30.90, 107.95, 30.95)}), false, nil},
		{"communities", importDoc([2]string{`{"code":"500104001001","name":"测试社区"}`, box(107.90, 30.90, 107.94, 30.92)}), false, nil},
		{"grids", importDoc([2]string{`{"code":"500104001001001","name":"第一网格"}`, box(107.90, 30.90, 107.92, 30.92)},
			[2]string{`{"code":"500104001001002","name":"第二网格"}`, box(107.92, 30.90, 107.94, 30.92)}), false,
			map[string]map[string]int64{impDistrict: {"grids": 2}, impGrid1: {"grids": 1}, impGrid2: {"grids": 1}}},
		{"parcels", importDoc([2]string{`{"id":990001,"grid_code":"500104001001001","land_use":"residential"}`, box(107.90, 30.90, 107.92, 30.92)},
			[2]string{`{"id":990002,"grid_code":"500104001001002","land_use":"mixed"}`, box(107.92, 30.90, 107.94, 30.92)}), false, nil},
		{"buildings", importDoc(
			[2]string{`{"id":990001,"address":"测试路1号","use":"residential","floors":6,"households":40}`, box(107.901, 30.901, 107.902, 30.902)},
			[2]string{`{"id":990002,"address":"测试路2号","use":"office","floors":12}`, box(107.905, 30.905, 107.906, 30.906)},
			[2]string{`{"id":990003,"address":"测试路3号","use":"school","floors":3,"grid_code":"500104001001002"}`, box(107.925, 30.905, 107.926, 30.906)}), false,
			// households is the building's own figure; the rollups count households' rows.
			map[string]map[string]int64{impDistrict: {"buildings": 3}, impGrid1: {"buildings": 2}, impGrid2: {"buildings": 1}}},
		{"objects", importDoc(
			[2]string{`{"id":990001,"category":"hydrant","category_code":"0301"}`, pt(107.903, 30.903)},
			[2]string{`{"id":990002,"category":"smoke_sensor","category_code":"0512","device_id":"ROLLUP-SMK-1","building_id":990003}`, pt(107.9255, 30.9055)},
			[2]string{`{"id":990003,"category":"street_light","category_code":"0501","status":"fault"}`, pt(107.930, 30.910)}), false,
			map[string]map[string]int64{impDistrict: {"object:hydrant": 1, "object:smoke_sensor": 1, "object:street_light": 1},
				impGrid1: {"object:hydrant": 1}, impGrid2: {"object:smoke_sensor": 1, "object:street_light": 1}}},
		{"posts", importDoc(
			[2]string{`{"id":990001,"kind":"police","name":"测试派出所"}`, pt(107.904, 30.904)},
			[2]string{`{"id":990002,"kind":"community","name":"测试社区服务站"}`, pt(107.931, 30.911)}), false,
			map[string]map[string]int64{impDistrict: {"post:police": 1, "post:community": 1},
				impGrid1: {"post:police": 1}, impGrid2: {"post:community": 1}}},
		{"posts", importDoc([2]string{`{"id":990001,"kind":"police","name":"测试派出所","grid_code":"500104001001002"}`, pt(107.904, 30.904)}), true,
			map[string]map[string]int64{impGrid1: {"post:police": -1}, impGrid2: {"post:police": 1}}},
		{"buildings", importDoc([2]string{`{"id":990002,"address":"测试路2号","use":"office","floors":12,"grid_code":"500104001001002"}`,
			box(107.905, 30.905, 107.906, 30.906)}), true,
			map[string]map[string]int64{impGrid1: {"buildings": -1}, impGrid2: {"buildings": 1}}},
		{"grids", importDoc([2]string{`{"code":"500104001001001","name":"第一网格（改）"}`, box(107.90, 30.90, 107.92, 30.92)}), true, nil},
	}
	regions := []string{impDistrict, impStreet, impCommunity, impGrid1, impGrid2}
	for i, s := range steps {
		before := map[string]map[string]int64{}
		for _, r := range regions {
			before[r] = w.countsIf(t, r)
		}
		w.load(t, s.layer, s.doc, s.replace)
		w.verify(t)
		for _, r := range regions {
			want := s.want[r]
			if r == impStreet || r == impCommunity {
				want = s.want[impDistrict] // one street, one community: the district's change
			}
			wantDelta(t, fmt.Sprintf("import %d (%s): %s", i, s.layer, r), want, before[r], w.countsIf(t, r))
		}
	}
	// A file with one bad feature is refused whole.
	s := w.snapshot(t)
	_, err := importer.Import(context.Background(), w.db, strings.NewReader(importDoc(
		[2]string{`{"id":990010,"category":"hydrant","category_code":"0301"}`, pt(107.903, 30.903)},
		[2]string{`{"id":990011,"category":"hydrant","category_code":"0301","building_id":123456789}`, pt(107.904, 30.904)})),
		importer.Options{Layer: "objects"})
	if !errors.Is(err, wangge.ErrInvalid) {
		t.Errorf("bad file: %v", err)
	}
	w.unchanged(t, s, "a refused import")
	wantDelta(t, "Yuzhong", nil, city0, w.counts(t, "500103"))
	wantDelta(t, "city KPI", nil, yuzhong0, w.kpiCity(t))
}

func (w *rollupWalk) kpiCity(t *testing.T) map[string]int64 {
	t.Helper()
	m, _ := w.kpi(t, "")
	return m
}

// countsIf is counts, or none for a region not imported yet.
func (w *rollupWalk) countsIf(t *testing.T, code string) map[string]int64 {
	t.Helper()
	if _, err := w.db.Region(context.Background(), wangge.CityScope(), code, false); errors.Is(err, wangge.ErrNotFound) {
		return nil
	}
	return w.counts(t, code)
}

// bulkLoad: with the triggers off (a bulk load) an import leaves the
// rollups behind, VerifyRollups names exactly what drifted, and the
// rebuild puts it right; with them on again, imports are followed.
func (w *rollupWalk) bulkLoad(t *testing.T) {
	ctx := context.Background()
	if err := w.db.SetRollupTriggers(ctx, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.db.SetRollupTriggers(context.Background(), true) })
	w.load(t, "objects", importDoc([2]string{`{"id":990020,"category":"manhole","category_code":"0302"}`, pt(107.906, 30.906)}), false)
	drift, err := w.db.VerifyRollups(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	// What is stored lacks the new manhole at every level, the city's
	// (which has the seeded ones) included.
	got := map[string]int64{}
	for _, d := range drift {
		var have, want int64
		_, _ = fmt.Sscan(d.Have, &have) // "" (no row) stays 0
		_, _ = fmt.Sscan(d.Want, &want)
		got[d.Table+" "+d.Key] = want - have
	}
	want := map[string]int64{}
	for _, code := range []string{"", impDistrict, impStreet, impCommunity, impGrid1} {
		want["rollup_counts "+code+"/object:manhole"] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift with the triggers off (-want +got):\n%s", diff)
	}
	if err := w.db.RebuildRollups(ctx, quietLog()); err != nil {
		t.Fatal(err)
	}
	w.verify(t)
	if err := w.db.SetRollupTriggers(ctx, true); err != nil {
		t.Fatal(err)
	}
	before := w.counts(t, impGrid1)
	w.load(t, "objects", importDoc([2]string{`{"id":990021,"category":"manhole","category_code":"0302"}`, pt(107.907, 30.907)}), false)
	wantDelta(t, "grid after a load with the triggers on", map[string]int64{"object:manhole": 1}, before, w.counts(t, impGrid1))
}
