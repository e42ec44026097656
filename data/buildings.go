package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

// bldg is a generated building; its people derive from its id.
type bldg struct {
	ID         int64
	Leaf       int // index into plan.Leaves
	Rect       orb.Bound
	Use        string
	Name       string
	Address    string
	Floors     int16
	BuiltYear  int16
	Households int
}

// Building ids: district index × rowSpan + sequence (grid by grid).
const rowSpan = 10_000_000_000

// stochRound rounds x up with probability equal to its fraction, so that
// thinned counts keep their expectation.
func stochRound(x float64, rng *rand.Rand) int {
	f := math.Floor(x)
	if rng.Float64() < x-f {
		f++
	}
	return int(f)
}

// style is how a grid builds: its height class and building spacing.
type style struct {
	spacing float64 // metres between building centres
	pick    func(rng *rand.Rand) (floors, hhPerFloor int)
}

func styleOf(density float64) style {
	switch {
	case density > 8000:
		return style{45, func(rng *rand.Rand) (int, int) {
			if rng.IntN(4) > 0 {
				return 18 + rng.IntN(17), 4 + rng.IntN(5)
			}
			return 7 + rng.IntN(5), 2 + rng.IntN(3)
		}}
	case density > urbanDensity:
		return style{30, func(rng *rand.Rand) (int, int) {
			switch r := rng.IntN(10); {
			case r < 2:
				return 18 + rng.IntN(12), 4 + rng.IntN(3)
			case r < 8:
				return 6 + rng.IntN(6), 2 + rng.IntN(3)
			}
			return 3 + rng.IntN(4), 1 + rng.IntN(2)
		}}
	}
	return style{16, func(rng *rand.Rand) (int, int) { return 1 + rng.IntN(3), 0 }}
}

var otherUses = []string{"commercial", "office", "school", "hospital", "public", "industrial", "mixed", "other"}

// buildings lays out grid gi's buildings at the seed's scale. It is a pure
// function of (seed, grid, scale): later passes regenerate the same list.
func (p *plan) buildings(gi int, seed int64, scale float64, nextID *int64) []bldg {
	g := &p.Grids[gi]
	rng := stream(seed, uint64(p.Idx), 2, uint64(gi))
	var area float64
	var buildable []int
	for j := g.First; j < g.End; j++ {
		area += p.F.areaKm2(p.Leaves[j].B)
		switch p.Leaves[j].LandUse {
		case "residential", "mixed", "commercial", "public", "industrial":
			buildable = append(buildable, j)
		}
	}
	if len(buildable) == 0 {
		for j := g.First; j < g.End; j++ {
			buildable = append(buildable, j)
		}
	}
	sty := styleOf(g.HH / area)
	budget := stochRound(scale*g.HH, rng)
	others := stochRound(scale*(0.5+g.HH/150), rng)
	road := roadName(rng)
	lay := newLayout(p, buildable, sty.spacing, rng)
	var out []bldg
	for budget > 0 || others > 0 {
		b := bldg{BuiltYear: int16(1975 + rng.IntN(50))}
		if budget > 0 {
			floors, perFloor := sty.pick(rng)
			hh := floors * perFloor
			if perFloor == 0 { // village house: one or two households
				hh = 1 + rng.IntN(2)
			}
			b.Use, b.Floors, b.Households = "residential", int16(floors), min(hh, budget)
			budget -= b.Households
		} else {
			b.Use, b.Floors = otherUses[rng.IntN(len(otherUses))], int16(1+rng.IntN(12))
			others--
		}
		leafIdx, rect, ok := lay.place(rng)
		if !ok {
			break
		}
		b.ID, b.Leaf, b.Rect = p.Idx*rowSpan+*nextID, leafIdx, rect
		*nextID++
		num := 1 + len(out)
		b.Address = fmt.Sprintf("重庆市%s%s%s%d号", p.D.Name, g.Street.Name, road, num)
		if b.Use == "residential" && sty.spacing > 20 {
			b.Name = fmt.Sprintf("%s%s%d栋", shortName(g.Community.Name), estates[int(g.ID)%len(estates)], num)
		}
		out = append(out, b)
	}
	return out
}

