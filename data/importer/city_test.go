package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/migrations"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// A city as a GIS team exports it (issue 15): regions and four grids of
// one community, no parcels; buildings without parcel_id or grid_code,
// objects without grid_code. The grids, 0.004° a side:
//
//	003 | 004
//	----+----
//	001 | 002
const comm = "500103001001"

func grid(n string) string { return comm + n }

var (
	cityDistricts = fc(feature(`{"code":"500103","name":"渝中区","kind":"urban"}`, poly(sq(106.49, 29.49, 106.52, 29.52))))
	cityStreets   = fc(feature(`{"code":"500103001","name":"七星岗街道"}`, poly(sq(106.49, 29.49, 106.52, 29.52))))
	cityComms     = fc(feature(`{"code":"500103001001","name":"金汤街社区","kind":"urban"}`, poly(sq(106.500, 29.500, 106.508, 29.508))))
	cityGrids     = fc(
		feature(`{"code":"500103001001001","name":"一"}`, poly(sq(106.500, 29.500, 106.504, 29.504))),
		feature(`{"code":"500103001001002","name":"二","land_use":"residential"}`, poly(sq(106.504, 29.500, 106.508, 29.504))),
		feature(`{"code":"500103001001003","name":"三"}`, poly(sq(106.500, 29.504, 106.504, 29.508))),
		feature(`{"code":"500103001001004","name":"四"}`, poly(sq(106.504, 29.504, 106.508, 29.508))))
	// Buildings 101–106 by where they stand (lower-left corner).
	cityBuildings = map[int64]orb.Point{
		101: {106.501, 29.501},  // 001, south of the split line
		102: {106.501, 29.5035}, // 001, north of it
		103: {106.501, 29.506},  // 003
		104: {106.505, 29.501},  // 002
		105: {106.505, 29.5045}, // 004, inside the redrawn 002
		106: {106.505, 29.5075}, // 004, outside it
	}
	cityObjects = fc(
		feature(`{"category":"hydrant","category_code":"0301"}`, `{"type":"Point","coordinates":[106.5015,29.5015]}`),
		feature(`{"category":"trash_bin","category_code":"0601"}`, `{"type":"Point","coordinates":[106.502,29.507]}`),
		feature(`{"category":"camera","category_code":"0401","building_id":105}`, `{"type":"Point","coordinates":[106.5051,29.5046]}`))
)

func buildingsDoc() string {
	var fs []string
	for id := int64(101); id <= 106; id++ {
		p := cityBuildings[id]
		fs = append(fs, feature(fmt.Sprintf(`{"id":%d,"address":"金汤街%d号","use":"residential","floors":6,"households":1}`, id, id),
			poly(sq(p[0], p[1], p[0]+0.0002, p[1]+0.0002))))
	}
	return fc(fs...)
}

// importCity loads the city and gives each building one household of one
// resident (the importer loads no people; the planner must move them).
func importCity(t *testing.T, db *postgis.DB) {
	t.Helper()
	for _, l := range []struct{ layer, doc string }{{"districts", cityDistricts}, {"streets", cityStreets},
		{"communities", cityComms}, {"grids", cityGrids}, {"buildings", buildingsDoc()}, {"objects", cityObjects}} {
		load(t, db, l.layer, l.doc, false)
	}
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO households (id, building_id, grid_code, unit_no, size)
		SELECT id, id, grid_code, '1-1', 1 FROM buildings`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO residents (id, household_id, building_id, grid_code, name, id_number, gender, birth_date, relation)
		SELECT id, id, id, grid_code, '张三', '50010319800101' || lpad(id::text, 4, '0'), 'M', '1980-01-01', 'head' FROM buildings`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE buildings SET residents = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT refresh_grid_counts($1)`, comm); err != nil {
		t.Fatal(err)
	}
}

// where maps each building (and its household, resident) and object to its grid.
func where(t *testing.T, db *postgis.DB) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT 'b' || id, grid_code FROM buildings
		UNION ALL SELECT 'h' || id, grid_code FROM households UNION ALL SELECT 'r' || id, grid_code FROM residents
		UNION ALL SELECT 'o' || id, grid_code FROM objects`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, g string
		if err := rows.Scan(&k, &g); err != nil {
			t.Fatal(err)
		}
		out[k] = g
	}
	return out
}

