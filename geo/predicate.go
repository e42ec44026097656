package geo

import (
	"math"
	"math/big"

	"github.com/paulmach/orb"
)

// orient tells on which side of the line a→b the point c lies: +1 left
// (counter-clockwise), -1 right, 0 on it. The float answer is used when
// it is provably right (Shewchuk's error bound); otherwise the sign is
// computed exactly, so that "touches" and "on the boundary" agree with
// GEOS on coordinates such as 106.58 that are not exact in binary.
func orient(a, b, c orb.Point) int {
	if c == a || c == b { // shared vertices are the common case
		return 0
	}
	l := (b[0] - a[0]) * (c[1] - a[1])
	r := (b[1] - a[1]) * (c[0] - a[0])
	det := l - r
	bound := 3.3306690738754716e-16 * (math.Abs(l) + math.Abs(r))
	switch {
	case det > bound:
		return 1
	case -det > bound:
		return -1
	}
	return orientExact(a, b, c)
}

func orientExact(a, b, c orb.Point) int {
	r := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	sub := func(x, y float64) *big.Rat { return new(big.Rat).Sub(r(x), r(y)) }
	l := new(big.Rat).Mul(sub(b[0], a[0]), sub(c[1], a[1]))
	rr := new(big.Rat).Mul(sub(b[1], a[1]), sub(c[0], a[0]))
	return l.Cmp(rr)
}

// onSegment tells whether c, known to be collinear with a→b, lies within
// the segment's box (and so on the segment).
func onSegment(a, b, c orb.Point) bool {
	return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
}

type meet uint8

const (
	meetNone    meet = iota
	meetTouch        // one common point, an end of at least one segment
	meetCross        // the interiors cross at one point
	meetOverlap      // collinear, sharing a stretch of positive length
)

// intersect classifies how segments p1p2 and q1q2 meet and where.
func intersect(p1, p2, q1, q2 orb.Point) (meet, orb.Point) {
	o1, o2 := orient(p1, p2, q1), orient(p1, p2, q2)
	o3, o4 := orient(q1, q2, p1), orient(q1, q2, p2)
	if o1 == 0 && o2 == 0 { // collinear (or degenerate)
		var on []orb.Point
		for _, c := range []orb.Point{q1, q2} {
			if onSegment(p1, p2, c) {
				on = append(on, c)
			}
		}
		for _, c := range []orb.Point{p1, p2} {
			if onSegment(q1, q2, c) && !contains(on, c) {
				on = append(on, c)
			}
		}
		switch len(on) {
		case 0:
			return meetNone, orb.Point{}
		case 1:
			return meetTouch, on[0]
		}
		return meetOverlap, on[0]
	}
	if o1*o2 < 0 && o3*o4 < 0 {
		return meetCross, crossing(p1, p2, q1, q2)
	}
	switch {
	case o1 == 0 && onSegment(p1, p2, q1):
		return meetTouch, q1
	case o2 == 0 && onSegment(p1, p2, q2):
		return meetTouch, q2
	case o3 == 0 && onSegment(q1, q2, p1):
		return meetTouch, p1
	case o4 == 0 && onSegment(q1, q2, p2):
		return meetTouch, p2
	}
	return meetNone, orb.Point{}
}

func contains(ps []orb.Point, p orb.Point) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// crossing is the approximate point where two crossing segments meet.
func crossing(p1, p2, q1, q2 orb.Point) orb.Point {
	d := (p2[0]-p1[0])*(q2[1]-q1[1]) - (p2[1]-p1[1])*(q2[0]-q1[0])
	if d == 0 {
		return p1
	}
	t := ((q1[0]-p1[0])*(q2[1]-q1[1]) - (q1[1]-p1[1])*(q2[0]-q1[0])) / d
	return orb.Point{p1[0] + t*(p2[0]-p1[0]), p1[1] + t*(p2[1]-p1[1])}
}

// Location is where a point lies relative to an area.
type Location int8

const (
	Outside Location = iota
	OnBoundary
	Inside
)

// locateRing tells where p lies relative to a closed ring (crossing
// number; the boundary test uses exact orientation).
func locateRing(r orb.Ring, p orb.Point) Location {
	in := false
	for k := 0; k+1 < len(r); k++ {
		a, b := r[k], r[k+1]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			o := orient(a, b, p)
			if o == 0 {
				return OnBoundary
			}
			// Upward edge with p on its left, or downward with p on its right.
			if (o > 0) == (b[1] > a[1]) {
				in = !in
			}
		} else if (a[1] == p[1] || b[1] == p[1] || a[1] == b[1]) && orient(a, b, p) == 0 && onSegment(a, b, p) {
			return OnBoundary
		}
	}
	if in {
		return Inside
	}
	return Outside
}

// LocatePolygon tells where p lies relative to a polygon with holes.
func LocatePolygon(poly orb.Polygon, p orb.Point) Location {
	if len(poly) == 0 {
		return Outside
	}
	switch locateRing(poly[0], p) {
	case Outside:
		return Outside
	case OnBoundary:
		return OnBoundary
	}
	for _, h := range poly[1:] {
		switch locateRing(h, p) {
		case Inside:
			return Outside
		case OnBoundary:
			return OnBoundary
		}
	}
	return Inside
}

// Covers tells whether the polygon contains p or has it on its boundary
// (the OGC covers predicate; what a point→grid locate wants, so that a
// point on a shared edge still finds a grid).
func Covers(poly orb.Polygon, p orb.Point) bool { return LocatePolygon(poly, p) != Outside }

// Contains tells whether p lies in the polygon's interior (OGC contains).
func Contains(poly orb.Polygon, p orb.Point) bool { return LocatePolygon(poly, p) == Inside }
