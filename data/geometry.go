package data

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

// Cell ids: district index × cellSpan + position on the district's curve
// (kept when mendGrids lays the leaves out again). A cell's parcels are
// 2·id (land) and 2·id+1 (water).
const cellSpan = 10_000_000

func (p *plan) cellID(i int) int64 { return p.Idx*cellSpan + int64(p.Leaves[i].Curve) }

// wkb encodes g as EWKB with SRID 4326, the form COPY hands to PostGIS.
func wkb(g orb.Geometry) []byte {
	b, err := ewkb.Marshal(g, 4326)
	if err != nil { // only for geometry types we never build
		panic(fmt.Sprintf("data: ewkb: %v", err))
	}
	return b
}

func boundPolygon(b orb.Bound) orb.Polygon {
	return orb.Polygon{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}

// stage loads rivers, names, grids and cells into the staging tables.
func (s *seeder) stage(ctx context.Context, rivers []river) error {
	if err := s.db.SeedStage(ctx); err != nil {
		return err
	}
	var rows [][]any
	for _, r := range rivers {
		rows = append(rows, []any{wkb(r.Line), r.HalfWidth})
	}
	if _, err := s.db.CopyRows(ctx, "seed_rivers", []string{"geom", "half_width"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	rows = rows[:0]
	var grids [][]any
	for _, p := range s.plans {
		for _, st := range p.D.Streets {
			rows = append(rows, []any{st.Code, "street", st.Name, kindOf(class(st.Name) == 0), p.D.Code})
			for _, c := range st.Communities {
				rows = append(rows, []any{c.Code, "community", c.Name, kindOf(c.Urban), st.Code})
			}
		}
		for gi, g := range p.Grids {
			var geom any
			if mp := p.outline(gi); mp != nil {
				geom = wkb(mp)
			}
			grids = append(grids, []any{g.ID, g.Code, g.Community.Code, g.Name, geom})
		}
	}
	if _, err := s.db.CopyRows(ctx, "seed_names", []string{"code", "level", "name", "kind", "parent"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if _, err := s.db.CopyRows(ctx, "seed_grids", []string{"id", "code", "community_code", "name", "geom"}, pgx.CopyFromRows(grids)); err != nil {
		return err
	}
	err := s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		t0 := time.Now()
		i := 0
		n, err := s.db.CopyRows(ctx, "seed_cells", []string{"id", "district", "grid_code", "community_code", "land_use", "flags", "geom"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(p.Leaves) {
					return nil, nil
				}
				l := p.Leaves[i]
				g := &p.Grids[l.Grid]
				row := []any{p.cellID(i), p.D.Code, g.Code, g.Community.Code, l.LandUse, int16(l.Flags), wkb(boundPolygon(l.B))}
				i++
				return row, nil
			}))
		s.log.Debug("seed: cells staged", "district", p.D.Code, "cells", n, "duration", time.Since(t0))
		return err
	})
	if err != nil {
		return err
	}
	return s.db.SeedIndexStage(ctx)
}

func kindOf(urban bool) string {
	if urban {
		return "urban"
	}
	return "rural"
}

// districts inserts the district boundaries and their land/water pieces.
func (s *seeder) districts(ctx context.Context) error {
	return s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		kind := ""
		if coreDistricts[p.D.Code] {
			kind = "urban"
		}
		if err := s.db.SeedDistrict(ctx, p.D.Code, p.D.Name, kind, wkb(p.D.Geom)); err != nil {
			return err
		}
		s.count("regions", 1, 0)
		return nil
	})
}

// geometry cuts the parcels and builds grids and regions from them.
func (s *seeder) geometry(ctx context.Context) error {
	return s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		t0 := time.Now()
		n, err := s.db.SeedParcels(ctx, p.D.Code)
		if err != nil {
			return err
		}
		s.count("parcels", n, time.Since(t0))
		t1 := time.Now()
		nr, ng, err := s.db.SeedRegions(ctx, p.D.Code, p.Idx*cellSpan*2, (p.Idx+1)*cellSpan*2)
		if err != nil {
			return err
		}
		s.count("regions", nr, 0)
		s.count("grids", ng, 0)
		if ng != int64(len(p.Grids)) {
			return fmt.Errorf("data: district %s: %d of %d grids have parcels", p.D.Code, ng, len(p.Grids))
		}
		s.log.Info("seed: district geometry", "district", p.D.Code, "parcels", n,
			"parcels_s", t1.Sub(t0).Round(time.Millisecond), "unions_s", time.Since(t1).Round(time.Millisecond))
		return nil
	})
}
