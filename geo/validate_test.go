package geo_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

func sq(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		want string // "" for valid
	}{
		{"point", orb.Point{106.58, 29.56}, ""},
		{"point lon out of range", orb.Point{206.58, 29.56}, "longitude 206.58 is outside [-180, 180] (are longitude and latitude swapped, or is it not WGS-84?)"},
		{"point lat out of range", orb.Point{106.58, -91}, "latitude -91 is outside [-90, 90] (are longitude and latitude swapped, or is it not WGS-84?)"},
		{"point NaN", orb.Point{math.NaN(), 1}, "coordinates NaN,1 are not finite"},
		{"line", orb.LineString{{0, 0}, {1, 1}}, ""},
		{"line of one point twice", orb.LineString{{0, 0}, {0, 0}}, "a line needs at least 2 distinct positions"},
		{"square", orb.Polygon{sq(0, 0, 1, 1)}, ""},
		{"clockwise square is valid (fixed by Normalize)", orb.Polygon{{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}}, ""},
		{"repeated points allowed", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}, ""},
		{"bow tie", orb.Polygon{{{106.57, 29.55}, {106.59, 29.57}, {106.59, 29.55}, {106.57, 29.57}, {106.57, 29.55}}},
			"ring 0 self-intersects near 106.58,29.56"},
		{"ring touches itself", orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}, {0, 0}}}, "ring 0 touches itself near 2,0"},
		{"spike", orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {2, 3}, {2, 2}, {0, 2}, {0, 0}}},
			"ring 0 self-intersects (goes back over its own edge) near 2,3"},
		{"not closed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, "ring 0 is not closed (its last position differs from its first) near 0,0"},
		{"too short", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, "ring 0 has 3 positions; a ring needs at least 4"},
		{"two distinct points", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {0, 0}}}, "ring 0 has fewer than 3 distinct positions near 0,0"},
		{"flat", orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {0, 0}}}, "ring 0 self-intersects (goes back over its own edge) near 0,0"},
		{"position out of range", orb.Polygon{{{0, 0}, {1, 0}, {1, 100}, {0, 0}}},
			"ring 0 position 2: latitude 100 is outside [-90, 90] (are longitude and latitude swapped, or is it not WGS-84?)"},
		{"hole", orb.Polygon{sq(0, 0, 10, 10), sq(2, 2, 4, 4)}, ""},
		{"hole touching shell at a point", orb.Polygon{sq(0, 0, 10, 10), {{0, 5}, {2, 4}, {2, 6}, {0, 5}}}, ""},
		{"hole outside shell", orb.Polygon{sq(0, 0, 10, 10), sq(20, 20, 30, 30)}, "ring 1 (a hole) lies outside ring 0 (the shell) near 20,20"},
		{"hole crossing shell", orb.Polygon{sq(0, 0, 10, 10), sq(5, 5, 15, 15)}, "rings 0 and 1 cross near 10,5"},
		{"hole sharing shell edge", orb.Polygon{sq(0, 0, 10, 10), sq(0, 2, 2, 4)}, "rings 0 and 1 share an edge near 0,4"},
		{"nested holes", orb.Polygon{sq(0, 0, 10, 10), sq(1, 1, 9, 9), sq(2, 2, 3, 3)}, "ring 2 (a hole) lies inside ring 1 (another hole) near 2,2"},
		{"multipolygon", orb.MultiPolygon{{sq(0, 0, 1, 1)}, {sq(2, 0, 3, 1)}}, ""},
		{"multipolygon touching at a corner", orb.MultiPolygon{{sq(0, 0, 1, 1)}, {sq(1, 1, 2, 2)}}, ""},
		{"island in a lake", orb.MultiPolygon{{sq(0, 0, 10, 10), sq(2, 2, 8, 8)}, {sq(3, 3, 4, 4)}}, ""},
		{"multipolygon overlapping", orb.MultiPolygon{{sq(0, 0, 2, 2)}, {sq(1, 1, 3, 3)}}, "polygons 0 and 1 overlap near 2,1"},
		{"multipolygon nested", orb.MultiPolygon{{sq(0, 0, 10, 10)}, {sq(1, 1, 2, 2)}}, "polygons 0 and 1 overlap near 1,1"},
		{"multipolygon sharing an edge", orb.MultiPolygon{{sq(0, 0, 1, 1)}, {sq(1, 0, 2, 1)}},
			"polygons 0 and 1 share an edge; merge them or make it one Polygon near 1,1"},
		{"bad ring in second polygon", orb.MultiPolygon{{sq(0, 0, 1, 1)}, {{{5, 5}, {6, 6}, {6, 5}, {5, 6}, {5, 5}}}},
			"polygon 1 ring 0 self-intersects near 5.5,5.5"},
		{"empty multipolygon", orb.MultiPolygon{}, "empty MultiPolygon"},
		{"null", nil, "geometry is null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := geo.Validate(tt.g); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	cw := orb.Polygon{{{0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 0}, {0, 0}}, {{0.2, 0.2}, {0.8, 0.2}, {0.8, 0.8}, {0.2, 0.2}}}
	want := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, {{0.2, 0.2}, {0.8, 0.8}, {0.8, 0.2}, {0.2, 0.2}}}
	if diff := cmp.Diff(want, geo.Normalize(cw)); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
}

// bigRing is a star-shaped ring of n vertices around Chongqing, with a
// wavy radius and jitter about as large as the step between vertices, as
// a surveyed district boundary has.
func bigRing(n int, seed int64) orb.Ring {
	rnd := rand.New(rand.NewSource(seed))
	r := make(orb.Ring, 0, n+1)
	for k := 0; k < n; k++ {
		a := 2 * math.Pi * float64(k) / float64(n)
		step := 2 * math.Pi * 0.2 / float64(n)
		rad := 0.2*(1+0.2*math.Sin(7*a)) + step*rnd.Float64()
		r = append(r, orb.Point{106.5 + rad*math.Cos(a), 29.5 + rad*math.Sin(a)})
	}
	return append(r, r[0])
}

func TestValidateBigRing(t *testing.T) {
	r := bigRing(200_000, 1)
	if err := geo.ValidatePolygon(orb.Polygon{r}); err != nil {
		t.Fatalf("valid ring: %v", err)
	}
	// Swap two far-apart vertices: the ring now crosses itself.
	r[1000], r[150_000] = r[150_000], r[1000]
	if err := geo.ValidatePolygon(orb.Polygon{r}); err == nil {
		t.Fatal("a ring with two swapped vertices passed")
	}
}

func BenchmarkValidatePolygon(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		p := orb.Polygon{bigRing(n, 1)}
		b.Run(fmt.Sprintf("vertices=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := geo.ValidatePolygon(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
