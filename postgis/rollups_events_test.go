package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

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
	w.kpiAgree(t)
}

// alarm: a smoke sensor's alarm makes a priority-1 event; its repeat
// joins it.
func (w *rollupWalk) alarm(t *testing.T) {
	ctx := context.Background()
	var device, grid string
	if err := w.db.Pool.QueryRow(ctx, `SELECT device_id, grid_code FROM objects WHERE category = 'smoke_sensor'
		AND device_id IS NOT NULL AND left(grid_code, 9) = $1 ORDER BY left(grid_code, 12) = $2 DESC, id LIMIT 1`,
		w.plan.community[:9], w.plan.community).Scan(&device, &grid); err != nil {
		t.Fatalf("a smoke sensor in street %s: %v", w.plan.community[:9], err)
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
	w.kpiAgree(t)
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
		t.Errorf("satisfaction %v, median handling %v; want 4 and a median", deref(win.All.Satisfaction), deref(win.All.MedianHandlingMinutes))
	}
	district1 := w.counts(t, "500103")
	wantDelta(t, "district", map[string]int64{"open_events": -5}, district0, district1)
	// Closed: "loop" of the 9 reported, the rejected and the duplicate left out.
	d, err := w.db.Region(ctx, wangge.CityScope(), "500103", false)
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Counts.ClosureRate; r == nil || *r != 1.0/7 || d.Counts.AvgHandlingMinutes == nil {
		t.Errorf("district closure rate %v, handling %v; want 1/7 and a mean", deref(r), deref(d.Counts.AvgHandlingMinutes))
	}
	var status string
	_ = w.db.Pool.QueryRow(ctx, `SELECT status FROM objects WHERE id = $1`, *w.ev["alarm"].ObjectID).Scan(&status)
	if status != "normal" {
		t.Errorf("the alarm's device is %s after its event was resolved", status)
	}
	w.kpiAgree(t)
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
		w.kpiAgree(t)
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
