package geo

import (
	"cmp"
	"slices"

	"github.com/paulmach/orb"
)

// MaxDepth is the deepest level a Quadtree may reach; Hilbert keys are
// computed on the 2^MaxDepth lattice.
const MaxDepth = 24

// Cell is a square of a quadtree laid over a bound: at Depth d the bound
// is cut into 2^d × 2^d cells and (X, Y) counts from the south-west.
type Cell struct {
	X, Y  uint32
	Depth uint8
}

// Decision tells Quadtree what to do with a cell.
type Decision uint8

const (
	Drop  Decision = iota // outside the area of interest
	Leaf                  // keep as is
	Split                 // cut into four children
)

// Quadtree cuts a square bound adaptively.
type Quadtree struct {
	Bound orb.Bound // must be square in the units that matter to the caller
}

// CellBound is the extent of c. Corners are computed from the MaxDepth
// lattice, so neighbours of any depth share bit-identical edges and their
// union has no slivers.
func (q Quadtree) CellBound(c Cell) orb.Bound {
	shift := MaxDepth - uint(c.Depth)
	n := float64(uint32(1) << MaxDepth)
	ux := (q.Bound.Max[0] - q.Bound.Min[0]) / n
	uy := (q.Bound.Max[1] - q.Bound.Min[1]) / n
	at := func(min, u float64, i uint32) float64 { return min + float64(uint64(i)<<shift)*u }
	return orb.Bound{
		Min: orb.Point{at(q.Bound.Min[0], ux, c.X), at(q.Bound.Min[1], uy, c.Y)},
		Max: orb.Point{at(q.Bound.Min[0], ux, c.X+1), at(q.Bound.Min[1], uy, c.Y+1)},
	}
}

// Leaves visits cells from the root, asking decide for each (a cell at
// MaxDepth is never split), and returns the kept leaves in Hilbert order.
// The state value lets decide hand data down to children (for instance
// the polygon edges that still matter), avoiding recomputation.
func Leaves[S any](q Quadtree, root S, decide func(c Cell, b orb.Bound, s S) (Decision, S)) []Cell {
	type item struct {
		c Cell
		s S
	}
	var leaves []Cell
	stack := []item{{Cell{}, root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d, childState := decide(it.c, q.CellBound(it.c), it.s)
		if d == Split && it.c.Depth >= MaxDepth {
			d = Leaf
		}
		switch d {
		case Leaf:
			leaves = append(leaves, it.c)
		case Split:
			for i := uint32(0); i < 4; i++ {
				stack = append(stack, item{Cell{it.c.X*2 + i&1, it.c.Y*2 + i>>1, it.c.Depth + 1}, childState})
			}
		}
	}
	SortHilbert(leaves)
	return leaves
}

// HilbertKey is the Hilbert index of c's centre on the MaxDepth lattice;
// leaves of one quadtree never share a key and sort in curve order.
func HilbertKey(c Cell) uint64 {
	shift := MaxDepth - uint(c.Depth)
	half := uint32(1) << shift >> 1
	return HilbertIndex(MaxDepth, c.X<<shift+half, c.Y<<shift+half)
}

// SortHilbert orders cells along the Hilbert curve.
func SortHilbert(cells []Cell) {
	type keyed struct {
		k uint64
		c Cell
	}
	ks := make([]keyed, len(cells))
	for i, c := range cells {
		ks[i] = keyed{HilbertKey(c), c}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.k, b.k) })
	for i := range ks {
		cells[i] = ks[i].c
	}
}

// Lattice is the extent of c on the 2^MaxDepth lattice.
func (q Quadtree) Lattice(c Cell) LatticeRect {
	shift := MaxDepth - uint(c.Depth)
	x, y := int64(c.X)<<shift, int64(c.Y)<<shift
	return LatticeRect{x, y, x + 1<<shift, y + 1<<shift}
}

// At maps a lattice vertex to coordinates, bit-identical to CellBound.
func (q Quadtree) At(v LatticePoint) orb.Point {
	n := float64(uint32(1) << MaxDepth)
	ux := (q.Bound.Max[0] - q.Bound.Min[0]) / n
	uy := (q.Bound.Max[1] - q.Bound.Min[1]) / n
	return orb.Point{q.Bound.Min[0] + float64(v[0])*ux, q.Bound.Min[1] + float64(v[1])*uy}
}
