package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

// Leaf flags: where a parcel needs clipping in PostGIS.
const (
	flagBorder uint8 = 1 << iota // crosses the district boundary
	flagRiver                    // within reach of a river's water
)

// leaf is a quadtree cell: one parcel (two when a river cuts it).
type leaf struct {
	B       orb.Bound
	C       geo.Cell
	HH      float64 // expected households at scale 1
	Flags   uint8
	LandUse string
	Grid    int32 // index into plan.Grids
	Curve   int32 // position on the district's Hilbert curve: the cell's id (cellID)
}

// gridPlan is one grid: a contiguous run of leaves.
type gridPlan struct {
	ID             int64
	Code, Name     string
	Community      *community
	Street         *street
	First, End     int // leaves[First:End]
	HH             float64
	Urban          bool
	Lo, Hi, Target float64 // household band
}

// plan is a district laid out: leaves in Hilbert order, cut into streets,
// communities and grids.
type plan struct {
	D      *district
	Idx    int64 // district code − 500000: the id prefix of its rows
	F      *field
	Q      geo.Quadtree
	Leaves []leaf
	Grids  []gridPlan
	Rivers []geo.Segment // river segments near the district
	HW     []float64     // half-width per river segment
	Segs   []geo.Segment // district boundary
	Bldgs  []bldg        // the district's buildings while its layers load
	GridB  []int         // Bldgs[GridB[gi]:GridB[gi+1]] belong to grid gi
	Links  [][]objLink   // per grid: components events can be about (objects phase → events phase)
}

// newPlan builds the partition of d. Leaves split while they hold more
// than hhLeaf households or cover more than aMax km², so dense areas get
// small parcels and the countryside large ones.
func newPlan(d *district, rivers []river, seed int64) (*plan, error) {
	idx, err := strconv.ParseInt(d.Code, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("data: district code %q: %w", d.Code, err)
	}
	p := &plan{D: d, Idx: idx - 500000, Segs: geo.PolygonSegments(d.Geom)}
	rng := stream(seed, uint64(idx), 1)
	area := polygonAreaKm2(d.Geom)
	hh := population[d.Code] / householdSize
	p.F = newField(d, hh, area, rng)
	p.nearRivers(rivers)

	const hhLeaf = 30.0
	aMax := area / (12 * math.Max(20, 0.35*hh/ruralTarget))
	bb := d.Geom.Bound()
	side := math.Max((bb.Max[0]-bb.Min[0])*p.F.cosLat, bb.Max[1]-bb.Min[1])
	q := geo.Quadtree{Bound: orb.Bound{Min: bb.Min, Max: orb.Point{bb.Min[0] + side/p.F.cosLat, bb.Min[1] + side}}}
	type state struct{ segs []geo.Segment }
	flags := map[geo.Cell]uint8{}
	cells := geo.Leaves(q, state{p.Segs}, func(c geo.Cell, b orb.Bound, s state) (geo.Decision, state) {
		segs := geo.SegmentsIn(s.segs, b)
		rel := geo.RectRelation(p.Segs, segs, b)
		if rel == geo.RectOutside {
			return geo.Drop, s
		}
		if p.F.households(b) > hhLeaf || p.F.areaKm2(b) > aMax {
			return geo.Split, state{segs}
		}
		var fl uint8
		if rel == geo.RectCrossing {
			fl |= flagBorder
		}
		if p.riverNear(b, 5) {
			fl |= flagRiver
		}
		flags[c] = fl
		return geo.Leaf, s
	})
	p.Q = q
	p.Leaves = make([]leaf, len(cells))
	total := 0.0
	for i, c := range cells {
		b := q.CellBound(c)
		p.Leaves[i] = leaf{B: b, C: c, HH: p.F.households(b), Flags: flags[c], Curve: int32(i)}
		total += p.Leaves[i].HH
	}
	for i := range p.Leaves { // the district holds exactly its households
		p.Leaves[i].HH *= hh / total
		p.Leaves[i].LandUse = landUse(p.Leaves[i].HH/p.F.areaKm2(p.Leaves[i].B), rng)
	}
	p.cut()
	return p, nil
}

func landUse(density float64, rng *rand.Rand) string {
	r := rng.Float64()
	switch {
	case density > 8000:
		return pick(r, []string{"residential", "commercial", "mixed", "public", "green"}, []float64{.6, .15, .15, .07, .03})
	case density > urbanDensity:
		return pick(r, []string{"residential", "industrial", "commercial", "public", "green", "mixed"}, []float64{.55, .1, .1, .08, .1, .07})
	case density > 150:
		return pick(r, []string{"residential", "agricultural", "forest", "green", "industrial"}, []float64{.35, .35, .2, .05, .05})
	}
	return pick(r, []string{"agricultural", "forest", "residential", "green"}, []float64{.5, .35, .12, .03})
}

func pick(r float64, names []string, weights []float64) string {
	for i, w := range weights {
		if r < w {
			return names[i]
		}
		r -= w
	}
	return names[len(names)-1]
}

// class orders 街道 before 镇 before 乡 (and 社区 before 村).
func class(name string) int {
	switch {
	case strings.HasSuffix(name, "街道"):
		return 0
	case strings.HasSuffix(name, "乡"):
		return 2
	}
	return 1
}

// outline is grid gi's geometry computed exactly from its cells, or nil
// when a cell crosses the district boundary (PostGIS clips those). River
// cells count whole: their land and water parcels both belong to the grid.
func (p *plan) outline(gi int) orb.MultiPolygon {
	g := &p.Grids[gi]
	rects := make([]geo.LatticeRect, 0, g.End-g.First)
	for _, l := range p.Leaves[g.First:g.End] {
		if l.Flags&flagBorder != 0 {
			return nil
		}
		rects = append(rects, p.Q.Lattice(l.C))
	}
	return geo.ToMultiPolygon(geo.Outline(rects), p.Q.At)
}
