package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/wangge/wangge/postgis"
)

// peopleTables are the tables the people pass fills, each through one
// COPY in district order.
var peopleTables = []string{"buildings", "households", "residents", "objects"}

var (
	buildingCols = []string{"id", "grid_code", "parcel_id", "address", "name", "use", "floors",
		"built_year", "households", "residents", "tagged", "geom"}
	householdCols = []string{"id", "building_id", "grid_code", "unit_no", "size"}
	residentCols  = []string{"id", "household_id", "building_id", "grid_code", "name", "id_number",
		"phone", "gender", "birth_date", "relation", "tags"}
	objectCols = []string{"id", "category", "category_code", "grid_code", "building_id", "device_id",
		"status", "installed_on", "geom"}
)

// people loads buildings, households, residents and objects district by
// district in one pass: each building's households are drawn once, and
// its row (which carries their counts) follows them. A district's
// buildings are laid out when it starts and dropped when it ends; its
// component links go to the events pass through next.
func (s *seeder) people(ctx context.Context, next chan<- *plan, done *counter) error {
	defer close(next)
	ss, err := s.openStreams(ctx, peopleTables, buildingCols, householdCols, residentCols, objectCols)
	if err != nil {
		return err
	}
	for _, p := range s.plans {
		if err := s.districtPeople(ss, p); err != nil {
			abortAll(ss)
			return err
		}
		done.done.Add(1)
		select {
		case next <- p:
		case <-ctx.Done():
			abortAll(ss)
			return ctx.Err()
		}
	}
	return s.closeStreams(ss)
}

func (s *seeder) districtPeople(ss []*postgis.CopyStream, p *plan) error {
	t0 := time.Now()
	before := rowsOf(ss)
	var nextID int64 = 1
	p.Bldgs = p.Bldgs[:0]
	p.GridB = make([]int, len(p.Grids)+1)
	for gi := range p.Grids {
		p.GridB[gi] = len(p.Bldgs)
		p.Bldgs = append(p.Bldgs, p.buildings(gi, s.opts.Seed, s.opts.Scale, &nextID)...)
	}
	p.GridB[len(p.Grids)] = len(p.Bldgs)
	w := &peopleWriter{s: s, p: p, b: ss[0], h: ss[1], r: ss[2]}
	gi := 0
	for i := range p.Bldgs {
		if err := w.building(&p.Bldgs[i], p.gridOf(i, &gi)); err != nil {
			return err
		}
	}
	if err := s.objects(ss[3], p); err != nil { // smoke sensors sit in buildings
		return err
	}
	p.Bldgs, p.GridB = nil, nil
	s.copied(ss, before, time.Since(t0), p)
	return nil
}

// gridOf finds the grid of building index i.
func (p *plan) gridOf(i int, gi *int) *gridPlan {
	for p.GridB[*gi+1] <= i {
		*gi++
	}
	return &p.Grids[*gi]
}

// peopleWriter writes a district's buildings with their households and
// residents.
type peopleWriter struct {
	s       *seeder
	p       *plan
	b, h, r *postgis.CopyStream
	hid     int64 // household sequence in the district
	rid     int64 // resident sequence
}

