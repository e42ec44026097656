package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/postgis"
)

// tiers of a drill-down, top first; the index is a code's tier (city has
// no code: the top of the drill-down, GET /api/v1/regions).
var tiers = []string{"city", "district", "street", "community", "grid"}

const (
	tCity = iota
	tDistrict
	tStreet
	tCommunity
	tGrid
)

// statLevel is the level a wall colours when it looks at tier t: the one
// below, and the grids themselves at a grid.
func statLevel(t int) int { return min(t+1, tGrid) }

// point is where an incident can be reported: inside an active grid.
type point struct{ lon, lat float64 }

// city is what the load is drawn from, read from the database once: real
// codes per tier, grouped by district (a district wall drills inside its
// own), points inside grids, categories and units to dispatch.
type city struct {
	districts  []string
	codes      [5]map[string][]string // tier → district → codes ("" holds all)
	points     []point
	categories []string
	units      []int64
}

func loadCity(ctx context.Context, db *postgis.DB) (*city, error) {
	c := &city{}
	for t := range c.codes {
		c.codes[t] = map[string][]string{}
	}
	add := func(t int, code string) {
		c.codes[t][""] = append(c.codes[t][""], code)
		c.codes[t][code[:6]] = append(c.codes[t][code[:6]], code)
	}
	rows, err := db.Pool.Query(ctx, `SELECT code, level FROM regions WHERE level IN ('district', 'street', 'community')
		UNION ALL SELECT code, 'grid' FROM grids WHERE status = 'active' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("codes: %w", err)
	}
	var code, level string
	if _, err := pgx.ForEachRow(rows, []any{&code, &level}, func() error {
		for t, name := range tiers {
			if name == level {
				add(t, code)
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("codes: %w", err)
	}
	c.districts = c.codes[tDistrict][""]
	if len(c.districts) == 0 || len(c.codes[tGrid][""]) == 0 {
		return nil, fmt.Errorf("the database has no districts or no active grids: is it seeded?")
	}
	// A sample is enough to spread incidents; ST_PointOnSurface on every
	// grid of a scale-1 city would cost seconds for nothing.
	rows, err = db.Pool.Query(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT geom FROM grids WHERE status = 'active'
		ORDER BY random() LIMIT 2000) g, ST_PointOnSurface(g.geom) p`)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	var p point
	if _, err := pgx.ForEachRow(rows, []any{&p.lon, &p.lat}, func() error {
		c.points = append(c.points, p)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT code FROM event_categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	if c.categories, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT id FROM units WHERE kind IN ('patrol', 'grid_worker') ORDER BY id LIMIT 5000`)
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	if c.units, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	return c, nil
}

// pick draws a tier and a code of it inside district ("" the whole city):
// a city wall drills from the top, a district wall from its district.
func (c *city) pick(r *rand.Rand, district string) (tier int, code string) {
	if district == "" {
		tier = r.IntN(len(tiers))
		if tier == tCity {
			return tCity, ""
		}
	} else {
		tier = tDistrict + r.IntN(len(tiers)-1)
	}
	codes := c.codes[tier][district]
	return tier, codes[r.IntN(len(codes))]
}

// tierOf is a code's tier by its length.
func tierOf(code string) int {
	switch len(code) {
	case 0:
		return tCity
	case 6:
		return tDistrict
	case 9:
		return tStreet
	case 12:
		return tCommunity
	}
	return tGrid
}

func (c *city) summary() string {
	var b strings.Builder
	for t := tDistrict; t <= tGrid; t++ {
		fmt.Fprintf(&b, "%s %d, ", tiers[t], len(c.codes[t][""]))
	}
	fmt.Fprintf(&b, "categories %d, units to dispatch %d", len(c.categories), len(c.units))
	return b.String()
}
