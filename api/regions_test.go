package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge/postgis"
)

func TestRegionRoutes(t *testing.T) {
	db, base := queryServer(t)
	t.Run("counts equal SQL", func(t *testing.T) { testRegionCounts(t, db, base) })
	t.Run("children and geometry", func(t *testing.T) { testRegionShape(t, db, base) })
	t.Run("building shows counts", func(t *testing.T) { testBuildingCounts(t, db, base) })
	t.Run("bad input", func(t *testing.T) { testRegionBadInput(t, base) })
}

// sqlCounts computes the figures of a region straight from the base
// tables, written independently of postgis.Region (LIKE on the
// code prefix, one query per figure).
func sqlCounts(t *testing.T, db *postgis.DB, code string) postgis.Counts {
	t.Helper()
	ctx := context.Background()
	c := postgis.Counts{ResidentsByTag: map[string]int64{}, ObjectsByCategory: map[string]int64{},
		PostsByKind: map[string]int64{}, UnitsByKind: map[string]int64{}}
	one := func(into any, q string) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, q, code+"%").Scan(into); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	grouped := func(into map[string]int64, q string) {
		t.Helper()
		rows, err := db.Pool.Query(ctx, q, code+"%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k string
				n int64
			)
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			into[k] = n
		}
	}
	one(&c.Residents, `SELECT count(*) FROM residents WHERE grid_code LIKE $1`)
	one(&c.Households, `SELECT count(*) FROM households WHERE grid_code LIKE $1`)
	one(&c.Buildings, `SELECT count(*) FROM buildings WHERE grid_code LIKE $1`)
	one(&c.Objects, `SELECT count(*) FROM objects WHERE grid_code LIKE $1`)
	one(&c.Posts, `SELECT count(*) FROM posts WHERE grid_code LIKE $1`)
	one(&c.Units, `SELECT count(*) FROM units u WHERE coalesce(u.grid_code, (SELECT grid_code FROM posts WHERE id = u.post_id)) LIKE $1`)
	one(&c.Grids, `SELECT count(*) FROM grids WHERE status = 'active' AND code LIKE $1`)
	one(&c.OpenEvents, `SELECT count(*) FROM events WHERE grid_code LIKE $1 AND status IN ('reported', 'accepted', 'dispatched', 'on_site')`)
	one(&c.Overdue, `SELECT count(*) FROM events WHERE grid_code LIKE $1 AND status IN ('reported', 'accepted', 'dispatched', 'on_site') AND deadline_at < now()`)
	one(&c.Events30d, `SELECT count(*) FROM events WHERE grid_code LIKE $1 AND reported_at >= ((now() AT TIME ZONE 'Asia/Shanghai')::date - 29)::timestamp AT TIME ZONE 'Asia/Shanghai'`)
	one(&c.ClosureRate, `SELECT sum(CASE WHEN status IN ('closed', 'evaluated') THEN 1 ELSE 0 END)::float8 / nullif(count(*), 0)
		FROM events WHERE grid_code LIKE $1 AND reported_at >= ((now() AT TIME ZONE 'Asia/Shanghai')::date - 29)::timestamp AT TIME ZONE 'Asia/Shanghai' AND status NOT IN ('rejected', 'duplicate')`)
	one(&c.AvgHandlingMinutes, `SELECT avg(extract(epoch FROM closed_at) - extract(epoch FROM reported_at))::float8 / 60
		FROM events WHERE grid_code LIKE $1 AND reported_at >= ((now() AT TIME ZONE 'Asia/Shanghai')::date - 29)::timestamp AT TIME ZONE 'Asia/Shanghai' AND closed_at IS NOT NULL`)
	grouped(c.ResidentsByTag, `SELECT t, count(*) FROM residents r CROSS JOIN LATERAL unnest(r.tags) t WHERE grid_code LIKE $1 GROUP BY t`)
	grouped(c.ObjectsByCategory, `SELECT category, count(*) FROM objects WHERE grid_code LIKE $1 GROUP BY 1`)
	grouped(c.PostsByKind, `SELECT kind, count(*) FROM posts WHERE grid_code LIKE $1 GROUP BY 1`)
	grouped(c.UnitsByKind, `SELECT kind, count(*) FROM units u WHERE coalesce(u.grid_code, (SELECT grid_code FROM posts WHERE id = u.post_id)) LIKE $1 GROUP BY 1`)
	return c
}