// checkCity asserts what every edit must keep: each building on a parcel
// of its grid and inside its grid's outline, its people with it, each
// object inside its grid, each active grid the union of its parcels.
func checkCity(t *testing.T, db *postgis.DB) {
	t.Helper()
	checks := []struct{ name, sql string }{
		{"buildings without a parcel", `SELECT count(*) FROM buildings WHERE parcel_id IS NULL`},
		{"buildings not in their parcel's grid", `SELECT count(*) FROM buildings b JOIN parcels p ON p.id = b.parcel_id
			WHERE b.grid_code <> p.grid_code`},
		{"buildings outside their grid", `SELECT count(*) FROM buildings b JOIN grids g ON g.code = b.grid_code
			WHERE g.status <> 'active' OR NOT ST_Covers(g.geom, ST_PointOnSurface(b.geom))`},
		{"households off their building's grid", `SELECT count(*) FROM households h JOIN buildings b ON b.id = h.building_id
			WHERE h.grid_code <> b.grid_code`},
		{"residents off their building's grid", `SELECT count(*) FROM residents r JOIN buildings b ON b.id = r.building_id
			WHERE r.grid_code <> b.grid_code`},
		{"objects outside their grid", `SELECT count(*) FROM objects o JOIN grids g ON g.code = o.grid_code
			WHERE g.status <> 'active' OR NOT ST_Covers(g.geom, o.geom)`},
		{"grids not the union of their parcels", `SELECT count(*) FROM grids g WHERE g.status = 'active'
			AND ST_Area(ST_SymDifference(g.geom, (SELECT ST_Union(p.geom) FROM parcels p WHERE p.grid_code = g.code))::geography) > 0.01`},
		{"grids with stale counts", `SELECT count(*) FROM grids g WHERE g.status = 'active'
			AND g.households <> (SELECT coalesce(sum(households), 0) FROM buildings b WHERE b.grid_code = g.code)`},
	}
	for _, c := range checks {
		var n int
		if err := db.Pool.QueryRow(context.Background(), c.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.name)
		}
	}
}

