package geo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

func TestHilbertIndex(t *testing.T) {
	// The order-1 curve visits (0,0) (0,1) (1,1) (1,0).
	tests := []struct {
		name  string
		order uint
		x, y  uint32
		want  uint64
	}{
		{"origin", 1, 0, 0, 0},
		{"north-west", 1, 0, 1, 1},
		{"north-east", 1, 1, 1, 2},
		{"south-east", 1, 1, 0, 3},
		{"order 2 last", 2, 3, 0, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HilbertIndex(tt.order, tt.x, tt.y); got != tt.want {
				t.Errorf("HilbertIndex(%d, %d, %d) = %d, want %d", tt.order, tt.x, tt.y, got, tt.want)
			}
		})
	}
}

// Consecutive cells of the curve are always edge neighbours.
func TestHilbertAdjacent(t *testing.T) {
	const order = 5
	n := uint32(1) << order
	pos := make([][2]uint32, n*n)
	for x := uint32(0); x < n; x++ {
		for y := uint32(0); y < n; y++ {
			pos[HilbertIndex(order, x, y)] = [2]uint32{x, y}
		}
	}
	for i := 1; i < len(pos); i++ {
		dx := int(pos[i][0]) - int(pos[i-1][0])
		dy := int(pos[i][1]) - int(pos[i-1][1])
		if dx*dx+dy*dy != 1 {
			t.Fatalf("cells %d and %d are not neighbours: %v %v", i-1, i, pos[i-1], pos[i])
		}
	}
}

func TestQuadtreeLeaves(t *testing.T) {
	q := Quadtree{Bound: orb.Bound{Max: orb.Point{1, 1}}}
	// Split the south-west quadrant once more; drop the north-east one.
	leaves := Leaves(q, 0, func(c Cell, b orb.Bound, s int) (Decision, int) {
		switch {
		case c.Depth == 0:
			return Split, 0
		case c.Depth == 1 && c.X == 0 && c.Y == 0:
			return Split, 0
		case c.Depth == 1 && c.X == 1 && c.Y == 1:
			return Drop, 0
		}
		return Leaf, 0
	})
	want := []Cell{{0, 0, 2}, {1, 0, 2}, {1, 1, 2}, {0, 1, 2}, {0, 1, 1}, {1, 0, 1}}
	if diff := cmp.Diff(want, leaves); diff != "" {
		t.Errorf("leaves (-want +got):\n%s", diff)
	}
	if got, want := q.CellBound(Cell{1, 0, 1}), (orb.Bound{Min: orb.Point{0.5, 0}, Max: orb.Point{1, 0.5}}); got != want {
		t.Errorf("CellBound = %v, want %v", got, want)
	}
}

func TestCutRuns(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		n       int
		want    []int
	}{
		{"even", []float64{1, 1, 1, 1}, 2, []int{0, 2}},
		{"heavy head", []float64{10, 1, 1, 1, 1}, 2, []int{0, 1}},
		{"zeros still non-empty", []float64{0, 0, 0}, 3, []int{0, 1, 2}},
		{"all weight at the end", []float64{0, 0, 0, 9}, 3, []int{0, 2, 3}},
		{"one run", []float64{3, 4}, 1, []int{0}},
		{"too many runs", []float64{1}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, CutRuns(tt.weights, tt.n)); diff != "" {
				t.Errorf("CutRuns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIDCheckDigit(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"GB 11643 example", "11010519491231002X", true},
		{"another valid", "440524188001010014", true},
		{"wrong check digit", "110105194912310021", false},
		{"too short", "1101051949123100", false},
		{"letter inside", "11010519491231A02X", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidIDNumber(tt.id); got != tt.want {
				t.Errorf("ValidIDNumber(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestRectRelation(t *testing.T) {
	square := orb.MultiPolygon{{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}}}
	segs := PolygonSegments(square)
	tests := []struct {
		name string
		b    orb.Bound
		want Relation
	}{
		{"inside", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{2, 2}}, RectInside},
		{"outside", orb.Bound{Min: orb.Point{11, 1}, Max: orb.Point{12, 2}}, RectOutside},
		{"crossing", orb.Bound{Min: orb.Point{9, 1}, Max: orb.Point{11, 2}}, RectCrossing},
		{"around", orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{11, 11}}, RectCrossing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RectRelation(segs, SegmentsIn(segs, tt.b), tt.b); got != tt.want {
				t.Errorf("RectRelation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRectDistance(t *testing.T) {
	b := orb.Bound{Min: orb.Point{106, 29}, Max: orb.Point{106.01, 29.01}}
	s := Segment{{106.02, 28}, {106.02, 30}} // 0.01° east of the box
	got := RectDistance(s, b)
	if got < 950 || got > 1000 { // 0.01° × 111 km × cos(29°) ≈ 972 m
		t.Errorf("RectDistance = %.0f m, want about 972", got)
	}
}
