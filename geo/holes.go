package geo

import (
	"slices"

	"github.com/paulmach/orb"
)

// Once no two rings cross (findFault), a ring lies wholly inside or
// outside another, so testing one of its points that is not on the other
// ring decides it.

// checkHoles checks that every hole lies in the shell and in no other hole.
func checkHoles(poly orb.Polygon) error {
	shell := poly[0]
	for hi := 1; hi < len(poly); hi++ {
		if p, loc, ok := probe(poly[hi], shell); ok && loc == Outside {
			return geomErrAt(p, "ring %d (a hole) lies outside ring 0 (the shell)", hi)
		}
	}
	// Nested holes: only pairs whose boxes overlap, swept on x.
	type box struct {
		i    int
		b    orb.Bound
		ring orb.Ring
	}
	bs := make([]box, 0, len(poly)-1)
	for hi := 1; hi < len(poly); hi++ {
		bs = append(bs, box{hi, poly[hi].Bound(), poly[hi]})
	}
	slices.SortFunc(bs, func(x, y box) int {
		switch {
		case x.b.Min[0] < y.b.Min[0]:
			return -1
		case x.b.Min[0] > y.b.Min[0]:
			return 1
		}
		return 0
	})
	for i := range bs {
		for j := i + 1; j < len(bs) && bs[j].b.Min[0] <= bs[i].b.Max[0]; j++ {
			if !bs[i].b.Intersects(bs[j].b) {
				continue
			}
			for _, pair := range [][2]box{{bs[i], bs[j]}, {bs[j], bs[i]}} {
				if p, loc, ok := probe(pair[0].ring, pair[1].ring); ok && loc == Inside {
					return geomErrAt(p, "ring %d (a hole) lies inside ring %d (another hole)", pair[0].i, pair[1].i)
				}
			}
		}
	}
	return nil
}

// checkDisjoint checks that no polygon of a multipolygon lies inside
// another (crossings were found before; an island in another polygon's
// hole is fine).
func checkDisjoint(mp orb.MultiPolygon) error {
	bounds := make([]orb.Bound, len(mp))
	for i, p := range mp {
		bounds[i] = p[0].Bound()
	}
	for i := range mp {
		for j := range mp {
			if i == j || !bounds[i].Intersects(bounds[j]) {
				continue
			}
			p, ok := probePoly(mp[i][0], mp[j])
			if ok && LocatePolygon(mp[j], p) == Inside {
				a, b := min(i, j), max(i, j)
				return geomErrAt(p, "polygons %d and %d overlap", a, b)
			}
		}
	}
	return nil
}

// probe finds a vertex of r not on ring other and tells where it lies.
func probe(r, other orb.Ring) (orb.Point, Location, bool) {
	for _, p := range r {
		if loc := locateRing(other, p); loc != OnBoundary {
			return p, loc, true
		}
	}
	return orb.Point{}, OnBoundary, false
}

// probePoly finds a vertex of r not on the boundary of poly.
func probePoly(r orb.Ring, poly orb.Polygon) (orb.Point, bool) {
	for _, p := range r {
		if LocatePolygon(poly, p) != OnBoundary {
			return p, true
		}
	}
	return orb.Point{}, false
}

// Normalize returns a copy of g in the form RFC 7946 asks for and the
// store keeps: shells counter-clockwise, holes clockwise (§3.1.6), and no
// repeated consecutive positions. Other geometries come back unchanged.
// Call it on geometries that passed Validate.
func Normalize(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Polygon:
		return normalizePolygon(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = normalizePolygon(p)
		}
		return out
	case orb.Collection:
		out := make(orb.Collection, len(g))
		for i, m := range g {
			out[i] = Normalize(m)
		}
		return out
	}
	return g
}

func normalizePolygon(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		d := make(orb.Ring, 0, len(r))
		for _, q := range r {
			if len(d) == 0 || d[len(d)-1] != q {
				d = append(d, q)
			}
		}
		if (i == 0) != (area(d) > 0) {
			slices.Reverse(d)
		}
		out[i] = d
	}
	return out
}