func cityPrincipals(t *testing.T, db *postgis.DB) (planner, approver wangge.Principal) {
	t.Helper()
	mk := func(role wangge.Role, region string) wangge.Principal {
		u, err := db.CreateUser(context.Background(), postgis.NewUser{Name: fmt.Sprintf("%s-%d", role, time.Now().UnixNano()),
			Role: role, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		return wangge.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Region: u.Region}
	}
	return mk(wangge.RolePlanner, "500103001"), mk(wangge.RoleApprover, "500103")
}

func TestImportedCityPlans(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	importCity(t, db)

	// The import made one parcel per grid, the grid's own outline.
	var parcels, exact, residential int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE ST_Equals(p.geom, g.geom)),
			count(*) FILTER (WHERE p.land_use = 'residential')
		FROM parcels p JOIN grids g ON g.code = p.grid_code WHERE p.generated AND p.community_code = g.community_code`).
		Scan(&parcels, &exact, &residential); err != nil {
		t.Fatal(err)
	}
	if parcels != 4 || exact != 4 || residential != 1 {
		t.Errorf("generated parcels: %d, %d equal to their grid, %d residential; want 4, 4, 1", parcels, exact, residential)
	}
	checkCity(t, db)
	want := where(t, db)
	for k, g := range map[string]string{"b101": grid("001"), "b103": grid("003"), "b105": grid("004"), "o1": grid("001"),
		"o2": grid("003"), "o3": grid("004")} {
		if want[k] != g {
			t.Fatalf("after import %s is in %s, want %s", k, want[k], g)
		}
	}

	planner, approver := cityPrincipals(t, db)
	rules := postgis.DefaultPlanRules
	// moved records where buildings, their people and objects should now be.
	moved := func(g string, keys ...string) {
		for _, k := range keys {
			want[k] = g
		}
	}
	person := func(id int) []string {
		return []string{fmt.Sprintf("b%d", id), fmt.Sprintf("h%d", id), fmt.Sprintf("r%d", id)}
	}
	// step previews ops, checks that the preview moved nothing, applies
	// them and checks that what moved is what the preview said.
	step := func(name string, ops ...geo.GridOp) {
		t.Helper()
		before := where(t, db)
		p, err := db.CreatePlan(ctx, planner.Scope(), postgis.PlanRequest{Ops: ops, Reason: name, By: planner}, rules)
		if err != nil {
			t.Fatalf("%s: preview: %v", name, err)
		}
		if diff := cmp.Diff(before, where(t, db)); diff != "" {
			t.Fatalf("%s: the preview changed data (-before +after):\n%s", name, diff)
		}
		applied, err := db.ApplyPlan(ctx, approver.Scope(), p.PlanID, approver, rules)
		if err != nil {
			t.Fatalf("%s: apply: %v", name, err)
		}
		if diff := cmp.Diff(p.Moves, applied.Moves); diff != "" {
			t.Errorf("%s: moves of the preview (-) and the apply (+) differ:\n%s", name, diff)
		}
		checkMoves(t, name, p.Moves, before, where(t, db))
	}
	check := func(name string) {
		t.Helper()
		checkCity(t, db)
		if diff := cmp.Diff(want, where(t, db)); diff != "" {
			t.Errorf("%s: grids of buildings, people, objects (-want +got):\n%s", name, diff)
		}
	}

	// Redraw 002 over the south of 004 (cut at 29.507: 004's larger piece,
	// keeping the parcel's id, joins 002 with building 105 and its camera).
	step("draw", geo.GridOp{Kind: geo.OpDraw, Grid: grid("002"), Boundary: orb.Ring{
		{106.504, 29.499}, {106.509, 29.499}, {106.509, 29.507}, {106.504, 29.507}, {106.504, 29.499}}})
	moved(grid("002"), append(person(105), "o3")...)
	check("draw")

	// Revert 002 to its imported version: the piece goes back to 004.
	if _, err := db.RevertGrid(ctx, approver.Scope(), grid("002"), 1, approver, "", rules); err != nil {
		t.Fatalf("revert: %v", err)
	}
	moved(grid("004"), append(person(105), "o3")...)
	check("revert")

	// Reassign that piece (004's parcel under building 105) to 002.
	var piece int64
	if err := db.Pool.QueryRow(ctx, `SELECT parcel_id FROM buildings WHERE id = 105`).Scan(&piece); err != nil {
		t.Fatal(err)
	}
	step("reassign", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{piece}, To: grid("002")})
	moved(grid("002"), append(person(105), "o3")...)
	check("reassign")

	// Merge 003 into 001.
	step("merge", geo.GridOp{Kind: geo.OpMerge, From: grid("003"), To: grid("001")})
	moved(grid("001"), append(person(103), "o2")...)
	check("merge")

	// Split 001 (now 001 and 003) at 29.503: the south, smaller, is 005.
	step("split", geo.GridOp{Kind: geo.OpSplit, Grid: grid("001"), Line: orb.LineString{{106.4995, 29.503}, {106.5045, 29.503}}})
	moved(grid("005"), append(person(101), "o1")...)
	check("split")
}

// checkMoves compares the preview's moves with what changed grid.
func checkMoves(t *testing.T, name string, moves []postgis.GridMove, before, after map[string]string) {
	t.Helper()
	got := map[[2]string][4]int{} // buildings, households, residents, objects
	for k, g := range after {
		if before[k] == g {
			continue
		}
		c := got[[2]string{before[k], g}]
		c[map[byte]int{'b': 0, 'h': 1, 'r': 2, 'o': 3}[k[0]]]++
		got[[2]string{before[k], g}] = c
	}
	said := map[[2]string][4]int{}
	for _, m := range moves {
		if c := [4]int{m.Buildings, m.Households, m.Residents, m.Objects}; c != [4]int{} {
			said[[2]string{m.From, m.To}] = c
		}
	}
	if diff := cmp.Diff(said, got); diff != "" {
		t.Errorf("%s: moves per grid pair, buildings/households/residents/objects (-preview +apply):\n%s", name, diff)
	}
}

// Data imported before parcels were generated: the planner refuses a grid
// without parcels with a reason (422), never a 500.
func TestPlanGridWithoutParcels(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	importCity(t, db)
	if _, err := db.Pool.Exec(ctx, `UPDATE buildings SET parcel_id = NULL WHERE grid_code = $1;`, grid("003")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM parcels WHERE grid_code = $1`, grid("003")); err != nil {
		t.Fatal(err)
	}
	planner, _ := cityPrincipals(t, db)
	tests := []struct {
		name string
		op   geo.GridOp
	}{
		{"merge from", geo.GridOp{Kind: geo.OpMerge, From: grid("003"), To: grid("001")}},
		{"merge into", geo.GridOp{Kind: geo.OpMerge, From: grid("001"), To: grid("003")}},
		{"split", geo.GridOp{Kind: geo.OpSplit, Grid: grid("003"), Line: orb.LineString{{106.4995, 29.506}, {106.5045, 29.506}}}},
		{"draw", geo.GridOp{Kind: geo.OpDraw, Grid: grid("003"), Boundary: orb.Ring{
			{106.500, 29.503}, {106.504, 29.503}, {106.504, 29.508}, {106.500, 29.508}, {106.500, 29.503}}}},
		{"reassign to", geo.GridOp{Kind: geo.OpReassign, Parcels: []int64{1}, To: grid("003")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.CreatePlan(ctx, planner.Scope(), postgis.PlanRequest{Ops: []geo.GridOp{tt.op}, Reason: "t", By: planner},
				postgis.DefaultPlanRules)
			var pe *geo.PlanError
			if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Rule != "no_parcels" {
				t.Fatalf("err = %v; want a plan error with rule no_parcels", err)
			}
		})
	}

	// The migration's repair of such data gives 003 its parcel and its
	// buildings theirs: the merge then goes through.
	sql, err := migrations.FS.ReadFile("0015_generated_parcels.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, repair, ok := strings.Cut(string(sql), "-- Repair")
	if !ok {
		t.Fatal("0015_generated_parcels.sql: no repair section")
	}
	if _, err := db.Pool.Exec(ctx, "-- Repair"+repair); err != nil {
		t.Fatalf("repair: %v", err)
	}
	checkCity(t, db)
	p, err := db.CreatePlan(ctx, planner.Scope(), postgis.PlanRequest{Ops: []geo.GridOp{tests[0].op}, Reason: "t", By: planner},
		postgis.DefaultPlanRules)
	if err != nil {
		t.Fatalf("merge after the repair: %v", err)
	}
	if len(p.Moves) != 1 || p.Moves[0].Buildings != 1 || p.Moves[0].Households != 1 || p.Moves[0].Objects != 1 {
		t.Errorf("merge after the repair moves %+v; want building 103, its household and object o2", p.Moves)
	}
}

