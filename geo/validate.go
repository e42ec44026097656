package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Validate checks a geometry against what PostGIS ST_IsValid and the
// WGS-84 columns require: finite longitude in [-180, 180] and latitude in
// [-90, 90]; lines of two distinct points; closed rings of at least four
// positions and three distinct points, without spikes, without crossing
// or touching themselves; holes inside their shell and not inside each
// other; rings of one polygon and polygons of one multipolygon never
// crossing or sharing an edge (touching at a point is allowed). Errors are
// *Error with a reason and, for topology, the place.
//
// Repeated consecutive positions are allowed: RFC 7946 does not forbid
// them and PostGIS accepts them; they are ignored by the checks and
// dropped by Normalize. Winding is not checked (RFC 7946 §3.1.6 says not
// to reject it); Normalize fixes it.
func Validate(g orb.Geometry) error {
	switch g := g.(type) {
	case nil:
		return geomErr("geometry is null")
	case orb.Point:
		return ValidatePoint(g)
	case orb.MultiPoint:
		if len(g) == 0 {
			return geomErr("empty MultiPoint")
		}
		for k, p := range g {
			if err := ValidatePoint(p); err != nil {
				return prefix(err, "point %d: ", k)
			}
		}
		return nil
	case orb.LineString:
		return ValidateLineString(g)
	case orb.MultiLineString:
		if len(g) == 0 {
			return geomErr("empty MultiLineString")
		}
		for k, l := range g {
			if err := ValidateLineString(l); err != nil {
				return prefix(err, "line %d: ", k)
			}
		}
		return nil
	case orb.Ring:
		return ValidatePolygon(orb.Polygon{g})
	case orb.Polygon:
		return ValidatePolygon(g)
	case orb.MultiPolygon:
		return ValidateMultiPolygon(g)
	case orb.Collection:
		for k, m := range g {
			if err := Validate(m); err != nil {
				return prefix(err, "geometry %d: ", k)
			}
		}
		return nil
	}
	return geomErr("unsupported geometry %s", g.GeoJSONType())
}

// ValidatePoint checks that p is a finite WGS-84 longitude, latitude.
func ValidatePoint(p orb.Point) error {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(lat) || math.IsInf(lat, 0):
		return geomErr("coordinates %v,%v are not finite", lon, lat)
	case lon < -180 || lon > 180:
		return geomErr("longitude %v is outside [-180, 180] (are longitude and latitude swapped, or is it not WGS-84?)", lon)
	case lat < -90 || lat > 90:
		return geomErr("latitude %v is outside [-90, 90] (are longitude and latitude swapped, or is it not WGS-84?)", lat)
	}
	return nil
}

// ValidateLineString checks the positions and that the line has two
// distinct points.
func ValidateLineString(ls orb.LineString) error {
	for k, p := range ls {
		if err := ValidatePoint(p); err != nil {
			return prefix(err, "position %d: ", k)
		}
	}
	for k := 1; k < len(ls); k++ {
		if ls[k] != ls[0] {
			return nil
		}
	}
	return geomErr("a line needs at least 2 distinct positions")
}

// ValidatePolygon checks one polygon; see Validate for the rules.
func ValidatePolygon(p orb.Polygon) error {
	return ValidateMultiPolygon(orb.MultiPolygon{p})
}

// ValidateMultiPolygon checks a multipolygon; see Validate for the rules.
// Faults inside a multipolygon of one polygon are reported without the
// "polygon 0" prefix, as for a Polygon.
func ValidateMultiPolygon(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return geomErr("empty MultiPolygon")
	}
	name := func(poly int) string {
		if len(mp) == 1 {
			return ""
		}
		return fmt.Sprintf("polygon %d ", poly)
	}
	clean := make(orb.MultiPolygon, len(mp))
	var segs []seg
	for pi, poly := range mp {
		if len(poly) == 0 {
			return geomErr("%shas no rings", name(pi))
		}
		clean[pi] = make(orb.Polygon, len(poly))
		for ri, r := range poly {
			d, err := checkRing(r)
			if err != nil {
				return prefix(err, "%sring %d ", name(pi), ri)
			}
			clean[pi][ri] = d
			segs = edges(segs, d, pi, ri)
		}
	}
	if f := findFault(segs); f != nil {
		return describe(f, name)
	}
	for pi, poly := range clean {
		if err := checkHoles(poly); err != nil {
			return prefix(err, "%s", name(pi))
		}
	}
	return checkDisjoint(clean)
}

// checkRing checks one ring alone and returns it without repeated
// consecutive positions.
func checkRing(r orb.Ring) (orb.Ring, error) {
	if len(r) < 4 {
		return nil, geomErr("has %d positions; a ring needs at least 4", len(r))
	}
	if r[0] != r[len(r)-1] {
		return nil, geomErrAt(r[0], "is not closed (its last position differs from its first)")
	}
	d := make(orb.Ring, 0, len(r))
	for k, p := range r {
		if err := ValidatePoint(p); err != nil {
			return nil, prefix(err, "position %d: ", k)
		}
		if len(d) == 0 || d[len(d)-1] != p {
			d = append(d, p)
		}
	}
	if len(d) < 4 {
		return nil, geomErrAt(r[0], "has fewer than 3 distinct positions")
	}
	return d, nil
}

func describe(f *fault, name func(int) string) error {
	s, t := f.s, f.t
	if s.poly > t.poly || (s.poly == t.poly && s.ring > t.ring) {
		s, t = t, s
	}
	switch {
	case s.poly == t.poly && s.ring == t.ring && f.kind == meetTouch:
		return geomErrAt(f.at, "%sring %d touches itself", name(s.poly), s.ring)
	case s.poly == t.poly && s.ring == t.ring && f.kind == meetOverlap:
		return geomErrAt(f.at, "%sring %d self-intersects (goes back over its own edge)", name(s.poly), s.ring)
	case s.poly == t.poly && s.ring == t.ring:
		return geomErrAt(f.at, "%sring %d self-intersects", name(s.poly), s.ring)
	case s.poly == t.poly && f.kind == meetOverlap:
		return geomErrAt(f.at, "%srings %d and %d share an edge", name(s.poly), s.ring, t.ring)
	case s.poly == t.poly:
		return geomErrAt(f.at, "%srings %d and %d cross", name(s.poly), s.ring, t.ring)
	case f.kind == meetOverlap:
		return geomErrAt(f.at, "polygons %d and %d share an edge; merge them or make it one Polygon", s.poly, t.poly)
	}
	return geomErrAt(f.at, "polygons %d and %d overlap", s.poly, t.poly)
}

// area is the signed area of a closed ring: positive when counter-clockwise.
func area(r orb.Ring) float64 {
	var s float64
	for k := 0; k+1 < len(r); k++ {
		s += (r[k][0] - r[k+1][0]) * (r[k][1] + r[k+1][1])
	}
	return s / 2
}

// prefix adds context in front of a geometry error's reason.
func prefix(err error, format string, args ...any) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	c.Reason = fmt.Sprintf(format, args...) + c.Reason
	return &c
}