// nonZero drops zero entries, so that listed-but-empty keys compare equal
// to absent ones.
func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// sampleCodes picks the grid of the seeded city with the most residents
// and the community, street and district above it, and gives the grid
// events of every kind the figures distinguish (the seeded year of events
// is thin at this scale): open, overdue, closed, rejected, old.
func sampleCodes(t *testing.T, db *postgis.DB) []string {
	t.Helper()
	ctx := context.Background()
	var g string
	if err := db.Pool.QueryRow(ctx, `SELECT grid_code FROM residents GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&g); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE description = 'region test'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		_, err := db.Pool.Exec(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
			description, reported_at, deadline_at, closed_at, geom)
			SELECT 'fire_alarm', s, 'grid', 'sensor', 1, $1, 'region test', now() - r, now() - r + d, now() - r + c,
				(SELECT ST_PointOnSurface(geom) FROM grids WHERE code = $1)
			FROM (VALUES ('accepted', interval '1 hour', interval '2 hours', NULL::interval),
				('on_site', interval '5 hours', interval '1 hour', NULL),
				('dispatched', interval '3 days', interval '1 day', NULL),
				('closed', interval '2 days', interval '1 day', interval '90 minutes'),
				('evaluated', interval '10 days', interval '1 day', interval '7 hours'),
				('rejected', interval '4 days', interval '1 day', NULL),
				('closed', interval '60 days', interval '1 day', interval '3 hours')) v(s, r, d, c)`, g)
		if err != nil {
			t.Fatal(err)
		}
	}
	return []string{g[:6], g[:9], g[:12], g}
}

func testRegionCounts(t *testing.T, db *postgis.DB, base string) {
	approx := cmp.Comparer(func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == b
		}
		return math.Abs(*a-*b) < 1e-9*math.Max(1, math.Abs(*a))
	})
	for _, code := range sampleCodes(t, db) {
		var got postgis.RegionDetail
		if status := getJSON(t, base+"/regions/"+code, &got); status != 200 {
			t.Fatalf("%s: status %d", code, status)
		}
		want := sqlCounts(t, db, code)
		if got.Counts == nil || !got.InScope {
			t.Fatalf("%s: no counts for the city's commander: %+v", code, got)
		}
		gc := *got.Counts
		for _, m := range []*map[string]int64{&gc.ResidentsByTag, &gc.ObjectsByCategory, &gc.PostsByKind, &gc.UnitsByKind} {
			*m = nonZero(*m)
		}
		if d := cmp.Diff(want, gc, approx); d != "" {
			t.Errorf("%s counts (-sql +api):\n%s", code, d)
		}
		if want.Residents == 0 || want.OpenEvents == 0 || want.Overdue == 0 || want.ClosureRate == nil {
			t.Errorf("%s: a sample region without residents or events proves little: %+v", code, want)
		}
		t.Logf("%s %s: %d residents, %d households, %d buildings, %d objects, %d open events, %d in 30 days, overdue %d",
			got.Level, code, gc.Residents, gc.Households, gc.Buildings, gc.Objects, gc.OpenEvents, gc.Events30d, gc.Overdue)
	}
}

func testRegionShape(t *testing.T, db *postgis.DB, base string) {
	codes := sampleCodes(t, db)
	for i, code := range codes {
		var got struct {
			Level    string           `json:"level"`
			Parent   *map[string]any  `json:"parent"`
			Children []map[string]any `json:"children"`
			Geometry map[string]any   `json:"geometry"`
		}
		getJSON(t, base+"/regions/"+code, &got)
		if got.Geometry != nil {
			t.Errorf("%s: geometry without asking", code)
		}
		if (i == 0) != (got.Parent == nil) {
			t.Errorf("%s: parent %v", code, got.Parent)
		}
		var want int
		q := `SELECT count(*) FROM regions WHERE parent_code = $1`
		if i == 2 {
			q = `SELECT count(*) FROM grids WHERE community_code = $1 AND status = 'active'`
		}
		if err := db.Pool.QueryRow(context.Background(), q, code).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if len(got.Children) != want || (i < 3 && want == 0) {
			t.Errorf("%s: %d children, want %d", code, len(got.Children), want)
		}
		getJSON(t, base+"/regions/"+code+"?geometry=true", &got)
		if got.Geometry["type"] != "MultiPolygon" {
			t.Errorf("%s?geometry=true: geometry %v", code, got.Geometry["type"])
		}
	}
	var top struct {
		Children []postgis.RegionNode `json:"children"`
	}
	getJSON(t, base+"/regions", &top)
	if len(top.Children) != 2 || top.Children[0].Code != "500103" {
		t.Errorf("/regions: %+v", top.Children)
	}
}

