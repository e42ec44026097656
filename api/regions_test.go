package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge/postgis"
)

func TestRegionRoutes(t *testing.T) {
	db, base := queryServer(t)
	t.Run("counts equal SQL", func(t *testing.T) { testRegionCounts(t, db, base) })
	t.Run("children and geometry", func(t *testing.T) { testRegionShape(t, db, base) })
	t.Run("building masks PII", func(t *testing.T) { testBuildingMasked(t, db, base) })
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
	one(&c.Events30d, `SELECT count(*) FROM events WHERE grid_code LIKE $1 AND reported_at >= now() - interval '30 days'`)
	one(&c.ClosureRate, `SELECT sum(CASE WHEN status IN ('closed', 'evaluated') THEN 1 ELSE 0 END)::float8 / nullif(count(*), 0)
		FROM events WHERE grid_code LIKE $1 AND reported_at >= now() - interval '30 days' AND status NOT IN ('rejected', 'duplicate')`)
	one(&c.AvgHandlingMinutes, `SELECT avg(extract(epoch FROM closed_at) - extract(epoch FROM reported_at))::float8 / 60
		FROM events WHERE grid_code LIKE $1 AND reported_at >= now() - interval '30 days' AND closed_at IS NOT NULL`)
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
		gc := got.Counts
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

var (
	maskedName  = regexp.MustCompile(`^\p{Han}\*+$`)
	maskedID    = regexp.MustCompile(`^[0-9]{6}\*{8}[0-9]{3}[0-9X]$`)
	maskedPhone = regexp.MustCompile(`^(1[3-9][0-9]\*{4}[0-9]{4})?$`)
)

func testBuildingMasked(t *testing.T, db *postgis.DB, base string) {
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
	var b buildingJSON
	if err := json.Unmarshal(raw, &b); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if int64(b.ResidentsCount) != residents || b.ID != id || !b.PIIMasked || len(b.Geometry) == 0 {
		t.Fatalf("building %d: %d residents (want %d), masked %v", b.ID, b.ResidentsCount, residents, b.PIIMasked)
	}
	n := 0
	for _, h := range b.Households {
		for _, r := range h.Residents {
			n++
			if !maskedName.MatchString(r.Name) || !maskedID.MatchString(r.IDNumber) || !maskedPhone.MatchString(r.Phone) {
				t.Errorf("resident %d not masked: %q %q %q", r.ID, r.Name, r.IDNumber, r.Phone)
			}
		}
	}
	if int64(n) != residents {
		t.Errorf("%d residents listed, want %d", n, residents)
	}
	// No stored PII appears anywhere in the body.
	rows, err := db.Pool.Query(ctx, `SELECT name, id_number, coalesce(phone, '') FROM residents WHERE building_id = $1`, id)
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
		for _, pii := range []string{idn, phone, name} {
			if len([]rune(pii)) > 1 && strings.Contains(body, `"`+pii+`"`) {
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

func TestMasks(t *testing.T) {
	tests := []struct{ in, name, id, phone string }{
		{"张三", "张*", "500103********1234", "138****8000"},
		{"欧阳娜娜", "欧***", "", ""},
		{"李", "李*", "", ""},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.name {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.name)
		}
	}
	if got := MaskIDNumber("500103199001011234"); got != "500103********1234" {
		t.Errorf("MaskIDNumber = %q", got)
	}
	if got := MaskIDNumber("50010319900101123X"); got != "500103********123X" {
		t.Errorf("MaskIDNumber X = %q", got)
	}
	if got := MaskIDNumber("12345"); got != "*****" {
		t.Errorf("MaskIDNumber short = %q", got)
	}
	if got := MaskPhone("13812348000"); got != "138****8000" {
		t.Errorf("MaskPhone = %q", got)
	}
	if got := MaskPhone(""); got != "" {
		t.Errorf("MaskPhone empty = %q", got)
	}
	if got := age(time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)); got != 25 {
		t.Errorf("age = %d, want 25", got)
	}
}
