package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// queryCity is the seeded test city of the query API tests: the dense
// core (Yuzhong) and a rural county (Chengkou).
var queryCity = data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103", "500229"},
	Now: time.Now().Truncate(time.Hour)}

// queryServer seeds the test city and serves the query routes over it
// with real access control. Requests without an Authorization header of
// their own are sent as a commander of the whole city (queryToken), so
// the tests about answers pass through authentication like a wall does.
func queryServer(t *testing.T) (*postgis.DB, string) {
	t.Helper()
	db, _ := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	if _, err := data.Seed(ctx, db, queryCity, log); err != nil {
		t.Fatalf("seed: %v", err)
	}
	q, err := newQuery(ctx, db, log)
	if err != nil {
		t.Fatal(err)
	}
	tok := testToken(t, db, wangge.RoleCommander, "", nil)
	h := New(Deps{Log: log, Health: db, MaxBodyBytes: 8 << 20, Query: q, Access: testAccess(t, db)}).Handler()
	hs := httptest.NewServer(withToken(h, tok))
	t.Cleanup(hs.Close)
	return db, hs.URL + "/api/v1"
}

// withToken sends tok on every request that carries no Authorization
// header (apitest.As, which internal tests cannot import).
func withToken(h http.Handler, tok string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		h.ServeHTTP(w, r)
	})
}

func newQuery(ctx context.Context, db *postgis.DB, log *slog.Logger) (*Query, error) {
	loc, err := db.NewLocator(ctx, log)
	if err != nil {
		return nil, err
	}
	return &Query{Locator: loc, LocateSQL: db, Regions: db, Stats: db, Features: db, Search: db}, nil
}