// layout hands out building slots in a grid's buildable leaves, skipping
// slots outside the district or too close to a river.
type layout struct {
	p      *plan
	leaves []int
	k      []int // slots per side, per leaf
	used   []int // slots tried, per leaf
	cur    int
}

func newLayout(p *plan, leaves []int, spacing float64, rng *rand.Rand) *layout {
	l := &layout{p: p, leaves: leaves, k: make([]int, len(leaves)), used: make([]int, len(leaves))}
	for i, j := range leaves {
		side := math.Sqrt(p.F.areaKm2(p.Leaves[j].B)) * 1000
		l.k[i] = max(2, int(side/spacing))
	}
	l.cur = rng.IntN(len(leaves))
	return l
}

func (l *layout) place(rng *rand.Rand) (int, orb.Bound, bool) {
	for range len(l.leaves) + 1 {
		i := l.cur
		lf := &l.p.Leaves[l.leaves[i]]
		k := l.k[i]
		for l.used[i] < k*k {
			s := (l.used[i]*7919 + i) % (k * k) // a fixed stride scatters the slots
			if gcd(7919, k*k) != 1 {
				s = l.used[i]
			}
			l.used[i]++
			w := (lf.B.Max[0] - lf.B.Min[0]) / float64(k)
			h := (lf.B.Max[1] - lf.B.Min[1]) / float64(k)
			x0, y0 := lf.B.Min[0]+float64(s%k)*w, lf.B.Min[1]+float64(s/k)*h
			fw, fh := 0.45+0.3*rng.Float64(), 0.45+0.3*rng.Float64()
			r := orb.Bound{Min: orb.Point{x0 + w*(1-fw)/2, y0 + h*(1-fh)/2}, Max: orb.Point{x0 + w*(1+fw)/2, y0 + h*(1+fh)/2}}
			if l.p.fits(lf, r, 20) {
				l.cur = (i + 1) % len(l.leaves)
				return l.leaves[i], r, true
			}
		}
		l.cur = (i + 1) % len(l.leaves)
	}
	return 0, orb.Bound{}, false
}

// fits tells whether r lies inside the district and margin metres clear
// of river water; a clean leaf needs no test.
func (p *plan) fits(lf *leaf, r orb.Bound, margin float64) bool {
	if lf.Flags&flagBorder != 0 && geo.RectRelation(p.Segs, geo.SegmentsIn(p.Segs, r), r) != geo.RectInside {
		return false
	}
	if lf.Flags&flagRiver != 0 && p.riverNear(r, margin) {
		return false
	}
	return true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// randomPoint draws a point of grid gi that lies inside its parcels, or
// false after a few misses (grids of border slivers).
func (p *plan) randomPoint(gi int, rng *rand.Rand) (orb.Point, int, bool) {
	g := &p.Grids[gi]
	for range 12 {
		j := g.First + rng.IntN(g.End-g.First)
		lf := &p.Leaves[j]
		pt := orb.Point{lf.B.Min[0] + rng.Float64()*(lf.B.Max[0]-lf.B.Min[0]), lf.B.Min[1] + rng.Float64()*(lf.B.Max[1]-lf.B.Min[1])}
		if p.fits(lf, orb.Bound{Min: pt, Max: pt}, 10) {
			return pt, j, true
		}
	}
	// A grid of border slivers: try every leaf's centre before giving up.
	for j := g.First; j < g.End; j++ {
		pt := p.Leaves[j].B.Center()
		if p.fits(&p.Leaves[j], orb.Bound{Min: pt, Max: pt}, 10) {
			return pt, j, true
		}
	}
	return orb.Point{}, 0, false
}
