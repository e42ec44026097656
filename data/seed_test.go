package data

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// The subset the database tests seed: the dense core (Yuzhong), a core
// district with river and suburbs (Dadukou) and a mountain county
// (Chengkou). Small scale keeps go test -race fast.
var testDistricts = []string{"500103", "500104", "500229"}

var testNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func seedTest(t *testing.T, db *postgis.DB, seed int64, districts []string) Stats {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := Seed(context.Background(), db, Options{Scale: 0.02, Seed: seed, Districts: districts, Now: testNow}, log)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return st
}

// areaM2 is the planar area in m² of a lon/lat expression: degenerate
// slivers along straight edges have zero planar area, while geography
// area would count the geodesic bulge of long edges.
func areaM2(expr string) string {
	return "(ST_Area(" + expr + ") * 111195.0 ^ 2 * cos(radians(29.5)))"
}

// count runs a query that counts violations; the test fails unless 0.
func zero(t *testing.T, db *postgis.DB, name, q string) {
	t.Helper()
	var n int64
	if err := db.Pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if n != 0 {
		t.Errorf("%s: %d violations", name, n)
	}
}

func TestSeedSubset(t *testing.T) {
	db, _ := pgtest.New(t)
	st := seedTest(t, db, 7, testDistricts)
	ctx := context.Background()

	t.Run("levels match the code lists", func(t *testing.T) {
		ds, err := loadDistricts()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for _, d := range ds {
			for _, c := range testDistricts {
				if d.Code == c {
					want["district"]++
					want["street"] += len(d.Streets)
					for _, s := range d.Streets {
						want["community"] += len(s.Communities)
					}
				}
			}
		}
		got := map[string]int{}
		rows, err := db.Pool.Query(ctx, `SELECT level, count(*) FROM regions GROUP BY level`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l string
			var n int
			if err := rows.Scan(&l, &n); err != nil {
				t.Fatal(err)
			}
			got[l] = n
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("regions per level (-want +got):\n%s", diff)
		}
		if st.Rows["grids"] == 0 || st.Rows["residents"] == 0 || st.Rows["events"] == 0 {
			t.Errorf("stats lack rows: %v", st.Rows)
		}
	})

	checks := []struct{ name, q string }{
		{"grid outside its community", `SELECT count(*) FROM grids g JOIN regions c ON c.code = g.community_code
			WHERE NOT ST_CoveredBy(g.geom, c.geom) AND ` + areaM2("ST_Difference(g.geom, c.geom)") + ` > 1`},
		{"region outside its parent", `SELECT count(*) FROM regions r JOIN regions p ON p.code = r.parent_code
			WHERE NOT ST_CoveredBy(r.geom, p.geom) AND ` + areaM2("ST_Difference(r.geom, p.geom)") + ` > 1`},
		{"community not covered exactly by its grids (gap or overlap > 1 m²)", `
			SELECT count(*) FROM regions c JOIN (
				SELECT community_code, ST_Union(geom) AS u, sum(ST_Area(geom)) AS a FROM grids GROUP BY 1) g
			ON g.community_code = c.code
			WHERE ` + areaM2("ST_SymDifference(c.geom, g.u)") + ` > 1
			   OR abs(g.a - ST_Area(c.geom)) * 111195.0 ^ 2 * cos(radians(29.5)) > 1`},
		{"district differs from the union of its streets", `
			SELECT count(*) FROM regions d JOIN (
				SELECT parent_code, ST_Union(geom) AS u FROM regions WHERE level = 'street' GROUP BY 1) s
			ON s.parent_code = d.code WHERE ` + areaM2("ST_SymDifference(d.geom, s.u)") + ` > 1`},
		{"grid differs from the union of its parcels", `
			SELECT count(*) FROM grids g JOIN (SELECT grid_code, ST_Union(geom) AS u FROM parcels GROUP BY 1) p
			ON p.grid_code = g.code WHERE ` + areaM2("ST_SymDifference(g.geom, p.u)") + ` > 1`},
		{"grid code does not nest or name", `SELECT count(*) FROM grids
			WHERE left(code, 12) <> community_code OR name !~ '^第[0-9]+网格$'`},
		{"grid with too few parcels", `SELECT count(*) FROM grids g
			WHERE (SELECT count(*) FROM parcels p WHERE p.grid_code = g.code) < 1`},
		{"building outside its grid or parcel", `SELECT count(*) FROM buildings b
			JOIN grids g ON g.code = b.grid_code JOIN parcels p ON p.id = b.parcel_id
			WHERE NOT ST_CoveredBy(b.geom, g.geom) OR NOT ST_CoveredBy(b.geom, p.geom) OR p.grid_code <> b.grid_code`},
		{"building counts out of sync with rows", `SELECT count(*) FROM buildings b
			LEFT JOIN (SELECT building_id, count(*) AS n, count(*) FILTER (WHERE tags <> '{}') AS tagged
			           FROM residents GROUP BY 1) r ON r.building_id = b.id
			LEFT JOIN (SELECT building_id, count(*) AS n, sum(size) AS size FROM households GROUP BY 1) h ON h.building_id = b.id
			WHERE b.residents <> coalesce(r.n, 0) OR b.tagged <> coalesce(r.tagged, 0)
			   OR b.households <> coalesce(h.n, 0) OR coalesce(h.size, 0) <> coalesce(r.n, 0)`},
		{"resident ID not from its district", `SELECT count(*) FROM residents WHERE left(id_number, 6) <> left(grid_code, 6)`},
		{"object or event outside its grid", `SELECT (SELECT count(*) FROM objects o JOIN grids g ON g.code = o.grid_code
			WHERE NOT ST_DWithin(o.geom, g.geom, 1e-9)) + (SELECT count(*) FROM events e JOIN grids g ON g.code = e.grid_code
			WHERE NOT ST_DWithin(e.geom, g.geom, 1e-9))`},
		{"grid without its grid worker", `SELECT count(*) FROM grids g WHERE NOT EXISTS (
			SELECT 1 FROM units u WHERE u.grid_code = g.code AND u.kind = 'grid_worker')`},
		{"event trail out of order or not ending in its status", `SELECT count(*) FROM events e JOIN LATERAL (
			SELECT (array_agg(to_status ORDER BY at, id))[count(*)] AS last, (array_agg(action ORDER BY at, id))[1] AS first,
			       bool_and(at <= $$2026-11-01T00:00:00+08$$) AS past, (array_agg(to_tier ORDER BY at, id))[count(*)] AS tier
			FROM event_log l WHERE l.event_id = e.id) l ON true
			WHERE l.last <> e.status OR l.first <> 'report' OR NOT l.past OR l.tier <> e.tier`},
		{"event about a component of another grid, category or place", `SELECT count(*) FROM events e JOIN objects o ON o.id = e.object_id
			WHERE o.grid_code <> e.grid_code OR NOT ST_Equals(o.geom, e.geom) OR o.category <> CASE e.category_code
				WHEN 'fire_alarm' THEN 'smoke_sensor' WHEN 'gas_leak' THEN 'gas_valve' WHEN 'manhole_cover' THEN 'manhole'
				WHEN 'street_light' THEN 'street_light' WHEN 'water_supply' THEN 'water_meter' WHEN 'pipe_leak' THEN 'water_meter'
				WHEN 'sanitation' THEN 'trash_bin' END
			OR (e.source = 'sensor' AND o.device_id IS NOT NULL AND e.reporter <> o.device_id)
			OR (e.category_code = 'fire_alarm' AND e.source <> 'sensor')`},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { zero(t, db, c.name, c.q) })
	}

	t.Run("events about components are tied to them", func(t *testing.T) {
		// An event about a kind of component names one exactly when its
		// grid has one (a fire alarm only when a sensor raised it).
		var tied, untied int
		err := db.Pool.QueryRow(ctx, `WITH k(cat, obj) AS (VALUES ('fire_alarm', 'smoke_sensor'), ('gas_leak', 'gas_valve'),
				('manhole_cover', 'manhole'), ('street_light', 'street_light'), ('water_supply', 'water_meter'),
				('pipe_leak', 'water_meter'), ('sanitation', 'trash_bin'))
			SELECT count(*) FILTER (WHERE e.object_id IS NOT NULL),
				count(*) FILTER (WHERE (e.object_id IS NOT NULL) <> (EXISTS (SELECT 1 FROM objects o
					WHERE o.grid_code = e.grid_code AND o.category = k.obj) AND (e.category_code <> 'fire_alarm' OR e.source = 'sensor')))
			FROM events e JOIN k ON k.cat = e.category_code`).Scan(&tied, &untied)
		if err != nil {
			t.Fatal(err)
		}
		if tied == 0 || untied > 0 {
			t.Errorf("%d events tied to a component; %d tied where they should not be, or not where they should", tied, untied)
		}
	})

	t.Run("ID numbers carry valid check characters", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT id_number FROM residents`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			if !geo.ValidIDNumber(id) {
				t.Fatalf("invalid ID number %s", id)
			}
			n++
		}
		if n == 0 {
			t.Fatal("no residents")
		}
	})

	t.Run("event mix", func(t *testing.T) {
		var grid, street, district, closed, open float64
		err := db.Pool.QueryRow(ctx, `SELECT avg((tier = 'grid')::int), avg((tier = 'street')::int), avg((tier = 'district')::int),
			avg((status IN ('closed', 'evaluated', 'rejected', 'duplicate'))::int),
			count(*) FILTER (WHERE status NOT IN ('closed', 'evaluated', 'rejected', 'duplicate')) FROM events`).
			Scan(&grid, &street, &district, &closed, &open)
		if err != nil {
			t.Fatal(err)
		}
		if grid < 0.74 || grid > 0.86 || street < 0.11 || street > 0.21 || district < 0.02 || district > 0.07 {
			t.Errorf("tiers grid %.3f street %.3f district %.3f, want about 0.80/0.16/0.04", grid, street, district)
		}
		if closed < 0.97 || open == 0 {
			t.Errorf("closed share %.3f (want ≥ 0.97), open events %v (want some)", closed, open)
		}
	})

	t.Run("refuses a database that holds data", func(t *testing.T) {
		_, err := Seed(ctx, db, Options{Scale: 0.01, Seed: 1, Districts: []string{"500103"}, Now: testNow},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if !errors.Is(err, wangge.ErrConflict) {
			t.Errorf("Seed on a seeded database: %v, want ErrConflict", err)
		}
	})
}

func TestSeedOptionsInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"zero scale", Options{Scale: 0, Now: testNow}},
		{"scale above one", Options{Scale: 1.5, Now: testNow}},
		{"no reference time", Options{Scale: 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Seed(context.Background(), nil, tt.opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if !errors.Is(err, wangge.ErrInvalid) {
				t.Errorf("Seed(%+v) = %v, want ErrInvalid", tt.opts, err)
			}
		})
	}
}

// Same seed → byte-identical tables in two fresh databases; another seed
// → different data.
func TestSeedDeterministic(t *testing.T) {
	ctx := context.Background()
	sum := func(seed int64) map[string]string {
		db, _ := pgtest.New(t)
		seedTest(t, db, seed, []string{"500103"})
		c, err := db.Checksum(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, c := sum(11), sum(11), sum(12)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("checksums of one seed differ (-first +second):\n%s", diff)
	}
	if a["all"] == c["all"] {
		t.Errorf("seeds 11 and 12 gave the same data (%s)", a["all"])
	}
	if a["residents"] == "" || a["events"] == "" {
		t.Errorf("checksums miss tables: %v", a)
	}
}

// A district seeded alone gets the same rows as when seeded with others.
func TestSeedSubsetStable(t *testing.T) {
	ctx := context.Background()
	one, _ := pgtest.New(t)
	seedTest(t, one, 5, []string{"500103"})
	two, _ := pgtest.New(t)
	seedTest(t, two, 5, []string{"500103", "500104"})
	var a, b string
	q := `SELECT md5(string_agg(t::text, E'\n' ORDER BY id)) FROM residents t WHERE grid_code LIKE '500103%'`
	if err := one.Pool.QueryRow(ctx, q).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := two.Pool.QueryRow(ctx, q).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("Yuzhong's residents differ when Dadukou is seeded too: %s vs %s", a, b)
	}
}

// A cancelled seed reports the cancellation and leaves the indexes and
// foreign keys in place.
func TestSeedCancelledKeepsSchema(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel at a known point, the first table copied (indexes and foreign
	// keys are dropped by then), not after a fixed time a loaded machine
	// may not reach.
	log := slog.New(cancelOn{slog.NewTextHandler(io.Discard, nil), "seed: copied", cancel})
	_, err := Seed(ctx, db, Options{Scale: 0.02, Seed: 1, Districts: []string{"500103"}, Now: testNow}, log)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Seed with a cancelled context: %v, want context.Canceled", err)
	}
	var idx, fks int
	err = db.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM pg_indexes WHERE indexname IN ('residents_grid_idx', 'buildings_geom_idx')),
		(SELECT count(*) FROM pg_constraint WHERE conname = 'residents_household_id_fkey')`).Scan(&idx, &fks)
	if err != nil {
		t.Fatal(err)
	}
	if idx != 2 || fks != 1 {
		t.Errorf("after a cancelled seed: %d of 2 indexes, %d of 1 foreign keys", idx, fks)
	}
}

// cancelOn cancels when a record with the given message is logged.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}
