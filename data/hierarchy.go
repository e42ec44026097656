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
	p.mendGrids()
}

// pieces labels grid g's leaves by the edge-connected piece they lie in
// (comp[k] for leaf g.First+k, n pieces) and names the piece holding
// most households, the one the grid keeps.
func (p *plan) pieces(g *gridPlan, rects []geo.LatticeRect) (comp []int, n, keep int) {
	comp, n = geo.EdgeComponents(rects[g.First:g.End])
	hh := make([]float64, n)
	for k, c := range comp {
		hh[c] += p.Leaves[g.First+k].HH
	}
	for c := range hh {
		if hh[c] > hh[keep] {
			keep = c
		}
	}
	return comp, n, keep
}

// mendGrids: a grid's run of leaves falls apart where the Hilbert order
// jumps over ground outside the district and the piece beyond was too
// small for a grid of its own. Every piece but a grid's largest goes to
// the grid of its community it shares the longest edge with (it stays
// where none touches it), then the leaves are laid out grid by grid again,
// so that each grid is still one run of leaves, and one piece.
func (p *plan) mendGrids() {
	rects := make([]geo.LatticeRect, len(p.Leaves))
	for i, l := range p.Leaves {
		rects[i] = p.Q.Lattice(l.C)
	}
	// A community's grids are cut from one run of leaves.
	type run struct{ lo, hi int }
	comm := map[*community]run{}
	for _, g := range p.Grids {
		r, ok := comm[g.Community]
		if !ok {
			r = run{g.First, g.End}
		}
		comm[g.Community] = run{min(r.lo, g.First), max(r.hi, g.End)}
	}
	// Decide every move on the grids as cut, then apply them.
	type move struct {
		leaf int
		to   int32
	}
	var moves []move
	for gi := range p.Grids {
		g := &p.Grids[gi]
		comp, n, keep := p.pieces(g, rects)
		if n < 2 {
			continue
		}
		cr := comm[g.Community]
		for c := range n {
			if c == keep {
				continue
			}
			shared := map[int32]int64{}
			for k, ck := range comp {
				if ck != c {
					continue
				}
				for j := cr.lo; j < cr.hi; j++ {
					if og := p.Leaves[j].Grid; og != int32(gi) {
						if e := geo.SharedEdge(rects[g.First+k], rects[j]); e > 0 {
							shared[og] += e
						}
					}
				}
			}
			best, most := int32(-1), int64(0)
			for og, e := range shared {
				if e > most || (e == most && og < best) {
					best, most = og, e
				}
			}
			if best < 0 {
				continue
			}
			for k, ck := range comp {
				if ck == c {
					moves = append(moves, move{g.First + k, best})
				}
			}
		}
	}
	if len(moves) == 0 {
		return
	}
	for _, m := range moves {
		p.Leaves[m.leaf].Grid = m.to
	}
	// Grid by grid, each grid's leaves in their Hilbert order.
	slices.SortStableFunc(p.Leaves, func(a, b leaf) int { return cmp.Compare(a.Grid, b.Grid) })
	for i := range p.Grids {
		p.Grids[i].HH = 0
	}
	for j, l := range p.Leaves {
		g := &p.Grids[l.Grid]
		if j == 0 || p.Leaves[j-1].Grid != l.Grid {
			g.First = j
		}
		g.End = j + 1
		g.HH += l.HH
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
// Where the run jumps (the Hilbert order skips cells outside the
// district), its connected pieces are cut separately so that grids stay
// in one piece; a piece too small for a grid of its own joins the one
// before it.
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
	type group struct {
		span
		hh float64
		n  int
	}
	var groups []group
	start := s.first
	for j := s.first + 1; j <= s.end; j++ {
		if j < s.end && p.touch(j-1, j) {
			continue
		}
		g := group{span: span{start, j}}
		for _, l := range p.Leaves[start:j] {
			g.hh += l.HH
		}
		g.n = gridCount(g.hh, lo, hi, target, j-start)
		if g.hh < lo/2 && len(groups) > 0 { // too small: join the previous piece
			last := &groups[len(groups)-1]
			last.end, last.hh = j, last.hh+g.hh
			last.n = gridCount(last.hh, lo, hi, target, last.end-last.first)
		} else {
			groups = append(groups, g)
		}
		start = j
	}
	seq := 0
	for _, gr := range groups {
		w := make([]float64, gr.end-gr.first)
		for i, l := range p.Leaves[gr.first:gr.end] {
			w[i] = l.HH + 1e-9
		}
		starts := geo.CutRuns(w, gr.n)
		for k, st0 := range starts {
			e := gr.end - gr.first
			if k+1 < len(starts) {
				e = starts[k+1]
			}
			seq++
			g := gridPlan{
				Code: fmt.Sprintf("%s%03d", c.Code, seq), Name: fmt.Sprintf("第%d网格", seq),
				Community: c, Street: st, First: gr.first + st0, End: gr.first + e,
				Urban: urban, Lo: lo, Hi: hi, Target: target,
			}
			for _, l := range p.Leaves[g.First:g.End] {
				g.HH += l.HH
			}
			p.Grids = append(p.Grids, g)
		}
	}
}

// gridCount is the number of grids for hh households: the one whose mean
// lands in [lo, hi] nearest the target, at least one, and few enough to
// leave a few parcels per grid.
func gridCount(hh, lo, hi, target float64, leaves int) int {
	n := max(1, int(math.Round(hh/target)))
	best := math.Inf(1)
	for k := int(math.Ceil(hh / hi)); k <= int(math.Floor(hh/lo)); k++ {
		if d := math.Abs(hh/float64(k) - target); k >= 1 && d < best {
			n, best = k, d
		}
	}
	return max(1, min(n, leaves/3, 999))
}

// touch tells whether leaves i and j share a stretch of edge.
func (p *plan) touch(i, j int) bool {
	a, b := p.Q.Lattice(p.Leaves[i].C), p.Q.Lattice(p.Leaves[j].C)
	overlap := func(a0, a1, b0, b1 int64) bool { return min(a1, b1) > max(a0, b0) }
	return ((a.X1 == b.X0 || b.X1 == a.X0) && overlap(a.Y0, a.Y1, b.Y0, b.Y1)) ||
		((a.Y1 == b.Y0 || b.Y1 == a.Y0) && overlap(a.X0, a.X1, b.X0, b.X1))
}
