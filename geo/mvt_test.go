package geo_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/wangge/wangge/geo"
)

// tile 14/13042/6782 covers Jiefangbei (106.57 E, 29.555 N).
const tz, tx, ty = 14, 13042, 6782

func tileBound() orb.Bound { return maptile.New(tx, ty, tz).Bound() }

// decode parses our bytes with orb's independent decoder, in tile units.
func decode(t *testing.T, b []byte) mvt.Layers {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("orb cannot decode the tile: %v", err)
	}
	return ls
}

// ringArea is the surveyor's area in tile units (y down), as MVT 2.1 uses.
func ringArea(r orb.Ring) float64 {
	var s float64
	for i := range r {
		j := (i + 1) % len(r)
		s += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return s / 2
}

func TestMVTPolygonWindingAndHoles(t *testing.T) {
	b := tileBound()
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Max[1] - fy*h} }
	square := func(x0, y0, x1, y1 float64, ccw bool) orb.Ring {
		r := orb.Ring{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)}
		if !ccw {
			r.Reverse()
		}
		return r
	}
	for _, ccw := range []bool{true, false} { // stored orientation must not matter
		l := geo.NewMVTLayer("grids", tz, tx, ty, 1)
		poly := orb.Polygon{square(0.1, 0.1, 0.9, 0.9, ccw), square(0.4, 0.4, 0.6, 0.6, ccw)}
		if ok, err := l.Add(7, poly, []geo.Prop{{Key: "code", Value: "500103001001001"}, {Key: "households", Value: int32(420)},
			{Key: "share", Value: 0.25}, {Key: "active", Value: true}, {Key: "note", Value: nil}}); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		ls := decode(t, l.AppendTo(nil))
		if len(ls) != 1 || ls[0].Name != "grids" || ls[0].Extent != geo.MVTExtent || len(ls[0].Features) != 1 {
			t.Fatalf("decoded %+v", ls)
		}
		f := ls[0].Features[0]
		if fmt.Sprint(f.ID) != "7" {
			t.Errorf("id %v (%T)", f.ID, f.ID)
		}
		want := map[string]any{"code": "500103001001001", "households": float64(420), "share": 0.25, "active": true}
		for k, v := range want {
			got := f.Properties[k]
			if n, ok := got.(uint64); ok {
				got = float64(n)
			}
			if got != v {
				t.Errorf("property %s = %v (%T), want %v", k, f.Properties[k], f.Properties[k], v)
			}
		}
		if _, ok := f.Properties["note"]; ok {
			t.Error("a nil property was encoded")
		}
		p, ok := f.Geometry.(orb.Polygon)
		if !ok || len(p) != 2 {
			t.Fatalf("geometry %#v", f.Geometry)
		}
		// 1%: the square is drawn in degrees, the tile is Mercator.
		if a := ringArea(p[0]); math.Abs(a-0.64*4096*4096) > 0.01*4096*4096 || a <= 0 {
			t.Errorf("exterior area %v, want about +0.64 of the tile", a)
		}
		if a := ringArea(p[1]); a >= 0 {
			t.Errorf("hole area %v, want negative", a)
		}
	}
}

