package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// people loads buildings, households and residents district by district.
// Buildings are laid out once per district; households and residents are
// regenerated from each building's stream, so nothing larger than one
// district's buildings is held in memory.
func (s *seeder) people(ctx context.Context) error {
	return s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		var next int64 = 1
		p.Bldgs = p.Bldgs[:0]
		p.GridB = make([]int, len(p.Grids)+1)
		for gi := range p.Grids {
			p.GridB[gi] = len(p.Bldgs)
			p.Bldgs = append(p.Bldgs, p.buildings(gi, s.opts.Seed, s.opts.Scale, &next)...)
		}
		p.GridB[len(p.Grids)] = len(p.Bldgs)
		if err := s.copyBuildings(ctx, p); err != nil {
			return err
		}
		if err := s.copyHouseholds(ctx, p); err != nil {
			return err
		}
		if err := s.copyResidents(ctx, p); err != nil {
			return err
		}
		err := s.objects(ctx, p) // smoke sensors sit in buildings
		p.Bldgs, p.GridB = nil, nil
		return err
	})
}

// rows adapts a generator that fills one row per call (false when done).
type rows struct {
	next func() ([]any, bool)
}

func (r rows) fn() pgx.CopyFromSource {
	return pgx.CopyFromFunc(func() ([]any, error) {
		row, ok := r.next()
		if !ok {
			return nil, nil
		}
		return row, nil
	})
}

func (s *seeder) copy(ctx context.Context, p *plan, table string, cols []string, next func() ([]any, bool)) error {
	t0 := time.Now()
	n, err := s.db.CopyRows(ctx, table, cols, rows{next}.fn())
	s.count(table, n, time.Since(t0), "district", p.D.Code)
	return err
}

// gridOf finds the grid of building index i.
func (p *plan) gridOf(i int, gi *int) *gridPlan {
	for p.GridB[*gi+1] <= i {
		*gi++
	}
	return &p.Grids[*gi]
}

func (s *seeder) copyBuildings(ctx context.Context, p *plan) error {
	i, gi := 0, 0
	return s.copy(ctx, p, "buildings", []string{"id", "grid_code", "parcel_id", "address", "name", "use", "floors",
		"built_year", "households", "residents", "tagged", "geom"}, func() ([]any, bool) {
		if i == len(p.Bldgs) {
			return nil, false
		}
		b := &p.Bldgs[i]
		g := p.gridOf(i, &gi)
		i++
		res, tagged := counts(s.opts.Seed, b, !g.Urban, s.opts.Now)
		return []any{b.ID, g.Code, p.cellID(b.Leaf) * 2, b.Address, b.Name, b.Use, b.Floors, b.BuiltYear,
			int32(b.Households), int32(res), int32(tagged), wkb(boundPolygon(b.Rect))}, true
	})
}

// walker steps through every household of a district in building order,
// drawing each building's people from its own stream.
type walker struct {
	s      *seeder
	p      *plan
	i, gi  int
	h      int
	rng    *rand.Rand
	detail *rand.Rand // names, numbers: a second stream per building
}

func (w *walker) next() (b *bldg, g *gridPlan, h int, ms []member, ok bool) {
	for w.i < len(w.p.Bldgs) {
		b = &w.p.Bldgs[w.i]
		g = w.p.gridOf(w.i, &w.gi)
		if w.rng == nil {
			w.rng, w.detail, w.h = stream(w.s.opts.Seed, uint64(b.ID), 3), stream(w.s.opts.Seed, uint64(b.ID), 4), 0
		}
		if w.h < b.Households {
			h = w.h
			w.h++
			return b, g, h, household(w.rng, !g.Urban, w.s.opts.Now), true
		}
		w.i++
		w.rng = nil
	}
	return nil, nil, 0, nil, false
}

func (s *seeder) copyHouseholds(ctx context.Context, p *plan) error {
	w := &walker{s: s, p: p}
	var id int64
	return s.copy(ctx, p, "households", []string{"id", "building_id", "grid_code", "unit_no", "size"}, func() ([]any, bool) {
		b, g, h, ms, ok := w.next()
		if !ok {
			return nil, false
		}
		id++
		return []any{p.Idx*rowSpan + id, b.ID, g.Code, unitNo(b, h), int16(len(ms))}, true
	})
}

func (s *seeder) copyResidents(ctx context.Context, p *plan) error {
	w := &walker{s: s, p: p}
	var hid, rid int64
	var cur []member
	var b *bldg
	var g *gridPlan
	k := 0
	return s.copy(ctx, p, "residents", []string{"id", "household_id", "building_id", "grid_code", "name", "id_number",
		"phone", "gender", "birth_date", "relation", "tags"}, func() ([]any, bool) {
		for k == len(cur) {
			var ok bool
			b, g, _, cur, ok = w.next()
			if !ok {
				return nil, false
			}
			hid++
			k = 0
		}
		m := cur[k]
		k++
		rid++
		var ph any
		if m.Birth.Before(s.opts.Now.AddDate(-14, 0, 0)) {
			ph = phone(w.detail)
		}
		gender := "F"
		if m.Male {
			gender = "M"
		}
		return []any{p.Idx*rowSpan + rid, p.Idx*rowSpan + hid, b.ID, g.Code, personName(w.detail, m.Male),
			idNumber(w.detail, p.D.Code, m.Birth, m.Male), ph, gender, m.Birth, m.Relation, tagList(m.Tags)}, true
	})
}

// unitNo is a flat's number: floor-door in blocks, "1" in village houses.
func unitNo(b *bldg, h int) string {
	if b.Floors <= 3 {
		return fmt.Sprintf("%d", h+1)
	}
	per := max(1, b.Households/int(b.Floors))
	return fmt.Sprintf("%d-%02d", h/per+1, h%per+1)
}
