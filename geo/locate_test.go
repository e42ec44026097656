package geo_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

// lattice cuts [x0, x0+n*step] × [y0, y0+n*step] into n×n square grids,
// numbered row by row.
func lattice(x0, y0, step float64, n int) []geo.Grid {
	var gs []geo.Grid
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			r := orb.Bound{Min: orb.Point{x0 + float64(i)*step, y0 + float64(j)*step},
				Max: orb.Point{x0 + float64(i+1)*step, y0 + float64(j+1)*step}}
			gs = append(gs, geo.Grid{Code: fmt.Sprintf("500103001001%03d", j*n+i), Name: fmt.Sprint(j*n + i),
				Shape: orb.MultiPolygon{r.ToPolygon()}})
		}
	}
	return gs
}

// brute is the reference answer: the lowest code among covering grids.
func brute(gs []geo.Grid, p orb.Point) (string, bool) {
	best := ""
	for _, g := range gs {
		for _, poly := range g.Shape {
			if geo.Covers(poly, p) && (best == "" || g.Code < best) {
				best = g.Code
			}
		}
	}
	return best, best != ""
}

func TestGridIndexAgreesWithBruteForce(t *testing.T) {
	gs := lattice(106.50, 29.50, 0.004, 20) // 400 grids of ~400 m
	ix := geo.NewGridIndex(0)
	ix.Replace(gs)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 20000; k++ {
		p := orb.Point{106.49 + rng.Float64()*0.1, 29.49 + rng.Float64()*0.1}
		if k%10 == 0 { // on a lattice line: shared edges and corners
			p[0] = 106.50 + float64(rng.IntN(21))*0.004
		}
		want, wantOK := brute(gs, p)
		got, ok := ix.Locate(p[0], p[1])
		if ok != wantOK || got.Code != want {
			t.Fatalf("Locate(%v) = %q %v, want %q %v", p, got.Code, ok, want, wantOK)
		}
	}
}

func TestGridIndexHit(t *testing.T) {
	ix := geo.NewGridIndex(9)
	ix.Replace(lattice(106.50, 29.50, 0.01, 2))
	h, ok := ix.Locate(106.515, 29.505)
	want := geo.GridHit{Code: "500103001001001", Name: "1", Community: "500103001001", Street: "500103001", District: "500103"}
	if !ok || h != want {
		t.Fatalf("Locate = %+v %v, want %+v", h, ok, want)
	}
	// On the edge between grid 000 and 001: the lower code.
	if h, _ := ix.Locate(106.51, 29.505); h.Code != "500103001001000" {
		t.Errorf("shared edge went to %s, want the lower code", h.Code)
	}
	for _, p := range [][2]float64{{math.NaN(), 29.5}, {106.5, math.NaN()}, {181, 29.5}, {106.5, -91}, {0, 0}} {
		if h, ok := ix.Locate(p[0], p[1]); ok {
			t.Errorf("Locate(%v) = %+v, want not found", p, h)
		}
	}
}

func TestGridIndexUpsertRemove(t *testing.T) {
	gs := lattice(106.50, 29.50, 0.01, 2)
	ix := geo.NewGridIndex(0)
	ix.Replace(gs)
	// Grid 000 takes over grid 001's square (a redraw), then 001 retires.
	moved := gs[0]
	moved.Shape = orb.MultiPolygon{orb.Bound{Min: orb.Point{106.50, 29.50}, Max: orb.Point{106.52, 29.51}}.ToPolygon()}
	ix.Upsert(moved)
	ix.Remove(gs[1].Code, "no such grid")
	if h, ok := ix.Locate(106.515, 29.505); !ok || h.Code != gs[0].Code {
		t.Errorf("after redraw: %+v %v, want %s", h, ok, gs[0].Code)
	}
	if ix.Len() != 3 {
		t.Errorf("Len = %d, want 3", ix.Len())
	}
	ix.Remove(gs[0].Code)
	if h, ok := ix.Locate(106.515, 29.505); ok {
		t.Errorf("after removal: %+v, want not found", h)
	}
}

func TestGridIndexBatch(t *testing.T) {
	gs := lattice(106.50, 29.50, 0.004, 10)
	ix := geo.NewGridIndex(0)
	ix.Replace(gs)
	rng := rand.New(rand.NewPCG(3, 4))
	pts := make([]orb.Point, 1000)
	for i := range pts {
		pts[i] = orb.Point{106.49 + rng.Float64()*0.06, 29.49 + rng.Float64()*0.06}
	}
	pts[0] = orb.Point{math.NaN(), 1}
	hits, found := make([]geo.GridHit, len(pts)), make([]bool, len(pts))
	ix.LocateBatch(pts, hits, found)
	for i, p := range pts {
		h, ok := ix.Locate(p[0], p[1])
		if h != hits[i] || ok != found[i] {
			t.Fatalf("batch[%d] = %+v %v, single = %+v %v", i, hits[i], found[i], h, ok)
		}
	}
}

func BenchmarkGridIndexLocate(b *testing.B) {
	gs := lattice(106.50, 29.50, 0.003, 100) // 10,000 grids of ~300 m
	ix := geo.NewGridIndex(0)
	ix.Replace(gs)
	rng := rand.New(rand.NewPCG(5, 6))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{106.50 + rng.Float64()*0.3, 29.50 + rng.Float64()*0.3}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pts[i%len(pts)]
		if _, ok := ix.Locate(p[0], p[1]); !ok {
			b.Fatal("miss")
		}
	}
}
