package geo

import (
	"fmt"

	"github.com/paulmach/orb"
)

// parseGeometry reads a Geometry object. depth counts enclosing
// GeometryCollections, to bound recursion.
func parseGeometry(v *jval, i int, path string, depth int) (orb.Geometry, error) {
	if v.kind != jObj {
		return nil, perr(v, i, path, "a geometry must be an object, not %s", v.kind)
	}
	typ, err := typeOf(v, i, path)
	if err != nil {
		return nil, err
	}
	if typ == "Feature" || typ == "FeatureCollection" {
		return nil, perr(v, i, joinPath(path, "type"), "a %s is not a geometry", typ)
	}
	if err := common(v, i, path, "properties", "geometry", "features"); err != nil {
		return nil, err
	}
	if typ == "GeometryCollection" {
		return parseGeometryCollection(v, i, path, depth)
	}
	c, ok := v.member("coordinates")
	if !ok {
		return nil, perr(v, i, path, "a %s needs a \"coordinates\" member", typ)
	}
	path = joinPath(path, "coordinates")
	switch typ {
	case "Point":
		p, err := position(c, i, path)
		return p, err
	case "MultiPoint":
		ps, err := positions(c, i, path, 0)
		return orb.MultiPoint(ps), err
	case "LineString":
		ps, err := positions(c, i, path, 2)
		return orb.LineString(ps), err
	case "MultiLineString":
		var ml orb.MultiLineString
		err := each(c, i, path, "lines", func(e *jval, p string) error {
			ps, err := positions(e, i, p, 2)
			ml = append(ml, ps)
			return err
		})
		return ml, err
	case "Polygon":
		return polygon(c, i, path)
	default: // MultiPolygon
		var mp orb.MultiPolygon
		err := each(c, i, path, "polygons", func(e *jval, p string) error {
			poly, err := polygon(e, i, p)
			mp = append(mp, poly)
			return err
		})
		return mp, err
	}
}

func parseGeometryCollection(v *jval, i int, path string, depth int) (orb.Geometry, error) {
	if depth >= 8 {
		return nil, perr(v, i, path, "GeometryCollections nested deeper than 8 levels")
	}
	gs, ok := v.member("geometries")
	if !ok {
		return nil, perr(v, i, path, "a GeometryCollection needs a \"geometries\" member")
	}
	var col orb.Collection
	err := each(gs, i, joinPath(path, "geometries"), "geometries", func(e *jval, p string) error {
		g, err := parseGeometry(e, i, p, depth+1)
		col = append(col, g)
		return err
	})
	return col, err
}

// each walks an array whose elements must themselves be arrays or objects.
func each(v *jval, i int, path, what string, fn func(e *jval, path string) error) error {
	if v.kind != jArr {
		return perr(v, i, path, "must be an array of %s, not %s", what, v.kind)
	}
	if len(v.nums) > 0 {
		return perr(v, i, path, "found a number where an array of %s belongs: the coordinates are nested too shallowly", what)
	}
	for k := range v.arr {
		if err := fn(&v.arr[k], fmt.Sprintf("%s[%d]", path, k)); err != nil {
			return err
		}
	}
	return nil
}

// position reads [lon, lat] or [lon, lat, z]; z is checked, then dropped.
func position(v *jval, i int, path string) (orb.Point, error) {
	if v.kind != jArr {
		return orb.Point{}, perr(v, i, path, "a position must be an array of numbers, not %s", v.kind)
	}
	if v.arr != nil {
		for k := range v.arr {
			if v.arr[k].kind == jArr {
				return orb.Point{}, perr(v, i, path, "found an array where a number belongs: the coordinates are nested too deeply")
			}
			if v.arr[k].kind != jNum {
				return orb.Point{}, perr(&v.arr[k], i, fmt.Sprintf("%s[%d]", path, k), "every element of a position must be a number, not %s", v.arr[k].kind)
			}
		}
	}
	switch n := len(v.nums); {
	case n < 2:
		return orb.Point{}, perr(v, i, path, "a position needs 2 numbers (longitude, latitude), found %d", n)
	case n > 3:
		return orb.Point{}, perr(v, i, path, "a position has %d numbers; at most 3 (longitude, latitude, height) are accepted", n)
	}
	return orb.Point{v.nums[0], v.nums[1]}, nil
}

func positions(v *jval, i int, path string, min int) ([]orb.Point, error) {
	if v.kind != jArr {
		return nil, perr(v, i, path, "must be an array of positions, not %s", v.kind)
	}
	if len(v.nums) > 0 {
		return nil, perr(v, i, path, "found a number where a position belongs: the coordinates are nested too shallowly")
	}
	if len(v.arr) < min {
		return nil, perr(v, i, path, "a line needs at least %d positions, found %d", min, len(v.arr))
	}
	ps := make([]orb.Point, len(v.arr))
	for k := range v.arr {
		p, err := position(&v.arr[k], i, fmt.Sprintf("%s[%d]", path, k))
		if err != nil {
			return nil, err
		}
		ps[k] = p
	}
	return ps, nil
}

func polygon(v *jval, i int, path string) (orb.Polygon, error) {
	var poly orb.Polygon
	err := each(v, i, path, "rings", func(e *jval, p string) error {
		ps, err := positions(e, i, p, 0)
		if err != nil {
			return err
		}
		if len(ps) < 4 {
			return perr(e, i, p, "a linear ring needs at least 4 positions, found %d", len(ps))
		}
		// Compare all numbers, z included: RFC 7946 wants identical values.
		first, last := e.arr[0].nums, e.arr[len(e.arr)-1].nums
		if !equalNums(first, last) {
			return perr(e, i, p, "a linear ring must end where it starts (first and last positions identical)")
		}
		poly = append(poly, orb.Ring(ps))
		return nil
	})
	return poly, err
}

func equalNums(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
