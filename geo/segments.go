package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// seg is one edge of a ring, with the ring's place in its (multi)polygon.
type seg struct {
	a, b       orb.Point
	lo, hi     float64 // extent on the sweep axis
	olo, ohi   float64 // extent on the other axis
	poly, ring int
	idx, n     int // edge index in the ring, edges in the ring
}

// fault is a place where two edges meet in a way the polygon rules forbid.
type fault struct {
	s, t *seg
	kind meet
	at   orb.Point
}

// findFault looks for the first forbidden meeting among edges: any meeting
// of two non-adjacent edges of one ring, a spike between adjacent edges,
// and a crossing or shared stretch between different rings. A single
// touching point between different rings is allowed, as OGC allows it.
//
// Edges are sorted on the axis along which they are shortest in total and
// swept: each edge is tested only against edges whose extent overlaps its
// own on both axes. That is O(n log n + k) for k overlapping pairs, which
// for real boundaries (short edges) stays near linear.
func findFault(segs []seg) *fault {
	var sx, sy float64
	for _, s := range segs {
		sx += math.Abs(s.a[0] - s.b[0])
		sy += math.Abs(s.a[1] - s.b[1])
	}
	axis := 0
	if sy < sx {
		axis = 1
	}
	for k := range segs {
		s := &segs[k]
		s.lo, s.hi = math.Min(s.a[axis], s.b[axis]), math.Max(s.a[axis], s.b[axis])
		s.olo, s.ohi = math.Min(s.a[1-axis], s.b[1-axis]), math.Max(s.a[1-axis], s.b[1-axis])
	}
	slices.SortFunc(segs, func(x, y seg) int {
		switch {
		case x.lo < y.lo:
			return -1
		case x.lo > y.lo:
			return 1
		}
		return 0
	})
	var first *fault
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].lo <= s.hi; j++ {
			t := &segs[j]
			if t.ohi < s.olo || t.olo > s.ohi {
				continue
			}
			if f := judge(s, t); f != nil && (first == nil || before(f, first)) {
				first = f
			}
		}
	}
	return first
}

// before orders faults so that the report does not depend on the sort:
// crossings and overlaps before mere touches, then the lowest polygon,
// ring and edge.
func before(f, g *fault) bool {
	rank := func(k meet) int {
		if k == meetTouch {
			return 1
		}
		return 0
	}
	fk := [...]int{rank(f.kind), min(f.s.poly, f.t.poly), min(f.s.ring, f.t.ring), min(f.s.idx, f.t.idx)}
	gk := [...]int{rank(g.kind), min(g.s.poly, g.t.poly), min(g.s.ring, g.t.ring), min(g.s.idx, g.t.idx)}
	return slices.Compare(fk[:], gk[:]) < 0
}

func judge(s, t *seg) *fault {
	k, at := intersect(s.a, s.b, t.a, t.b)
	if k == meetNone {
		return nil
	}
	if s.poly == t.poly && s.ring == t.ring {
		d := s.idx - t.idx
		if d < 0 {
			d = -d
		}
		if d == 1 || d == s.n-1 { // neighbours share a vertex by construction
			if k != meetOverlap {
				return nil
			}
		}
		return &fault{s: s, t: t, kind: k, at: at}
	}
	if k == meetTouch {
		return nil
	}
	return &fault{s: s, t: t, kind: k, at: at}
}

// edges appends the edges of ring r; r has no repeated consecutive points.
func edges(dst []seg, r orb.Ring, poly, ring int) []seg {
	n := len(r) - 1
	for k := 0; k < n; k++ {
		dst = append(dst, seg{a: r[k], b: r[k+1], poly: poly, ring: ring, idx: k, n: n})
	}
	return dst
}