// testBuildingCounts: a commander (no residents.full) gets the counts
// view: households as unit number and size, counts, age bands and tag
// counts equal to SQL, and not one name, ID number, phone or exact age.
func testBuildingCounts(t *testing.T, db *postgis.DB, base string) {
	ctx := context.Background()
	var id, residents int64
	if err := db.Pool.QueryRow(ctx, `SELECT building_id, count(*) FROM residents GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`).
		Scan(&id, &residents); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(fmt.Sprintf("%s/buildings/%d", base, id))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var b struct {
		ID         int64
		Geometry   json.RawMessage
		Households []map[string]any
		Residents  int            `json:"residents_count"`
		HouseholdN int            `json:"households_count"`
		Masked     bool           `json:"pii_masked"`
		View       string         `json:"pii_view"`
		Bands      map[string]int `json:"age_bands"`
		Tags       map[string]int `json:"tags"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v: %s", res.StatusCode, err, raw)
	}
	if int64(b.Residents) != residents || b.ID != id || !b.Masked || b.View != "counts" || len(b.Geometry) == 0 {
		t.Fatalf("building %d: %d residents (want %d), masked %v, view %q", b.ID, b.Residents, residents, b.Masked, b.View)
	}
	var households int
	wantBands := map[string]int{}
	wantTags := map[string]int{}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM households WHERE building_id = $1`, id).Scan(&households); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT CASE WHEN a < 18 THEN '0-17' WHEN a < 60 THEN '18-59' WHEN a < 80 THEN '60-79' ELSE '80+' END, count(*)
		FROM (SELECT extract(year FROM age(current_date, birth_date))::int AS a FROM residents WHERE building_id = $1) r GROUP BY 1`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		wantBands[k] = n
	}
	rows, err = db.Pool.Query(ctx, `SELECT t, count(*) FROM residents, unnest(tags) t WHERE building_id = $1 GROUP BY 1`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		wantTags[k] = n
	}
	for _, k := range []string{"0-17", "18-59", "60-79", "80+"} {
		wantBands[k] += 0
	}
	if b.HouseholdN != households || len(b.Households) != households {
		t.Errorf("%d households (%d listed), want %d", b.HouseholdN, len(b.Households), households)
	}
	if d := cmp.Diff(wantBands, b.Bands); d != "" {
		t.Errorf("age bands (-sql +api):\n%s", d)
	}
	if d := cmp.Diff(wantTags, b.Tags); d != "" {
		t.Errorf("tags (-sql +api):\n%s", d)
	}
	for _, h := range b.Households {
		if len(h) != 2 || h["unit_no"] == nil || h["size"] == nil {
			t.Errorf("a household shows more than its unit number and size: %v", h)
		}
	}
	// No stored PII appears anywhere in the body, masked or not.
	rows, err = db.Pool.Query(ctx, `SELECT name, id_number, coalesce(phone, '') FROM residents WHERE building_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	body := string(raw)
	for rows.Next() {
		var name, idn, phone string
		if err := rows.Scan(&name, &idn, &phone); err != nil {
			t.Fatal(err)
		}
		masked := idn // the old masked form (region and last four) must not appear either
		if len(idn) == 18 {
			masked = idn[:6] + "********" + idn[14:]
		}
		for _, pii := range []string{idn, phone, name, masked, `"age"`, `"id_number"`, `"phone"`} {
			if len([]rune(pii)) > 1 && strings.Contains(body, pii) {
				t.Errorf("PII %q in the body", pii)
			}
		}
	}
}

func testRegionBadInput(t *testing.T, base string) {
	tests := []struct {
		name, path string
		want       int
	}{
		{"letters", "/regions/abc", 400},
		{"wrong length", "/regions/5001030", 400},
		{"unknown district", "/regions/999999", 404},
		{"unknown grid", "/regions/500103999999999", 404},
		{"bad geometry flag", "/regions/500103?geometry=maybe", 400},
		{"bad building id", "/buildings/x", 400},
		{"negative building id", "/buildings/-1", 400},
		{"unknown building", "/buildings/987654321", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, "GET", base+tt.path, "")
			wantAnswer(t, code, tt.want, body)
		})
	}
}
