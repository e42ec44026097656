package postgis_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testCity is the seeded test city of the query tests: the dense core
// (Yuzhong) and a rural county (Chengkou).
var testCity = data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103", "500229"},
	Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}

// seededCity is a fresh database holding the seeded test city.
func seededCity(t *testing.T) *postgis.DB {
	t.Helper()
	db, _ := pgtest.New(t)
	if _, err := data.Seed(context.Background(), db, testCity, quietLog()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return db
}

// sqlLocate answers every point with ST_Covers in one query: the lowest
// active grid code covering it, "" when none.
func sqlLocate(t *testing.T, db *postgis.DB, pts []orb.Point) []string {
	t.Helper()
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := db.Pool.Query(context.Background(), `SELECT coalesce((SELECT code FROM grids
		WHERE status = 'active' AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(x, y), 4326)) ORDER BY code LIMIT 1), '')
		FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) ORDER BY i`, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cityPoints is n random points in and around every district's box (10%
// margin), plus every 7th vertex of the grids' outlines — points on
// shared edges and corners, where the lowest code must win.
func cityPoints(t *testing.T, db *postgis.DB, n int, seed uint64) []orb.Point {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
		FROM regions WHERE level = 'district' ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	var boxes []orb.Bound
	for rows.Next() {
		var b orb.Bound
		if err := rows.Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1]); err != nil {
			t.Fatal(err)
		}
		boxes = append(boxes, b.Pad(0.1*(b.Max[0]-b.Min[0])))
	}
	rows.Close()
	rng := rand.New(rand.NewPCG(seed, 1))
	pts := make([]orb.Point, 0, n)
	for len(pts) < n {
		b := boxes[len(pts)%len(boxes)]
		pts = append(pts, orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])})
	}
	rows, err = db.Pool.Query(ctx, `SELECT ST_X(p.geom), ST_Y(p.geom) FROM (
		SELECT (ST_DumpPoints(geom)).geom, row_number() OVER () AS k FROM grids WHERE status = 'active') p
		WHERE k % 7 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	return pts
}

func TestLocateSeededCity(t *testing.T) {
	db := seededCity(t)
	t.Run("agrees with ST_Covers", func(t *testing.T) { testLocateAgreesWithSTCovers(t, db) })
	t.Run("matches LocateSQL", func(t *testing.T) { testLocateMatchesLocateSQL(t, db) })
}

// Locate agrees with PostGIS ST_Covers on 10,000 random points in and
// around the seeded city, and on grid vertices.
func testLocateAgreesWithSTCovers(t *testing.T, db *postgis.DB) {
	l, err := db.NewLocator(context.Background(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if l.Index.Len() == 0 {
		t.Fatal("no grids loaded")
	}
	pts := cityPoints(t, db, 10000, 7)
	want := sqlLocate(t, db, pts)
	got := l.LocateBatch(pts)
	in, edge := 0, 0
	for i, p := range pts {
		g := ""
		if got[i] != nil {
			g = got[i].Grid.Code
		}
		if g != want[i] {
			t.Errorf("point %d %v: index %q, ST_Covers %q", i, p, g, want[i])
		}
		if want[i] != "" {
			in++
		}
		if i >= 10000 {
			edge++
		}
	}
	t.Logf("%d points (%d grid vertices), %d inside a grid, %d grids in %d cells", len(pts), edge, in,
		l.Index.Len(), l.Index.Cells())
	if in < 1000 || in > len(pts)-1000 {
		t.Errorf("%d of %d points inside: the sample should have both kinds", in, len(pts))
	}
}

// sensitiveEq compares concealed values by what they hold and show.
var sensitiveEq = cmp.Comparer(func(a, b wangge.Sensitive) bool { return a.Value() == b.Value() && a.Shown() == b.Shown() })

// The full answer (names, worker) equals the SQL baseline's, for the
// city and inside a street, where grids outside it are found by neither.
func testLocateMatchesLocateSQL(t *testing.T, db *postgis.DB) {
	var street string // the largest: random points fall in it and out of it
	if err := db.Pool.QueryRow(context.Background(), `SELECT left(code, 9) FROM grids WHERE status = 'active'
		GROUP BY 1 ORDER BY sum(ST_Area(geom)) DESC LIMIT 1`).Scan(&street); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []wangge.Scope{wangge.CityScope(), wangge.ScopeOf(street)} {
		t.Run(scope.String(), func(t *testing.T) { locateMatchesLocateSQL(t, db, scope) })
	}
}

func locateMatchesLocateSQL(t *testing.T, db *postgis.DB, scope wangge.Scope) {
	ctx := context.Background()
	l, err := db.NewLocator(ctx, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	workers, outside, found := 0, 0, 0
	for i, p := range cityPoints(t, db, 300, 11)[:300] {
		got, ok := l.LocateIn(scope, p[0], p[1])
		if all, found := l.Locate(p[0], p[1]); found && !ok {
			outside++
			if scope.Covers(all.Grid.Code) {
				t.Errorf("point %d: grid %s inside %s not found", i, all.Grid.Code, scope)
			}
		}
		want, err := db.LocateSQL(ctx, scope, p[0], p[1])
		if !ok {
			if err == nil {
				t.Errorf("point %d: index found nothing, SQL found %+v", i, want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("point %d: SQL: %v", i, err)
		}
		if d := cmp.Diff(want, got, sensitiveEq); d != "" {
			t.Errorf("point %d (-sql +index):\n%s", i, d)
		}
		if !scope.Covers(got.Grid.Code) {
			t.Errorf("point %d: grid %s outside %s", i, got.Grid.Code, scope)
		}
		found++
		if got.Worker != nil {
			workers++
		}
	}
	if scope.City() && workers == 0 {
		t.Error("no answer named a grid worker")
	}
	if !scope.City() && (outside == 0 || found == 0) {
		t.Errorf("%d points found inside %s, %d outside: the sample proves nothing", found, scope, outside)
	}
}

// A redrawn grid reaches a started Locator through the NOTIFY.
func TestLocatorFollowsGridChanges(t *testing.T) {
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := db.StartLocator(ctx, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Locate(106.575, 29.555); !ok || got.Grid.Code != "500103001001002" || got.District.Name != "渝中区" {
		t.Fatalf("before: %+v %v", got, ok)
	}
	// GridAt, for event intake: the code, or invalid input outside.
	if code, err := l.GridAt(ctx, 106.565, 29.555); err != nil || code != "500103001001001" {
		t.Errorf("GridAt inside: %q, %v", code, err)
	}
	if _, err := l.GridAt(ctx, 106.0, 29.0); !errors.Is(err, wangge.ErrInvalid) {
		t.Errorf("GridAt outside: %v, want ErrInvalid", err)
	}
	// Grid 1 takes over grid 2's area; grid 2 retires.
	if _, err := db.Pool.Exec(ctx, `BEGIN;
		UPDATE buildings SET grid_code = '500103001001001' WHERE grid_code = '500103001001002';
		UPDATE grids SET geom = ST_Multi(ST_MakeEnvelope(106.56, 29.55, 106.58, 29.56, 4326)) WHERE id = 1;
		UPDATE grids SET status = 'retired' WHERE id = 2;
		SELECT tile_changed('grids', ST_MakeEnvelope(106.56, 29.55, 106.58, 29.56, 4326));
		COMMIT`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, ok := l.Locate(106.575, 29.555)
		if ok && got.Grid.Code == "500103001001001" && l.Index.Len() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the change: %+v %v, %d grids", got, ok, l.Index.Len())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	l.Wait()
}
