package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// planCity is the core district alone: grid edits stay inside a community.
var planCity = data.Options{Scale: 0.05, Seed: 42, Districts: []string{"500103"},
	Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}

// planFixture is a seeded city and a community with at least four grids,
// one open event standing in each grid.
type planFixture struct {
	db        *postgis.DB
	community string
	grids     []string
	// planner drafts (its street), approver applies (its district, the
	// street's parent): four eyes.
	planner, approver wangge.Principal
}

// principal creates an account and returns it as its credential would.
func principal(t *testing.T, db *postgis.DB, role wangge.Role, region string) wangge.Principal {
	t.Helper()
	u, err := db.CreateUser(context.Background(), postgis.NewUser{Name: fmt.Sprintf("%s-%d", role, time.Now().UnixNano()),
		Role: role, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	return wangge.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Region: u.Region}
}

// planFixtureAt is a plan fixture on the community the query picks: its
// planner (street level), approver (district level) and grids.
func planFixtureAt(t *testing.T, db *postgis.DB, pick string) *planFixture {
	t.Helper()
	ctx := context.Background()
	f := &planFixture{db: db}
	if err := db.Pool.QueryRow(ctx, pick).Scan(&f.community); err != nil {
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
	return f
}

func newPlanFixture(t *testing.T) *planFixture {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.New(t)
	if _, err := data.Seed(ctx, db, planCity, quietLog()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := planFixtureAt(t, db, `SELECT community_code FROM grids WHERE status = 'active'
		GROUP BY 1 HAVING count(*) >= 4 ORDER BY count(*) DESC, 1 LIMIT 1`)
	// Seeded events are all closed: reopen one per grid, on a building.
	_, err := db.Pool.Exec(ctx, `WITH pick AS (
			SELECT DISTINCT ON (b.grid_code) b.grid_code, ST_PointOnSurface(b.geom) pt, e.id
			FROM buildings b, LATERAL (SELECT id FROM events ORDER BY id OFFSET (b.id % 50) LIMIT 1) e
			WHERE b.grid_code LIKE $1 || '%' ORDER BY b.grid_code, b.id)
		UPDATE events e SET status = 'reported', closed_at = NULL, resolved_at = NULL, satisfaction = NULL,
			unit_id = NULL, dispatched_at = NULL, duplicate_of = NULL, grid_code = pick.grid_code, geom = pick.pt
		FROM pick WHERE e.id = pick.id`, f.community)
	if err != nil {
		t.Fatal(err)
	}
	// And a street light on every parcel, so that every parcel moved
	// moves an object.
	_, err = db.Pool.Exec(ctx, `INSERT INTO objects (id, category, category_code, grid_code, geom)
		SELECT (SELECT max(id) FROM objects) + row_number() OVER (ORDER BY p.id), 'street_light', '0501', p.grid_code,
			ST_PointOnSurface(p.geom)
		FROM parcels p WHERE p.community_code = $1`, f.community)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// union is the community's area covered by active grids, as EWKB.
func (f *planFixture) union(t *testing.T) []byte {
	t.Helper()
	var b []byte
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT ST_AsEWKB(ST_Union(geom)) FROM grids
		WHERE community_code = $1 AND status = 'active'`, f.community).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkPartition asserts the invariants of a grid edit: the community's
// union unchanged (< 1 m²), no overlaps, each grid the union of its
// parcels, every building (and its people) in exactly one grid, the one
// its parcel is in, and the stored counts equal to the buildings'.
func (f *planFixture) checkPartition(t *testing.T, before []byte) {
	t.Helper()
	ctx := context.Background()
	var diff float64
	if err := f.db.Pool.QueryRow(ctx, `SELECT ST_Area(ST_SymDifference(ST_Union(geom), ST_GeomFromEWKB($2))::geography)
		FROM grids WHERE community_code = $1 AND status = 'active'`, f.community, before).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff >= 1 {
		t.Errorf("community union changed by %.3f m²", diff)
	}
	checks := []struct{ name, sql string }{
		{"overlapping grid pairs", `SELECT count(*) FROM grids a JOIN grids b ON a.code < b.code AND a.geom && b.geom
			WHERE a.community_code = $1 AND b.community_code = $1 AND a.status = 'active' AND b.status = 'active'
			AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01`},
		{"grids not the union of their parcels", `SELECT count(*) FROM grids g WHERE g.community_code = $1 AND g.status = 'active'
			AND ST_Area(ST_SymDifference(g.geom, (SELECT ST_Union(p.geom) FROM parcels p WHERE p.grid_code = g.code))::geography) > 0.01`},
		{"parcels in retired grids", `SELECT count(*) FROM parcels p JOIN grids g ON g.code = p.grid_code
			WHERE p.community_code = $1 AND g.status <> 'active'`},
		{"buildings not in their parcel's grid", `SELECT count(*) FROM buildings b JOIN parcels p ON p.id = b.parcel_id
			WHERE p.community_code = $1 AND b.grid_code <> p.grid_code`},
		{"buildings not in exactly one grid", `SELECT count(*) FROM buildings b WHERE b.grid_code LIKE $1 || '%'
			AND (SELECT count(*) FROM grids g WHERE g.status = 'active' AND ST_Intersects(g.geom, ST_PointOnSurface(b.geom))) <> 1`},
		{"households off their building's grid", `SELECT count(*) FROM households h JOIN buildings b ON b.id = h.building_id
			WHERE b.grid_code LIKE $1 || '%' AND h.grid_code <> b.grid_code`},
		{"residents off their building's grid", `SELECT count(*) FROM residents r JOIN buildings b ON b.id = r.building_id
			WHERE b.grid_code LIKE $1 || '%' AND r.grid_code <> b.grid_code`},
		{"grids with stale counts", `SELECT count(*) FROM grids g WHERE g.community_code = $1 AND g.status = 'active'
			AND g.households <> (SELECT coalesce(sum(households), 0) FROM buildings b WHERE b.grid_code = g.code)`},
		{"open events off their grid", `SELECT count(*) FROM events e WHERE e.grid_code LIKE $1 || '%'
			AND e.status IN ('reported', 'accepted', 'dispatched', 'on_site')
			AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = e.grid_code AND g.status = 'active' AND ST_Intersects(g.geom, e.geom))`},
		{"objects off their grid", `SELECT count(*) FROM objects o WHERE o.grid_code LIKE $1 || '%' AND o.building_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = o.grid_code AND g.status = 'active' AND ST_Intersects(g.geom, o.geom))`},
		{"objects off their building's grid", `SELECT count(*) FROM objects o JOIN buildings b ON b.id = o.building_id
			WHERE o.grid_code LIKE $1 || '%' AND o.grid_code <> b.grid_code`},
		{"grids in more than one piece", `SELECT count(*) FROM grids WHERE community_code = $1 AND status = 'active'
			AND ST_NumGeometries(geom) > 1`},
	}
	for _, c := range checks {
		var n int
		if err := f.db.Pool.QueryRow(ctx, c.sql, f.community).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.name)
		}
	}
}

// checkCounts asserts that the preview's households per grid and moves are
// what the apply left in the database.
func (f *planFixture) checkCounts(t *testing.T, p postgis.PlanPreview, buildingsBefore map[string]int) {
	t.Helper()
	ctx := context.Background()
	for _, g := range p.Grids {
		var h, r int
		var status string
		if err := f.db.Pool.QueryRow(ctx, `SELECT households, residents, status FROM grids WHERE code = $1`, g.Code).
			Scan(&h, &r, &status); err != nil {
			t.Fatal(err)
		}
		if g.Action == "retired" {
			if status != "retired" || h != 0 {
				t.Errorf("grid %s: status %s with %d households, want retired and 0", g.Code, status, h)
			}
			continue
		}
		if h != g.Households.After || r != g.Residents.After {
			t.Errorf("grid %s: households/residents after apply %d/%d, preview said %d/%d", g.Code, h, r,
				g.Households.After, g.Residents.After)
		}
	}
	after := f.buildingsPerGrid(t)
	net := map[string]int{}
	for _, m := range p.Moves {
		net[m.From] -= m.Buildings
		net[m.To] += m.Buildings
	}
	for code, n := range after {
		if n-buildingsBefore[code] != net[code] {
			t.Errorf("grid %s: %d → %d buildings, preview moves say %+d", code, buildingsBefore[code], n, net[code])
		}
	}
}

func (f *planFixture) buildingsPerGrid(t *testing.T) map[string]int {
	t.Helper()
	rows, err := f.db.Pool.Query(context.Background(), `SELECT grid_code, count(*) FROM buildings
		WHERE grid_code LIKE $1 || '%' GROUP BY 1`, f.community)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		_ = rows.Scan(&c, &n)
		out[c] = n
	}
	return out
}

// edgeParcels lists parcels of grid from that share an edge with grid to,
// those carrying a building first.
func (f *planFixture) edgeParcels(t *testing.T, from, to string) []int64 {
	t.Helper()
	rows, err := f.db.Pool.Query(context.Background(), `SELECT p.id FROM parcels p, grids g
		WHERE p.grid_code = $1 AND g.code = $2
		AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 1
		ORDER BY EXISTS (SELECT 1 FROM buildings b WHERE b.parcel_id = p.id) DESC, p.id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// adjacent lists pairs of grids of the community sharing an edge.
func (f *planFixture) pairs(t *testing.T, adjacent bool) [][2]string {
	t.Helper()
	op := `>`
	if !adjacent {
		op = `<`
	}
	rows, err := f.db.Pool.Query(context.Background(), `SELECT a.code, b.code FROM grids a JOIN grids b ON a.code < b.code
		WHERE a.community_code = $1 AND b.community_code = $1 AND a.status = 'active' AND b.status = 'active'
		AND coalesce(ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography), 0) `+op+` 1
		ORDER BY 1, 2`, f.community)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for rows.Next() {
		var a, b string
		_ = rows.Scan(&a, &b)
		out = append(out, [2]string{a, b})
	}
	return out
}

func (f *planFixture) create(t *testing.T, ops ...geo.GridOp) (postgis.PlanPreview, error) {
	t.Helper()
	return f.db.CreatePlan(context.Background(), f.planner.Scope(), postgis.PlanRequest{Ops: ops, Reason: "test", By: f.planner}, postgis.DefaultPlanRules)
}

// applyChecked previews ops, applies them and checks every invariant.
func (f *planFixture) applyChecked(t *testing.T, ops ...geo.GridOp) postgis.PlanPreview {
	t.Helper()
	before, bb := f.union(t), f.buildingsPerGrid(t)
	p, err := f.create(t, ops...)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	// The preview changed nothing.
	f.checkCounts(t, postgis.PlanPreview{}, bb)
	applied, err := f.db.ApplyPlan(context.Background(), f.approver.Scope(), p.PlanID, f.approver, postgis.DefaultPlanRules)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	f.checkPartition(t, before)
	f.checkCounts(t, p, bb)
	if diff := cmp.Diff(p.Moves, applied.Moves); diff != "" {
		t.Errorf("moves: preview (-) and apply (+) differ:\n%s", diff)
	}
	if diff := cmp.Diff(p.Workers, applied.Workers); diff != "" {
		t.Errorf("workers: preview (-) and apply (+) differ:\n%s", diff)
	}
	return p
}

func TestPlanReassign(t *testing.T) {
	f := newPlanFixture(t)
	var p postgis.PlanPreview
	found := false
	for _, pr := range f.pairs(t, true) {
		for _, id := range f.edgeParcels(t, pr[0], pr[1]) {
			op := geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{id}, To: pr[1]}
			if _, err := f.create(t, op); err != nil {
				continue // that parcel holds its grid together
			}
			p = f.applyChecked(t, op)
			found = true
			break
		}
		if found {
			break
		}
	}
	if !found {
		t.Fatal("no parcel could be reassigned")
	}
	if len(p.Grids) != 2 || p.Grids[0].Parcels.After+p.Grids[1].Parcels.After != p.Grids[0].Parcels.Before+p.Grids[1].Parcels.Before {
		t.Errorf("preview grids %+v", p.Grids)
	}
	for _, g := range p.Grids {
		if g.Band != geo.UrbanBand && g.Band != geo.RuralBand || g.BandAfter == "" || len(g.Geometry) < 10 {
			t.Errorf("grid %s: band %v %q, geometry %q", g.Code, g.Band, g.BandAfter, g.Geometry)
		}
	}
	var n int
	_ = f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM grid_versions WHERE plan_id = $1`, p.PlanID).Scan(&n)
	if n != 2 {
		t.Errorf("%d history rows for the plan, want 2", n)
	}
}

func TestPlanMerge(t *testing.T) {
	f := newPlanFixture(t)
	pr := f.pairs(t, true)[0]
	p := f.applyChecked(t, geo.GridOp{Kind: geo.OpMerge, From: pr[1], To: pr[0]})
	var moved, events int
	for _, m := range p.Moves {
		if m.From == pr[1] && m.To == pr[0] {
			moved, events = m.Buildings, m.OpenEvents
		}
	}
	if moved == 0 || events != 1 {
		t.Errorf("merge moved %d buildings and %d open events, want > 0 and 1: %+v", moved, events, p.Moves)
	}
	if len(p.Workers) == 0 || p.Workers[0].To != pr[0] {
		t.Errorf("workers %+v, want the merged grid's worker moved to %s", p.Workers, pr[0])
	}
	var left int
	_ = f.db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM buildings WHERE grid_code = $1)
		+ (SELECT count(*) FROM events WHERE grid_code = $1 AND status = 'reported')
		+ (SELECT count(*) FROM units WHERE grid_code = $1)`, pr[1]).Scan(&left)
	if left != 0 {
		t.Errorf("%d buildings, open events or units left on the retired grid", left)
	}
}

// splitLine is a west–east line through the middle of grid code's box,
// reaching 10 m past it on both sides.
func (f *planFixture) splitLine(t *testing.T, code string) orb.LineString {
	t.Helper()
	var x0, y0, x1, y1 float64
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
		FROM grids WHERE code = $1`, code).Scan(&x0, &y0, &x1, &y1); err != nil {
		t.Fatal(err)
	}
	y := y0 + (y1-y0)*0.43 // off the parcel edges of the seeded cells
	return orb.LineString{{x0 - 1e-4, y}, {(x0 + x1) / 2, y + (y1-y0)*0.05}, {x1 + 1e-4, y}}
}

func TestPlanSplit(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	code := f.grids[0]
	var parcelsBefore int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM parcels WHERE community_code = $1`, f.community).Scan(&parcelsBefore)
	p := f.applyChecked(t, geo.GridOp{Kind: geo.OpSplit, Grid: code, Line: f.splitLine(t, code)})
	want := f.community + "0" + string(rune('0'+(len(f.grids)+1)/10)) + string(rune('0'+(len(f.grids)+1)%10))
	if len(p.Grids) != 2 || p.Grids[1].Code != want || p.Grids[1].Action != "new" {
		t.Fatalf("split grids %+v, want %s new", p.Grids, want)
	}
	var parcelsAfter int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM parcels WHERE community_code = $1`, f.community).Scan(&parcelsAfter)
	if parcelsAfter <= parcelsBefore {
		t.Errorf("parcels %d → %d: the line cut none", parcelsBefore, parcelsAfter)
	}
	// Both halves are south and north of the line's ends.
	var north bool
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Y(ST_Centroid(n.geom)) > ST_Y(ST_Centroid(o.geom)) FROM grids n, grids o
		WHERE n.code = $1 AND o.code = $2`, want, code).Scan(&north)
	var dist float64
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Area(ST_Intersection(n.geom, o.geom)::geography) FROM grids n, grids o
		WHERE n.code = $1 AND o.code = $2`, want, code).Scan(&dist)
	if math.Abs(dist) > 0.01 {
		t.Errorf("split halves overlap by %.3f m²", dist)
	}
	_ = north
	objects := 0
	for _, m := range p.Moves {
		objects += m.Objects
	}
	if objects == 0 {
		t.Errorf("a split moved no object: %+v", p.Moves)
	}
	t.Logf("moves %+v", p.Moves)
}

func TestPlanRefused(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	far := f.pairs(t, false)
	if len(far) == 0 {
		t.Fatal("no non-adjacent grids")
	}
	// A parcel of another community of the planner's street (its
	// jurisdiction), and one outside the street, which the planner cannot
	// see: unknown to it, as a missing parcel is.
	var foreign, hidden int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT id FROM parcels WHERE community_code <> $1 AND community_code LIKE $2
		ORDER BY id LIMIT 1`, f.community, f.planner.Scope().Like()).Scan(&foreign)
	_ = f.db.Pool.QueryRow(ctx, `SELECT id FROM parcels WHERE community_code NOT LIKE $1 ORDER BY id LIMIT 1`,
		f.planner.Scope().Like()).Scan(&hidden)
	if foreign == 0 || hidden == 0 {
		t.Fatalf("no parcel of another community in the street (%d) or outside it (%d)", foreign, hidden)
	}
	// A parcel of grid a that does not touch grid b: given to b it is an exclave.
	var island int64
	var a, b string
	for _, pr := range far {
		err := f.db.Pool.QueryRow(ctx, `SELECT p.id FROM parcels p, grids g WHERE p.grid_code = $1 AND g.code = $2
			AND NOT ST_Intersects(p.geom, g.geom) ORDER BY p.id LIMIT 1`, pr[0], pr[1]).Scan(&island)
		if err == nil {
			a, b = pr[0], pr[1]
			break
		}
	}
	line := f.splitLine(t, f.grids[0])
	tests := []struct {
		name string
		op   geo.GridOp
		rule string
		near bool
	}{
		{"disconnected", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{island}, To: b}, "disconnected", true},
		{"parcel outside the community", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{foreign}, To: a}, "outside_community", true},
		{"unknown parcel", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{-5}, To: a}, "unknown_parcel", false},
		{"parcel outside the jurisdiction", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{hidden}, To: a}, "unknown_parcel", false},
		{"merge of non-adjacent grids", geo.GridOp{Kind: geo.OpMerge, From: far[0][1], To: far[0][0]}, "not_adjacent", true},
		{"self-intersecting line", geo.GridOp{Kind: geo.OpSplit, Grid: f.grids[0],
			Line: orb.LineString{line[0], line[2], {line[2][0], line[2][1] + 1e-3}, {line[0][0], line[0][1] - 1e-3}}}, "self_intersection", true},
		{"coordinates out of range", geo.GridOp{Kind: geo.OpSplit, Grid: f.grids[0], Line: orb.LineString{{106.5, 29.5}, {106.6, 200}}}, "coordinates", false},
		{"line missing the grid", geo.GridOp{Kind: geo.OpSplit, Grid: f.grids[0], Line: orb.LineString{{100, 20}, {100.1, 20}}}, "no_cut", true},
		{"unknown grid", geo.GridOp{Kind: geo.OpMerge, From: f.community + "999", To: a}, "unknown_grid", false},
		{"other community", geo.GridOp{Kind: geo.OpMerge, From: "500103999999001", To: a}, "community", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.create(t, tt.op)
			var pe *geo.PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want a plan error", err)
			}
			got := pe.Problems[0]
			if got.Rule != tt.rule || (tt.near && got.Near == nil) {
				t.Errorf("problem %+v (%s), want rule %s, near %v", got, got, tt.rule, tt.near)
			}
			t.Log(pe)
		})
	}
}

