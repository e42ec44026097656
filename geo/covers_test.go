package geo_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/wangge/wangge/geo"
)

// jtsRun is the shape of a JTS TestRunner file.
type jtsRun struct {
	Cases []struct {
		Desc  string `xml:"desc"`
		A     string `xml:"a"`
		B     string `xml:"b"`
		Tests []struct {
			Op struct {
				Name   string `xml:"name,attr"`
				Arg1   string `xml:"arg1,attr"`
				Expect string `xml:",chardata"`
			} `xml:"op"`
		} `xml:"test"`
	} `xml:"case"`
}

// TestJTSRelatePA checks Covers and Contains against the point/area cases
// of JTS: A is a point or multipoint, B a polygon, and
// A coveredBy B ⇔ every point is covered; A within B ⇔ every point is
// covered and one lies inside; A intersects B ⇔ some point is covered.
func TestJTSRelatePA(t *testing.T) {
	var run jtsRun
	if err := xml.Unmarshal(read(t, "testdata/jts/TestRelatePA.xml"), &run); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range run.Cases {
		t.Run(c.Desc, func(t *testing.T) {
			// orb's WKT reader has no EMPTY elements; they add nothing here.
			noEmpty := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "EMPTY,", "") }
			a, err := wkt.Unmarshal(noEmpty(c.A))
			if err != nil {
				t.Fatalf("a: %v", err)
			}
			b, err := wkt.Unmarshal(noEmpty(c.B))
			if err != nil {
				t.Fatalf("b: %v", err)
			}
			var polys orb.MultiPolygon
			switch b := b.(type) {
			case orb.Polygon:
				polys = orb.MultiPolygon{b}
			case orb.MultiPolygon:
				polys = b
			default:
				t.Fatalf("b is a %s", b.GeoJSONType())
			}
			var pts []orb.Point
			switch a := a.(type) {
			case orb.Point:
				pts = []orb.Point{a}
			case orb.MultiPoint:
				pts = a
			}
			all, any, inside := true, false, false
			for _, p := range pts {
				cov, in := locate(polys, p)
				all, any, inside = all && cov, any || cov, inside || in
			}
			got := map[string]bool{"coveredBy": all, "within": all && inside, "intersects": any, "disjoint": !any}
			for _, tc := range c.Tests {
				g, ok := got[tc.Op.Name]
				if !ok || tc.Op.Arg1 != "A" {
					continue
				}
				want := strings.TrimSpace(tc.Op.Expect) == "true"
				if g != want {
					t.Errorf("%s: got %v, want %v", tc.Op.Name, g, want)
				}
				checked++
			}
		})
	}
	if checked < 20 {
		t.Fatalf("only %d assertions checked", checked)
	}
}

// locate tells whether a multipolygon covers p and whether p is inside it.
func locate(mp orb.MultiPolygon, p orb.Point) (covered, inside bool) {
	for _, poly := range mp {
		if geo.Covers(poly, p) {
			return true, geo.Contains(poly, p)
		}
	}
	return false, false
}