// A parcels import after the grids carves its parcels out of the
// generated ones; buildings take the parcel now under them.
func TestImportParcelsCarveGenerated(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	importCity(t, db)
	load(t, db, "parcels", fc(feature(`{"grid_code":"500103001001001","land_use":"residential"}`,
		poly(sq(106.500, 29.500, 106.504, 29.502)))), false)
	var (
		n, generated int
		b101, b102   bool
	)
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE generated),
			(SELECT NOT p.generated FROM buildings b JOIN parcels p ON p.id = b.parcel_id WHERE b.id = 101),
			(SELECT p.generated FROM buildings b JOIN parcels p ON p.id = b.parcel_id WHERE b.id = 102)
		FROM parcels WHERE grid_code = $1`, grid("001")).Scan(&n, &generated, &b101, &b102); err != nil {
		t.Fatal(err)
	}
	if n != 2 || generated != 1 || !b101 || !b102 {
		t.Errorf("grid 001: %d parcels, %d generated, 101 on the imported one %v, 102 on the generated one %v; want 2, 1, true, true",
			n, generated, b101, b102)
	}
	checkCity(t, db)

	// Parcels covering the whole of 002 replace its generated parcel.
	load(t, db, "parcels", fc(
		feature(`{"grid_code":"500103001001002","land_use":"commercial"}`, poly(sq(106.504, 29.500, 106.506, 29.504))),
		feature(`{"grid_code":"500103001001002","land_use":"public"}`, poly(sq(106.506, 29.500, 106.508, 29.504)))), false)
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE generated) FROM parcels WHERE grid_code = $1`,
		grid("002")).Scan(&n, &generated); err != nil {
		t.Fatal(err)
	}
	if n != 2 || generated != 0 {
		t.Errorf("grid 002: %d parcels, %d generated; want 2, 0", n, generated)
	}
	checkCity(t, db)

	// Replacing a grid keeps its generated parcel while it is the outline,
	// and remakes it when the outline changes.
	parcelOf4 := func() (id int64, exact bool) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT p.id, ST_Equals(p.geom, g.geom) FROM parcels p JOIN grids g ON g.code = p.grid_code
			WHERE p.grid_code = $1`, grid("004")).Scan(&id, &exact); err != nil {
			t.Fatal(err)
		}
		return id, exact
	}
	was, _ := parcelOf4()
	four := fc(feature(`{"code":"500103001001004","name":"四"}`, poly(sq(106.504, 29.504, 106.508, 29.508))))
	load(t, db, "grids", four, true)
	if id, exact := parcelOf4(); id != was || !exact {
		t.Errorf("same outline: parcel %d (equal to the grid %v), want %d kept", id, exact, was)
	}
	load(t, db, "grids", strings.Replace(four, "29.508", "29.5079", -1), true)
	if id, exact := parcelOf4(); id == was || !exact {
		t.Errorf("new outline: parcel %d (equal to the grid %v), want a new one equal to the grid", id, exact)
	}
	var orphans int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM buildings WHERE parcel_id IS NULL`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d buildings without a parcel after the grid's replace", orphans)
	}
}