// building draws b's households from the building's own streams (the
// structure from one, names and numbers from another), so its people
// do not depend on the order buildings are visited in.
func (w *peopleWriter) building(b *bldg, g *gridPlan) error {
	rng := stream(w.s.opts.Seed, uint64(b.ID), 3)
	detail := stream(w.s.opts.Seed, uint64(b.ID), 4)
	rural := !g.Urban
	adult := w.s.opts.Now.AddDate(-14, 0, 0)
	residents, tagged := 0, 0
	for h := range b.Households {
		ms := household(rng, rural, w.s.opts.Now)
		w.hid++
		hid := w.p.Idx*rowSpan + w.hid
		w.h.Row(len(householdCols))
		w.h.Int64(hid)
		w.h.Int64(b.ID)
		w.h.Text(g.Code)
		w.h.TextFunc(func(buf []byte) []byte { return appendUnitNo(buf, b, h) })
		w.h.Int16(int16(len(ms)))
		if err := w.h.End(); err != nil {
			return err
		}
		for _, m := range ms {
			residents++
			if m.Tags != 0 {
				tagged++
			}
			if err := w.resident(b, g, hid, m, detail, adult); err != nil {
				return err
			}
		}
	}
	c := w.b
	c.Row(len(buildingCols))
	c.Int64(b.ID)
	c.Text(g.Code)
	c.Int64(w.p.cellID(b.Leaf) * 2)
	c.Text(b.Address)
	c.Text(b.Name)
	c.Text(b.Use)
	c.Int16(b.Floors)
	c.Int16(b.BuiltYear)
	c.Int32(int32(b.Households))
	c.Int32(int32(residents))
	c.Int32(int32(tagged))
	c.Rect(b.Rect.Min[0], b.Rect.Min[1], b.Rect.Max[0], b.Rect.Max[1])
	return c.End()
}

// resident writes one member; detail draws, in this order, the phone (of
// those 14 or older), the name and the ID number's sequence.
func (w *peopleWriter) resident(b *bldg, g *gridPlan, hid int64, m member, detail *rand.Rand, adult time.Time) error {
	c := w.r
	w.rid++
	c.Row(len(residentCols))
	c.Int64(w.p.Idx*rowSpan + w.rid)
	c.Int64(hid)
	c.Int64(b.ID)
	c.Text(g.Code)
	var ph string
	if m.Birth.Before(adult) {
		ph = phone(detail)
	}
	c.Text(personName(detail, m.Male))
	c.Text(idNumber(detail, w.p.D.Code, m.Birth, m.Male))
	if ph == "" {
		c.Null()
	} else {
		c.Text(ph)
	}
	if m.Male {
		c.Text("M")
	} else {
		c.Text("F")
	}
	c.Date(m.Birth)
	c.Text(m.Relation)
	c.TextArray(tagList(m.Tags))
	return c.End()
}

// appendUnitNo appends a flat's number: floor-door in blocks, "1" in
// village houses.
func appendUnitNo(buf []byte, b *bldg, h int) []byte {
	if b.Floors <= 3 {
		return strconv.AppendInt(buf, int64(h+1), 10)
	}
	per := max(1, b.Households/int(b.Floors))
	buf = strconv.AppendInt(buf, int64(h/per+1), 10)
	buf = append(buf, '-')
	if d := h%per + 1; d < 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, int64(h%per+1), 10)
}

// openStreams starts one COPY per table; cols[i] are table i's columns.
func (s *seeder) openStreams(ctx context.Context, tables []string, cols ...[]string) ([]*postgis.CopyStream, error) {
	ss := make([]*postgis.CopyStream, 0, len(tables))
	for i, t := range tables {
		c, err := s.db.OpenCopy(ctx, t, cols[i])
		if err != nil {
			abortAll(ss)
			return nil, fmt.Errorf("data: seed: %w", err)
		}
		ss = append(ss, c)
		s.prog.track(c)
	}
	return ss, nil
}

// closeStreams commits every table's load.
func (s *seeder) closeStreams(ss []*postgis.CopyStream) error {
	var first error
	for _, c := range ss {
		if first != nil {
			c.Abort()
			continue
		}
		if err := c.Close(); err != nil {
			first = err
			continue
		}
		s.loaded(c.Table)
	}
	return first
}

func abortAll(ss []*postgis.CopyStream) {
	for _, c := range ss {
		c.Abort()
	}
}

func rowsOf(ss []*postgis.CopyStream) []int64 {
	out := make([]int64, len(ss))
	for i, c := range ss {
		out[i] = c.Rows()
	}
	return out
}

// copied logs what a district added to each table.
func (s *seeder) copied(ss []*postgis.CopyStream, before []int64, d time.Duration, p *plan) {
	for i, c := range ss {
		s.count(c.Table, c.Rows()-before[i], d, "district", p.D.Code)
	}
}
