package geo

import "testing"

func TestSharedEdge(t *testing.T) {
	a := LatticeRect{0, 0, 4, 4}
	for _, c := range []struct {
		b    LatticeRect
		want int64
	}{
		{LatticeRect{4, 0, 8, 4}, 4},  // right side, whole
		{LatticeRect{4, 2, 6, 8}, 2},  // right side, part
		{LatticeRect{-2, 3, 0, 5}, 1}, // left side, part
		{LatticeRect{1, 4, 2, 5}, 1},  // top, a small neighbour
		{LatticeRect{0, -8, 8, 0}, 4}, // bottom, a big neighbour
		{LatticeRect{4, 4, 6, 6}, 0},  // a corner only
		{LatticeRect{5, 0, 8, 4}, 0},  // apart
	} {
		if got, back := SharedEdge(a, c.b), SharedEdge(c.b, a); got != c.want || back != c.want {
			t.Errorf("SharedEdge(%v, %v) = %d / %d, want %d", a, c.b, got, back, c.want)
		}
	}
}

func TestEdgeComponents(t *testing.T) {
	rs := []LatticeRect{
		{0, 0, 2, 2}, {2, 0, 4, 2}, // a piece of two
		{4, 2, 6, 4},     // meets the second at a corner only: its own piece
		{10, 10, 12, 12}, // apart
		{4, 0, 6, 2},     // joins the first piece and the corner one
	}
	comp, n := EdgeComponents(rs)
	want := []int{0, 0, 0, 1, 0}
	if n != 2 {
		t.Fatalf("%d pieces, want 2 (%v)", n, comp)
	}
	for i := range want {
		if comp[i] != want[i] {
			t.Fatalf("components %v, want %v", comp, want)
		}
	}
	if _, n := EdgeComponents(rs[:4]); n != 3 {
		t.Fatalf("without the joining rectangle: %d pieces, want 3", n)
	}
}