func TestMVTClipsToBufferAndSkipsOutside(t *testing.T) {
	b := tileBound()
	big := orb.Polygon{{{b.Min[0] - 1, b.Min[1] - 1}, {b.Max[0] + 1, b.Min[1] - 1}, {b.Max[0] + 1, b.Max[1] + 1}, {b.Min[0] - 1, b.Max[1] + 1}, {b.Min[0] - 1, b.Min[1] - 1}}}
	l := geo.NewMVTLayer("districts", tz, tx, ty, 1)
	if ok, err := l.Add(1, big, nil); !ok || err != nil {
		t.Fatalf("add: %v %v", ok, err)
	}
	far := orb.Point{b.Max[0] + 0.5, b.Max[1]}
	if ok, _ := l.Add(2, far, nil); ok {
		t.Error("a point far outside the tile was added")
	}
	tiny := orb.Polygon{{{b.Min[0] + 1e-9, b.Min[1] + 1e-9}, {b.Min[0] + 2e-9, b.Min[1] + 1e-9}, {b.Min[0] + 2e-9, b.Min[1] + 2e-9}, {b.Min[0] + 1e-9, b.Min[1] + 1e-9}}}
	if ok, _ := l.Add(3, tiny, nil); ok {
		t.Error("a polygon smaller than a tile unit was added")
	}
	ls := decode(t, l.AppendTo(nil))
	if n := len(ls[0].Features); n != 1 {
		t.Fatalf("%d features, want 1", n)
	}
	bb := ls[0].Features[0].Geometry.Bound()
	lo, hi := float64(-geo.MVTBuffer), float64(geo.MVTExtent+geo.MVTBuffer)
	if bb.Min[0] != lo || bb.Min[1] != lo || bb.Max[0] != hi || bb.Max[1] != hi {
		t.Errorf("clipped bound %v, want the buffered tile [%v, %v]", bb, lo, hi)
	}
	if got := geo.NewMVTLayer("empty", tz, tx, ty, 1).AppendTo([]byte{1, 2}); len(got) != 2 {
		t.Error("an empty layer appended bytes")
	}
	if _, err := l.Add(4, b.Center(), []geo.Prop{{Key: "x", Value: []int{1}}}); err == nil {
		t.Error("an unsupported property type was accepted")
	}
	if _, err := l.AddWKB(5, []byte{1, 2, 3}, nil); err == nil {
		t.Error("malformed WKB was accepted")
	}
}

func TestMVTPointsLandOnTheirPixel(t *testing.T) {
	b := tileBound()
	l := geo.NewMVTLayer("posts", tz, tx, ty, 0)
	p := orb.Point{b.Min[0] + 0.25*(b.Max[0]-b.Min[0]), b.Center()[1]}
	if ok, err := l.Add(9, p, []geo.Prop{{Key: "kind", Value: "police"}}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	got := decode(t, l.AppendTo(nil))[0].Features[0].Geometry.(orb.Point)
	if math.Abs(got[0]-1024) > 1 || math.Abs(got[1]-2048) > 40 { // y: Mercator, not linear in latitude
		t.Errorf("point at %v, want about (1024, 2048)", got)
	}
}

// BenchmarkMVTGrids draws 4,000 grid-sized squares into one z10 tile, the
// densest outline tile of the demo city.
func BenchmarkMVTGrids(b *testing.B) {
	t := maptile.New(815, 423, 10)
	bd := t.Bound()
	var polys []orb.Polygon
	const n = 64
	dx, dy := (bd.Max[0]-bd.Min[0])/n, (bd.Max[1]-bd.Min[1])/n
	for i := range n * n {
		x0, y0 := bd.Min[0]+float64(i%n)*dx, bd.Min[1]+float64(i/n)*dy
		polys = append(polys, orb.Polygon{{{x0, y0}, {x0 + dx, y0}, {x0 + dx, y0 + dy/2}, {x0 + dx, y0 + dy}, {x0, y0 + dy}, {x0, y0}}})
	}
	props := []geo.Prop{{Key: "code", Value: "500103001001001"}, {Key: "households", Value: int64(400)}}
	b.ReportAllocs()
	for b.Loop() {
		l := geo.NewMVTLayer("grids", 10, 815, 423, 1)
		for i, p := range polys {
			if _, err := l.Add(uint64(i+1), orb.Polygon{append(orb.Ring(nil), p[0]...)}, props); err != nil {
				b.Fatal(err)
			}
		}
		_ = l.AppendTo(nil)
	}
}

func TestMVTCountLayerCountsPerCell(t *testing.T) {
	b := tileBound()
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Max[1] - fy*h} }
	l := geo.NewMVTCountLayer("objects", tz, tx, ty, 64)
	for i, p := range []orb.Point{at(0.5001, 0.5001), at(0.1, 0.1), at(0.5002, 0.5002), at(1.5, 0.5)} {
		l.Add(uint64(10-i), p, nil) //nolint:errcheck // counted below
	}
	got := map[string]string{}
	for _, f := range decode(t, l.AppendTo(nil))[0].Features {
		got[fmt.Sprint(f.ID)] = fmt.Sprint(f.Properties["count"])
	}
	// Cells ordered by their smallest point id: the 0.5 cell (ids 10, 8)
	// comes before the 0.1 cell (id 9); the point outside the tile is not counted.
	if fmt.Sprint(got) != "map[1:2 2:1]" {
		t.Errorf("cells %v, want map[1:2 2:1]", got)
	}
}
