package geo

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"
)

// LatticeRect is an axis-aligned rectangle with integer corners.
type LatticeRect struct{ X0, Y0, X1, Y1 int64 }

// LatticePoint is a vertex of the integer lattice.
type LatticePoint [2]int64

// Outline is the union of non-overlapping lattice rectangles, exactly:
// polygons whose shells run counter-clockwise and holes clockwise, without
// collinear vertices. Pieces that touch at a corner stay separate
// polygons, so the result is a valid MultiPolygon. Working on integers
// makes it exact, where a floating-point overlay would leave slivers.
func Outline(rects []LatticeRect) [][][]LatticePoint {
	edges := boundaryEdges(rects)
	rings := traceRings(edges)
	var shells, holes [][]LatticePoint
	for _, r := range rings {
		if ringArea2(r) > 0 {
			shells = append(shells, r)
		} else {
			holes = append(holes, r)
		}
	}
	polys := make([][][]LatticePoint, len(shells))
	for i, s := range shells {
		polys[i] = [][]LatticePoint{s}
	}
	for _, h := range holes {
		// A point just inside the covered side of the hole's first edge
		// lies in the shell that holds the hole.
		a, b := h[0], h[1]
		px := float64(a[0]+b[0])/2 - float64(sign(b[1]-a[1]))*0.25
		py := float64(a[1]+b[1])/2 + float64(sign(b[0]-a[0]))*0.25
		best, bestArea := -1, int64(0)
		for i, s := range shells {
			if ar := ringArea2(s); inRing(s, px, py) && (best < 0 || ar < bestArea) {
				best, bestArea = i, ar
			}
		}
		if best >= 0 {
			polys[best] = append(polys[best], h)
		}
	}
	return polys
}

// ToMultiPolygon maps lattice outlines to coordinates with at, closing
// every ring.
func ToMultiPolygon(polys [][][]LatticePoint, at func(LatticePoint) orb.Point) orb.MultiPolygon {
	mp := make(orb.MultiPolygon, len(polys))
	for i, p := range polys {
		for _, r := range p {
			ring := make(orb.Ring, 0, len(r)+1)
			for _, v := range r {
				ring = append(ring, at(v))
			}
			mp[i] = append(mp[i], append(ring, ring[0]))
		}
	}
	return mp
}

type latticeEdge struct{ from, to LatticePoint }

// boundaryEdges keeps the parts of the rectangles' edges that are not
// shared: on each horizontal line, a bottom edge (rectangle above) counts
// +1 and a top edge −1; where the sum is ±1 the line is boundary, run
// with the covered side on the left. Vertical lines likewise.
func boundaryEdges(rects []LatticeRect) []latticeEdge {
	type span struct{ line, a, b, s int64 }
	var hs, vs []span
	for _, r := range rects {
		hs = append(hs, span{r.Y0, r.X0, r.X1, 1}, span{r.Y1, r.X0, r.X1, -1})
		vs = append(vs, span{r.X1, r.Y0, r.Y1, 1}, span{r.X0, r.Y0, r.Y1, -1})
	}
	var out []latticeEdge
	sweep := func(spans []span, horizontal bool) {
		type ev struct{ line, at, d int64 }
		evs := make([]ev, 0, 2*len(spans))
		for _, s := range spans {
			evs = append(evs, ev{s.line, s.a, s.s}, ev{s.line, s.b, -s.s})
		}
		slices.SortFunc(evs, func(x, y ev) int {
			if c := cmp.Compare(x.line, y.line); c != 0 {
				return c
			}
			return cmp.Compare(x.at, y.at)
		})
		for i := 0; i < len(evs); {
			j, v := i, int64(0)
			for j < len(evs) && evs[j].line == evs[i].line {
				k := j
				for k < len(evs) && evs[k].line == evs[j].line && evs[k].at == evs[j].at {
					v += evs[k].d
					k++
				}
				if v != 0 && k < len(evs) && evs[k].line == evs[i].line {
					a, b := evs[j].at, evs[k].at
					if v < 0 {
						a, b = b, a
					}
					if horizontal {
						out = append(out, latticeEdge{LatticePoint{a, evs[i].line}, LatticePoint{b, evs[i].line}})
					} else {
						out = append(out, latticeEdge{LatticePoint{evs[i].line, a}, LatticePoint{evs[i].line, b}})
					}
				}
				j = k
			}
			i = j
		}
	}
	sweep(hs, true)
	sweep(vs, false)
	return out
}

// traceRings chains boundary edges into rings. At a vertex where two
// pieces touch corner to corner the sharpest left turn wins, which keeps
// each piece's ring to itself.
func traceRings(edges []latticeEdge) [][]LatticePoint {
	out := map[LatticePoint][]int{}
	for i, e := range edges {
		out[e.from] = append(out[e.from], i)
	}
	used := make([]bool, len(edges))
	var rings [][]LatticePoint
	for i := range edges {
		if used[i] {
			continue
		}
		start := edges[i].from
		var ring []LatticePoint
		cur := i
		for {
			used[cur] = true
			ring = append(ring, edges[cur].from)
			v := edges[cur].to
			if v == start {
				break
			}
			next, best := -1, int64(-2)
			dx, dy := sign(edges[cur].to[0]-edges[cur].from[0]), sign(edges[cur].to[1]-edges[cur].from[1])
			for _, k := range out[v] {
				if used[k] {
					continue
				}
				ex, ey := sign(edges[k].to[0]-edges[k].from[0]), sign(edges[k].to[1]-edges[k].from[1])
				if turn := dx*ey - dy*ex; turn > best {
					next, best = k, turn
				}
			}
			if next < 0 { // cannot happen for a union of rectangles
				break
			}
			cur = next
		}
		rings = append(rings, dropCollinear(ring))
	}
	return rings
}

func dropCollinear(r []LatticePoint) []LatticePoint {
	out := make([]LatticePoint, 0, len(r))
	n := len(r)
	for i, v := range r {
		p, q := r[(i+n-1)%n], r[(i+1)%n]
		if (v[0]-p[0])*(q[1]-v[1])-(v[1]-p[1])*(q[0]-v[0]) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// ringArea2 is twice the signed area (positive counter-clockwise).
func ringArea2(r []LatticePoint) int64 {
	var a int64
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return a
}

func inRing(r []LatticePoint, x, y float64) bool {
	in := false
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		py, qy := float64(p[1]), float64(q[1])
		if (py > y) != (qy > y) {
			if xi := float64(p[0]) + (y-py)/(qy-py)*float64(q[0]-p[0]); x < xi {
				in = !in
			}
		}
	}
	return in
}

func sign(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