// reassignable finds a parcel that can move to a neighbouring grid.
func (f *planFixture) reassignable(t *testing.T, skip ...string) geo.GridOp {
	t.Helper()
	for _, pr := range f.pairs(t, true) {
		if slices.Contains(skip, pr[0]) || slices.Contains(skip, pr[1]) {
			continue
		}
		for _, id := range f.edgeParcels(t, pr[0], pr[1]) {
			op := geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{id}, To: pr[1]}
			if _, err := f.create(t, op); err == nil {
				return op
			}
		}
	}
	t.Fatal("no parcel could be reassigned")
	return geo.GridOp{}
}

func TestPlanHistoryRevert(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	op := f.reassignable(t)
	var from string
	_ = f.db.Pool.QueryRow(ctx, `SELECT grid_code FROM parcels WHERE id = $1`, op.Parcels[0]).Scan(&from)
	before := f.union(t)
	f.applyChecked(t, op)
	h, err := f.db.GridHistory(ctx, f.planner.Scope(), op.To)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Version != 2 || !h[0].Current || h[0].ChangedBy != f.approver.Name || h[0].PlannedBy != f.planner.Name || h[0].PlanID == nil ||
		h[1].Version != 1 || len(h[1].Geometry) < 10 || !slices.Contains(h[0].Parcels, op.Parcels[0]) {
		t.Fatalf("history %+v", h)
	}
	p, err := f.db.RevertGrid(ctx, f.approver.Scope(), op.To, 1, f.approver, "", postgis.DefaultPlanRules)
	if err != nil {
		t.Fatalf("revert: %v", err)
	}
	f.checkPartition(t, before)
	var owner string
	_ = f.db.Pool.QueryRow(ctx, `SELECT grid_code FROM parcels WHERE id = $1`, op.Parcels[0]).Scan(&owner)
	if owner != from || p.Status != "applied" {
		t.Errorf("after revert parcel %d is in %s (plan %s), want %s", op.Parcels[0], owner, p.Status, from)
	}
	h, _ = f.db.GridHistory(ctx, f.approver.Scope(), op.To)
	if len(h) != 3 || h[0].Version != 3 || h[0].ChangedBy != f.approver.Name || h[0].Reason != "revert "+op.To+" to version 1" {
		t.Errorf("history after revert %+v", h[0])
	}
	var same bool
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Equals(g.geom, v.geom) FROM grids g, grid_versions v
		WHERE g.code = $1 AND v.grid_code = g.code AND v.version = 1`, op.To).Scan(&same)
	if !same {
		t.Error("reverted outline differs from version 1")
	}
	// A split cut parcels: the old version cannot come back by reassigning.
	code := f.grids[0]
	f.applyChecked(t, geo.GridOp{Kind: geo.OpSplit, Grid: code, Line: f.splitLine(t, code)})
	if _, err := f.db.RevertGrid(ctx, f.approver.Scope(), code, 1, f.approver, "", postgis.DefaultPlanRules); !errors.Is(err, wangge.ErrConflict) {
		t.Errorf("revert over a split: %v, want a conflict", err)
	}
	if _, err := f.db.GridHistory(ctx, wangge.CityScope(), f.community+"998"); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("history of a missing grid: %v", err)
	}
}

// Two planners edit the same grid and apply at once: one wins, the other
// gets a StaleError naming the grid, and nothing of its plan is applied.
func TestPlanConcurrentApply(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	before := f.union(t)
	for round := 0; round < 3; round++ {
		op := f.reassignable(t)
		var merge geo.GridOp
		for _, pr := range f.pairs(t, true) {
			if pr[0] == op.To || pr[1] == op.To {
				merge = geo.GridOp{Kind: geo.OpMerge, From: pr[0], To: pr[1]}
				break
			}
		}
		a, err := f.create(t, op)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.create(t, merge)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		var wg sync.WaitGroup
		for _, id := range []int64{a.PlanID, b.PlanID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.db.ApplyPlan(ctx, f.approver.Scope(), id, f.approver, postgis.DefaultPlanRules)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		var ok, stale int
		for err := range errs {
			var se *postgis.StaleError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &se) && errors.Is(err, wangge.ErrStale):
				stale++
				if len(se.Changed) == 0 || se.Changed[0].Current <= se.Changed[0].Planned {
					t.Errorf("stale error %v", se)
				}
			default:
				t.Errorf("apply: %v", err)
			}
		}
		if ok != 1 || stale != 1 {
			t.Fatalf("round %d: %d applied, %d stale; want 1 and 1", round, ok, stale)
		}
		f.checkPartition(t, before)
	}
	// An applied plan cannot be applied again.
	p, err := f.create(t, f.reassignable(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyPlan(ctx, f.approver.Scope(), p.PlanID, f.approver, postgis.DefaultPlanRules); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ApplyPlan(ctx, f.approver.Scope(), p.PlanID, f.approver, postgis.DefaultPlanRules); !errors.Is(err, wangge.ErrConflict) {
		t.Errorf("second apply: %v, want a conflict", err)
	}
}

// ringAround is grid code's outline grown (or shrunk, d < 0) by d degrees.
func (f *planFixture) ringAround(t *testing.T, code string, d float64) orb.Ring {
	t.Helper()
	var xs, ys []float64
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT array_agg(ST_X(pt.geom) ORDER BY pt.path), array_agg(ST_Y(pt.geom) ORDER BY pt.path)
		FROM grids g, ST_DumpPoints(ST_ExteriorRing(ST_GeometryN(ST_Buffer(g.geom, $2, 'join=mitre'), 1))) pt WHERE g.code = $1`,
		code, d).Scan(&xs, &ys); err != nil {
		t.Fatal(err)
	}
	r := make(orb.Ring, len(xs))
	for i := range xs {
		r[i] = orb.Point{xs[i], ys[i]}
	}
	return r
}