// pointsInGrids is n random points inside grids (and so inside the city).
func pointsInGrids(t *testing.T, db *postgis.DB, n int) []orb.Point {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (
		SELECT (ST_Dump(ST_GeneratePoints(geom, 1, 5))).geom AS p FROM grids WHERE status = 'active'
		ORDER BY code LIMIT $1) x`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []orb.Point
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode
}

func TestLocateRoutes(t *testing.T) {
	db, base := queryServer(t)
	pts := pointsInGrids(t, db, 200)
	if len(pts) < 100 {
		t.Fatalf("only %d sample points", len(pts))
	}
	t.Run("crs", func(t *testing.T) { testLocateCRS(t, base, pts) })
	t.Run("engines agree", func(t *testing.T) { testLocateEngines(t, base) })
	t.Run("batch", func(t *testing.T) { testLocateBatch(t, base) })
	t.Run("bad input", func(t *testing.T) { testLocateBadInput(t, base) })
}

// GCJ-02 and BD-09 inputs land in the same grid as their WGS-84
// originals, and convert back within 0.5 m.
func testLocateCRS(t *testing.T, base string, pts []orb.Point) {
	worst := 0.0
	for _, p := range pts {
		var want locateJSON
		if code := getJSON(t, fmt.Sprintf("%s/locate?lon=%v&lat=%v", base, p[0], p[1]), &want); code != 200 {
			t.Fatalf("WGS-84 %v: status %d", p, code)
		}
		for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
			x, y := geo.FromWGS84(crs, p[0], p[1])
			var got locateJSON
			if code := getJSON(t, fmt.Sprintf("%s/locate?lon=%v&lat=%v&crs=%s", base, x, y, crs), &got); code != 200 {
				t.Fatalf("%s %v: status %d", crs, p, code)
			}
			if got.Grid != want.Grid || got.CRS != crs {
				t.Errorf("%s %v: grid %v, WGS-84 gave %v", crs, p, got.Grid, want.Grid)
			}
			d := geo.DistanceM(p[0], p[1], got.Lon, got.Lat)
			worst = math.Max(worst, d)
			if d >= 0.5 {
				t.Errorf("%s %v: round trip off by %.3f m", crs, p, d)
			}
		}
	}
	t.Logf("%d points × 2 systems, worst round trip %.2g m", len(pts), worst)
}

// The index and the PostGIS engine give the same answers, inside and
// outside the city.
func testLocateEngines(t *testing.T, base string) {
	rng := rand.New(rand.NewPCG(1, 1))
	in := 0
	for i := 0; i < 300; i++ {
		lon, lat := 106.40+rng.Float64()*2.5, 29.40+rng.Float64()*2.7 // Yuzhong to Chengkou and around
		if i%2 == 0 {
			lon, lat = 106.54+rng.Float64()*0.06, 29.53+rng.Float64()*0.04 // the core
		}
		var a, b map[string]any
		ca := getJSON(t, fmt.Sprintf("%s/locate?lon=%v&lat=%v", base, lon, lat), &a)
		cb := getJSON(t, fmt.Sprintf("%s/locate?lon=%v&lat=%v&engine=postgis", base, lon, lat), &b)
		if ca != cb {
			t.Fatalf("%v,%v: index %d %v, postgis %d %v", lon, lat, ca, a, cb, b)
		}
		if ca == 404 {
			if !strings.Contains(fmt.Sprint(a["error"]), "outside") {
				t.Errorf("404 without a reason: %v", a)
			}
			continue
		}
		in++
		delete(a, "engine")
		delete(b, "engine")
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%v,%v:\nindex   %v\npostgis %v", lon, lat, a, b)
		}
	}
	if in < 30 || in > 270 {
		t.Errorf("%d of 300 points inside: the sample should have both kinds", in)
	}
}

// A 10,000-point batch answers every point as GET does.
func testLocateBatch(t *testing.T, base string) {
	rng := rand.New(rand.NewPCG(2, 2))
	pts := make([][2]float64, MaxLocateBatch)
	for i := range pts {
		pts[i] = [2]float64{106.50 + rng.Float64()*0.12, 29.50 + rng.Float64()*0.10}
	}
	body, _ := json.Marshal(map[string]any{"points": pts})
	res, err := http.Post(base+"/locate", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out batchJSON
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if out.Count != len(pts) || len(out.Grids) != len(pts) || out.Found == 0 || out.Found == len(pts) {
		t.Fatalf("count %d, grids %d, found %d", out.Count, len(out.Grids), out.Found)
	}
	for i := 0; i < len(pts); i += 97 {
		var one map[string]any
		code := getJSON(t, fmt.Sprintf("%s/locate?lon=%v&lat=%v", base, pts[i][0], pts[i][1]), &one)
		switch {
		case code == 404 && out.Grids[i] != nil:
			t.Errorf("point %d: batch %s, GET 404", i, *out.Grids[i])
		case code == 200 && (out.Grids[i] == nil || one["grid"].(map[string]any)["code"] != *out.Grids[i]):
			t.Errorf("point %d: batch %v, GET %v", i, out.Grids[i], one["grid"])
		case code == 200 && out.Regions[*out.Grids[i]].District.Name == "":
			t.Errorf("point %d: batch names no district for %s", i, *out.Grids[i])
		}
	}
}

func testLocateBadInput(t *testing.T, base string) {
	many := `{"points":[` + strings.Repeat("[106.5,29.5],", MaxLocateBatch) + `[106.5,29.5]]}`
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"lon missing", "GET", "/locate?lat=29.5", "", 400},
		{"lat missing", "GET", "/locate?lon=106.5", "", 400},
		{"lon out of range", "GET", "/locate?lon=181&lat=29.5", "", 400},
		{"lat out of range", "GET", "/locate?lon=106.5&lat=-90.5", "", 400},
		{"NaN", "GET", "/locate?lon=NaN&lat=29.5", "", 400},
		{"infinity", "GET", "/locate?lon=106.5&lat=Inf", "", 400},
		{"not a number", "GET", "/locate?lon=abc&lat=29.5", "", 400},
		{"unknown crs", "GET", "/locate?lon=106.5&lat=29.5&crs=cgcs2000", "", 400},
		{"unknown engine", "GET", "/locate?lon=106.5&lat=29.5&engine=s2", "", 400},
		{"outside the city", "GET", "/locate?lon=0&lat=0", "", 404},
		{"outside the city, postgis", "GET", "/locate?lon=0&lat=0&engine=postgis", "", 404},
		{"batch of 10,001", "POST", "/locate", many, 400},
		{"batch without points", "POST", "/locate", `{}`, 400},
		{"batch malformed", "POST", "/locate", `{"points":[[1,2]`, 400},
		{"batch point of 3 numbers", "POST", "/locate", `{"points":[[106.5,29.5,1]]}`, 400},
		{"batch point out of range", "POST", "/locate", `{"points":[[106.5,95]]}`, 400},
		{"batch NaN", "POST", "/locate", `{"points":[[NaN,29.5]]}`, 400},
		{"batch unknown field", "POST", "/locate", `{"pts":[]}`, 400},
		{"batch unknown crs", "POST", "/locate", `{"crs":"x","points":[]}`, 400},
		{"empty batch", "POST", "/locate", `{"points":[]}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, tt.method, base+tt.path, tt.body)
			wantAnswer(t, code, tt.want, body)
			t.Logf("%d %v", code, body["error"])
		})
	}
}
