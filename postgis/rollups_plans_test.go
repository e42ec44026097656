package postgis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

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
	p = w.apply(t, p)
	t.Logf("merge %s into %s moves %+v, workers %+v", gone, into, p.Moves, p.Workers)
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
// move but by grids, that each of its grids gained and lost what the
// plan's moves say, and that together they hold what they held.
func (w *rollupWalk) planKeeps(t *testing.T, p postgis.PlanPreview, grids int64) {
	t.Helper()
	comm0 := w.counts(t, w.plan.community)
	// A grid the plan creates has no rollup rows yet: nothing before.
	before := map[string]map[string]int64{}
	for _, g := range p.Grids {
		before[g.Code] = without(w.countsIf(t, g.Code), "events_30d", "grids")
	}
	p = w.apply(t, p)
	t.Logf("%s moves %+v", p.Ops[0].Kind, p.Moves)
	wantDelta(t, "community", map[string]int64{"grids": grids}, comm0, w.counts(t, w.plan.community))
	var all []map[string]int64
	for _, g := range p.Grids {
		wantDelta(t, "grid "+g.Code+" ("+g.Action+")", moved(p, g.Code), totals(before[g.Code]), totals(w.counts(t, g.Code)))
		all = append(all, before[g.Code])
	}
	if diff := cmp.Diff(sum(all...), w.touched(t, p)); diff != "" {
		t.Errorf("the plan's grids together (-before +after):\n%s", diff)
	}
}

// split cuts an active grid in two: a new grid with its share of what
// stood there (the first grid whose split moves something).
func (w *rollupWalk) split(t *testing.T) {
	f := w.plan
	for _, code := range f.grids {
		if w.counts(t, code)["grids"] == 0 {
			continue // retired by the merge
		}
		p, err := f.create(t, geo.GridOp{Kind: geo.OpSplit, Grid: code, Line: f.splitLine(t, code)})
		if err != nil || len(p.Moves) == 0 {
			continue
		}
		w.planKeeps(t, p, 1)
		return
	}
	t.Fatal("no grid could be split with something moving")
}

// draw redraws a grid's outline, grown or shrunk by some metres, so
// that something standing near its edge changes grid.
func (w *rollupWalk) draw(t *testing.T) {
	f := w.plan
	for _, d := range []float64{0.0003, -0.0003, 0.0006} {
		for _, code := range f.grids {
			if w.counts(t, code)["grids"] == 0 {
				continue
			}
			p, err := f.create(t, geo.GridOp{Kind: geo.OpDraw, Grid: code, Boundary: f.ringAround(t, code, d)})
			if err != nil || len(p.Moves) == 0 {
				continue
			}
			w.planKeeps(t, p, 0)
			return
		}
	}
	t.Fatal("no grid could be redrawn with something moving")
}
