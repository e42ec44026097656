package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Segment is a straight edge between two points.
type Segment [2]orb.Point

// Relation is how a rectangle lies with respect to a polygon.
type Relation uint8

const (
	RectOutside Relation = iota
	RectInside
	RectCrossing // some polygon edge meets the rectangle
)

// PolygonSegments lists every ring edge of mp.
func PolygonSegments(mp orb.MultiPolygon) []Segment {
	var out []Segment
	for _, p := range mp {
		for _, r := range p {
			for i := 1; i < len(r); i++ {
				out = append(out, Segment{r[i-1], r[i]})
			}
		}
	}
	return out
}

// SegmentsIn keeps the segments whose bounding box meets b (a cheap,
// conservative filter handed down a quadtree).
func SegmentsIn(segs []Segment, b orb.Bound) []Segment {
	var out []Segment
	for _, s := range segs {
		if math.Max(s[0][0], s[1][0]) < b.Min[0] || math.Min(s[0][0], s[1][0]) > b.Max[0] ||
			math.Max(s[0][1], s[1][1]) < b.Min[1] || math.Min(s[0][1], s[1][1]) > b.Max[1] {
			continue
		}
		out = append(out, s)
	}
	return out
}

// RectRelation classifies b against the polygon whose edges are all,
// given near ⊇ the edges that may meet b (see SegmentsIn).
func RectRelation(all, near []Segment, b orb.Bound) Relation {
	for _, s := range near {
		if SegmentMeetsRect(s, b) {
			return RectCrossing
		}
	}
	if SegmentsContain(all, b.Center()) {
		return RectInside
	}
	return RectOutside
}

// SegmentsContain tells whether p lies inside the polygon whose ring
// edges are segs (even–odd rule, so holes and several parts work).
func SegmentsContain(segs []Segment, p orb.Point) bool {
	in := false
	for _, s := range segs {
		a, b := s[0], s[1]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			if x := a[0] + (p[1]-a[1])/(b[1]-a[1])*(b[0]-a[0]); p[0] < x {
				in = !in
			}
		}
	}
	return in
}

// SegmentMeetsRect tells whether s touches or crosses the closed rectangle
// b (Liang–Barsky clipping).
func SegmentMeetsRect(s Segment, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := s[1][0]-s[0][0], s[1][1]-s[0][1]
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return false
			}
			t0 = math.Max(t0, r)
		} else {
			if r < t0 {
				return false
			}
			t1 = math.Min(t1, r)
		}
		return true
	}
	return clip(-dx, s[0][0]-b.Min[0]) && clip(dx, b.Max[0]-s[0][0]) &&
		clip(-dy, s[0][1]-b.Min[1]) && clip(dy, b.Max[1]-s[0][1]) && t0 <= t1
}

// metresPerDegree is the length of one degree of latitude on the WGS-84
// mean sphere; longitude degrees shrink by cos(latitude).
const metresPerDegree = 111_195.0

// RectDistance is the approximate distance in metres between the segment
// s and the rectangle b, both in lon/lat (local equirectangular metric,
// good to a fraction of a percent over a city).
func RectDistance(s Segment, b orb.Bound) float64 {
	if SegmentMeetsRect(s, b) {
		return 0
	}
	kx := math.Cos(b.Center()[1]*math.Pi/180) * metresPerDegree
	ky := metresPerDegree
	corners := [4]orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}}
	d := math.Inf(1)
	for i, c := range corners {
		d = math.Min(d, pointSegment(c, s, kx, ky))
		e := Segment{c, corners[(i+1)%4]}
		d = math.Min(d, pointSegment(s[0], e, kx, ky))
		d = math.Min(d, pointSegment(s[1], e, kx, ky))
	}
	return d
}

func pointSegment(p orb.Point, s Segment, kx, ky float64) float64 {
	ax, ay := (s[0][0]-p[0])*kx, (s[0][1]-p[1])*ky
	bx, by := (s[1][0]-p[0])*kx, (s[1][1]-p[1])*ky
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	return math.Hypot(ax+t*dx, ay+t*dy)
}
