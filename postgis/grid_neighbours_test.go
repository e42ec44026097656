package postgis_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis/pgtest"
)

func TestGridNeighboursSmallCity(t *testing.T) {
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	ctx := context.Background()
	ns, err := db.GridNeighbours(ctx, wangge.CityScope(), "500103001001001")
	if err != nil {
		t.Fatal(err)
	}
	// Two 0.01° squares side by side: one edge of 0.01° of latitude.
	if len(ns) != 1 || ns[0].Code != "500103001001002" || !ns[0].SameCommunity || math.Abs(ns[0].SharedM-1109) > 5 {
		t.Fatalf("neighbours %+v", ns)
	}
	if _, err := db.GridNeighbours(ctx, wangge.CityScope(), "500103001001999"); !errors.Is(err, wangge.ErrNotFound) {
		t.Fatalf("unknown grid: %v, want not found", err)
	}
}

// On a seeded district: the relation is symmetric with the same edge
// length, and it is exactly "shares more than half a metre of boundary",
// computed here independently from the grids' parcels.
func TestGridNeighboursSeeded(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, err := data.Seed(ctx, db, data.Options{Scale: 0.01, Seed: 7, Districts: []string{"500103"}, Now: planCity.Now}, quietLog()); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Pool.Query(ctx, `SELECT code FROM grids WHERE status = 'active' ORDER BY code LIMIT 40`)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(codes) < 10 {
		t.Fatalf("%d grids: %v", len(codes), err)
	}
	for _, code := range codes {
		ns, err := db.GridNeighbours(ctx, wangge.CityScope(), code)
		if err != nil {
			t.Fatal(err)
		}
		var want int
		// Parcels tile their grid: a neighbour is a grid owning a parcel
		// whose shared edge with one of this grid's parcels is long enough.
		if err := db.Pool.QueryRow(ctx, `SELECT count(DISTINCT q.grid_code) FROM parcels p JOIN parcels q
			ON q.geom && p.geom AND q.grid_code <> p.grid_code
			JOIN grids g ON g.code = q.grid_code AND g.status = 'active'
			WHERE p.grid_code = $1 AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, q.geom), 2)::geography) > 0.5`,
			code).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if len(ns) != want {
			t.Errorf("grid %s: %d neighbours, parcels say %d", code, len(ns), want)
		}
		for i, n := range ns {
			if i > 0 && n.SharedM > ns[i-1].SharedM {
				t.Errorf("grid %s: not longest edge first: %+v", code, ns)
			}
			if n.SameCommunity != (n.Community == code[:12]) {
				t.Errorf("grid %s: %+v same_community wrong", code, n)
			}
			back, err := db.GridNeighbours(ctx, wangge.CityScope(), n.Code)
			if err != nil {
				t.Fatal(err)
			}
			ok := false
			for _, b := range back {
				if b.Code == code && math.Abs(b.SharedM-n.SharedM) < 0.01 {
					ok = true
				}
			}
			if !ok {
				t.Errorf("grid %s lists %s (%.1f m) but not the other way round: %+v", code, n.Code, n.SharedM, back)
			}
		}
	}
}
