package geo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

func TestOutline(t *testing.T) {
	sq := func(x, y, s int64) LatticeRect { return LatticeRect{x, y, x + s, y + s} }
	var ring8 []LatticeRect // a 3×3 block without its centre
	for x := int64(0); x < 3; x++ {
		for y := int64(0); y < 3; y++ {
			if x != 1 || y != 1 {
				ring8 = append(ring8, sq(x, y, 1))
			}
		}
	}
	tests := []struct {
		name  string
		rects []LatticeRect
		want  [][][]LatticePoint
	}{
		{"one square", []LatticeRect{sq(0, 0, 2)},
			[][][]LatticePoint{{{{0, 0}, {2, 0}, {2, 2}, {0, 2}}}}},
		{"big and small neighbours merge", []LatticeRect{sq(0, 0, 2), sq(2, 0, 1), sq(2, 1, 1)},
			[][][]LatticePoint{{{{0, 0}, {3, 0}, {3, 2}, {0, 2}}}}},
		{"L shape", []LatticeRect{sq(0, 0, 1), sq(1, 0, 1), sq(0, 1, 1)},
			[][][]LatticePoint{{{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}}}}},
		{"corner touch stays two polygons", []LatticeRect{sq(0, 0, 1), sq(1, 1, 1)},
			[][][]LatticePoint{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, {{{1, 1}, {2, 1}, {2, 2}, {1, 2}}}}},
		{"ring with a hole", ring8,
			[][][]LatticePoint{{{{0, 0}, {3, 0}, {3, 3}, {0, 3}}, {{2, 1}, {1, 1}, {1, 2}, {2, 2}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Outline(tt.rects)); diff != "" {
				t.Errorf("Outline (-want +got):\n%s", diff)
			}
		})
	}
}

// The outline of a random set of quadtree leaves encloses exactly their
// area.
func TestOutlineArea(t *testing.T) {
	q := Quadtree{}
	leaves := Leaves(q, 0, func(c Cell, _ orb.Bound, _ int) (Decision, int) {
		h := HilbertIndex(8, c.X, c.Y) + uint64(c.Depth)*7
		switch {
		case c.Depth < 2:
			return Split, 0
		case c.Depth < 5 && h%3 == 0:
			return Split, 0
		case h%4 == 0:
			return Drop, 0
		}
		return Leaf, 0
	})
	var rects []LatticeRect
	var want int64
	for _, c := range leaves {
		r := q.Lattice(c)
		rects = append(rects, r)
		want += 2 * (r.X1 - r.X0) * (r.Y1 - r.Y0)
	}
	var got int64
	for _, p := range Outline(rects) {
		for _, r := range p {
			got += ringArea2(r)
		}
	}
	if got != want {
		t.Errorf("outline area ×2 = %d, want %d", got, want)
	}
}

func BenchmarkOutline(b *testing.B) {
	// 20 rows of a 4×5 block of unit cells with a few bigger ones: a grid.
	var rects []LatticeRect
	for x := int64(0); x < 40; x++ {
		for y := int64(0); y < 5; y++ {
			rects = append(rects, LatticeRect{x, y, x + 1, y + 1})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		Outline(rects)
	}
}
