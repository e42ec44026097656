package data

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/wangge/wangge/geo"
)

// span is a run of leaves [first, end).
type span struct{ first, end int }

// cut assigns leaf runs to streets, communities and grids. Streets and
// communities take runs of equal weight (half households, half area);
// the densest runs go to 街道 and 社区, the sparsest to 乡 and 村.
func (p *plan) cut() {
	streets := slices.Clone(p.D.Streets)
	slices.SortStableFunc(streets, func(a, b *street) int { return cmp.Compare(class(a.Name), class(b.Name)) })
	for i, sr := range p.runs(0, len(p.Leaves), len(streets)) {
		st := streets[i]
		comms := slices.Clone(st.Communities)
		slices.SortStableFunc(comms, func(a, b *community) int { return cmp.Compare(urbanRank(a), urbanRank(b)) })
		for j, cr := range p.runs(sr.first, sr.end, len(comms)) {
			p.gridsOf(st, comms[j], cr)
		}
	}
	slices.SortFunc(p.Grids, func(a, b gridPlan) int { return cmp.Compare(a.Code, b.Code) })
	for i := range p.Grids {
		g := &p.Grids[i]
		g.ID = p.Idx*1_000_000 + int64(i) + 1
		for j := g.First; j < g.End; j++ {
			p.Leaves[j].Grid = int32(i)
		}
	}
}

func urbanRank(c *community) int {
	if c.Urban {
		return 0
	}
	return 1
}

// runs cuts leaves[first:end] into n runs of equal weight and returns
// them densest first. With fewer leaves than n (never seen at the
// quadtree's resolution) the trailing items share the last leaf's run.
func (p *plan) runs(first, end, n int) []span {
	ls := p.Leaves[first:end]
	var hh, area float64
	for _, l := range ls {
		hh += l.HH
		area += p.F.areaKm2(l.B)
	}
	w := make([]float64, len(ls))
	for i, l := range ls {
		w[i] = 0.5*l.HH/math.Max(hh, 1e-9) + 0.5*p.F.areaKm2(l.B)/area
	}
	starts := geo.CutRuns(w, min(n, len(ls)))
	out := make([]span, 0, n)
	for k, s := range starts {
		e := len(ls)
		if k+1 < len(starts) {
			e = starts[k+1]
		}
		out = append(out, span{first + s, first + e})
	}
	dens := func(s span) float64 {
		var h, a float64
		for _, l := range p.Leaves[s.first:s.end] {
			h += l.HH
			a += p.F.areaKm2(l.B)
		}
		return h / a
	}
	slices.SortStableFunc(out, func(a, b span) int { return cmp.Compare(dens(b), dens(a)) })
	for len(out) < n {
		out = append(out, out[len(out)-1])
	}
	return out
}

// gridsOf cuts a community's run into grids of balanced households: the
// count is the one whose mean lands in the band and nearest the target.
func (p *plan) gridsOf(st *street, c *community, s span) {
	var hh, area float64
	for _, l := range p.Leaves[s.first:s.end] {
		hh += l.HH
		area += p.F.areaKm2(l.B)
	}
	urban := hh/area > urbanDensity
	lo, hi, target := ruralMin, ruralMax, ruralTarget
	if urban {
		lo, hi, target = urbanMin, urbanMax, urbanTarget
	}
	n := max(1, int(math.Round(hh/target)))
	best := math.Inf(1)
	for k := int(math.Ceil(hh / hi)); k <= int(math.Floor(hh/lo)); k++ {
		if d := math.Abs(hh/float64(k) - target); k >= 1 && d < best {
			n, best = k, d
		}
	}
	// Keep a few parcels per grid.
	n = max(1, min(n, (s.end-s.first)/3, 999))
	w := make([]float64, s.end-s.first)
	for i, l := range p.Leaves[s.first:s.end] {
		w[i] = l.HH + 1e-9
	}
	starts := geo.CutRuns(w, n)
	for k, st0 := range starts {
		e := s.end - s.first
		if k+1 < len(starts) {
			e = starts[k+1]
		}
		g := gridPlan{
			Code: fmt.Sprintf("%s%03d", c.Code, k+1), Name: fmt.Sprintf("第%d网格", k+1),
			Community: c, Street: st, First: s.first + st0, End: s.first + e,
			Urban: urban, Lo: lo, Hi: hi, Target: target,
		}
		for _, l := range p.Leaves[g.First:g.End] {
			g.HH += l.HH
		}
		p.Grids = append(p.Grids, g)
	}
}