func TestPlanDraw(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	code := f.grids[len(f.grids)/2]
	var area0 float64
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Area(geom::geography) FROM grids WHERE code = $1`, code).Scan(&area0)
	// Grow by ~10 m: strips of the neighbours' parcels are cut off and join.
	p := f.applyChecked(t, geo.GridOp{Kind: geo.OpDraw, Grid: code, Boundary: f.ringAround(t, code, 0.0001)})
	var area1 float64
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Area(geom::geography) FROM grids WHERE code = $1`, code).Scan(&area1)
	if area1 <= area0 || len(p.Grids) < 2 {
		t.Errorf("grown grid: %.0f → %.0f m², %d grids touched", area0, area1, len(p.Grids))
	}
	// Shrink by ~15 m: its outer strip goes to the neighbours.
	f.applyChecked(t, geo.GridOp{Kind: geo.OpDraw, Grid: code, Boundary: f.ringAround(t, code, -0.00015)})
	var area2 float64
	_ = f.db.Pool.QueryRow(ctx, `SELECT ST_Area(geom::geography) FROM grids WHERE code = $1`, code).Scan(&area2)
	if area2 >= area1 {
		t.Errorf("shrunk grid: %.0f → %.0f m²", area1, area2)
	}
	t.Logf("grid %s: %.0f → %.0f → %.0f m²", code, area0, area1, area2)
	// A boundary elsewhere is refused.
	_, err := f.create(t, geo.GridOp{Kind: geo.OpDraw, Grid: code, Boundary: orb.Ring{{100, 20}, {100.1, 20}, {100.1, 20.1}, {100, 20}}})
	var pe *geo.PlanError
	if !errors.As(err, &pe) || pe.Problems[0].Rule != "no_overlap" {
		t.Errorf("boundary elsewhere: %v", err)
	}
}
