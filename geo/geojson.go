package geo

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// Feature is one GeoJSON Feature. A bare geometry document is returned as
// a Feature without properties.
type Feature struct {
	ID         any            // string, json.Number or nil
	Geometry   orb.Geometry   // nil when "geometry" is null
	Properties map[string]any // nil when "properties" is null; numbers are json.Number
	Line       int            // line of the feature in the file
}

// Collection is a parsed GeoJSON document.
type Collection struct {
	Type     string // "FeatureCollection", "Feature" or the type of a bare geometry
	Features []Feature
}

// Parse reads a GeoJSON document strictly by RFC 7946: every structural
// MUST is enforced (member types, required members, nesting and length of
// coordinates, closed rings, bbox shape, no GeoJSON members that change
// the meaning of another object, no CRS other than WGS-84). Coordinate
// ranges and topology are left to Validate, because the geojsonhint suite
// counts out-of-range polygons as well-formed. Parse never panics; errors
// are *Error.
//
// Decisions where RFC 7946 only says SHOULD: positions with more than three
// numbers are rejected (nobody stores M or other extras here); rings that
// do not follow the right-hand rule are accepted ("parsers SHOULD NOT
// reject" them, §3.1.6) and fixed by Normalize; nested or single-member
// GeometryCollections are accepted; a "crs" member naming WGS-84 (CRS84,
// EPSG:4326) or null is tolerated for old GDAL output, any other is
// rejected.
func Parse(b []byte) (*Collection, error) {
	root, err := parseJSON(b)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, &Error{Feature: -1, Reason: "not valid JSON: " + se.msg, Line: lineOf(b, se.off)}
		}
		return nil, err
	}
	c, err := parseRoot(&root)
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && ge.Line == 0 {
			ge.Line = lineOf(b, ge.off)
		}
		return nil, err
	}
	// Feature offsets to lines in one pass: features come in file order.
	line, at := 1, 0
	for k := range c.Features {
		f := &c.Features[k]
		for ; at < f.Line && at < len(b); at++ {
			if b[at] == '\n' {
				line++
			}
		}
		f.Line = line
	}
	return c, nil
}

func parseRoot(v *jval) (*Collection, error) {
	if v.kind != jObj {
		return nil, perr(v, -1, "", "the root of a GeoJSON document must be an object, not %s", v.kind)
	}
	typ, err := typeOf(v, -1, "")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "FeatureCollection":
		return parseCollection(v)
	case "Feature":
		f, err := parseFeature(v, -1, "")
		if err != nil {
			return nil, err
		}
		return &Collection{Type: typ, Features: []Feature{f}}, nil
	}
	g, err := parseGeometry(v, -1, "", 0)
	if err != nil {
		return nil, err
	}
	return &Collection{Type: typ, Features: []Feature{{Geometry: g}}}, nil
}

func parseCollection(v *jval) (*Collection, error) {
	if err := common(v, -1, "", "geometry", "properties", "coordinates", "geometries"); err != nil {
		return nil, err
	}
	fs, ok := v.member("features")
	if !ok {
		return nil, perr(v, -1, "", "a FeatureCollection needs a \"features\" member")
	}
	if fs.kind != jArr {
		return nil, perr(fs, -1, "features", "must be an array, not %s", fs.kind)
	}
	c := &Collection{Type: "FeatureCollection"}
	if len(fs.nums) > 0 {
		return nil, perr(fs, 0, "", "every feature must be an object, not a number")
	}
	c.Features = make([]Feature, 0, len(fs.arr))
	for i := range fs.arr {
		f, err := parseFeature(&fs.arr[i], i, "")
		if err != nil {
			return nil, err
		}
		c.Features = append(c.Features, f)
	}
	return c, nil
}

func parseFeature(v *jval, i int, path string) (Feature, error) {
	if v.kind != jObj {
		return Feature{}, perr(v, i, path, "every feature must be an object, not %s", v.kind)
	}
	typ, err := typeOf(v, i, path)
	if err != nil {
		return Feature{}, err
	}
	if typ != "Feature" {
		return Feature{}, perr(v, i, joinPath(path, "type"), "must be \"Feature\", not %q", typ)
	}
	if err := common(v, i, path, "features", "coordinates", "geometries"); err != nil {
		return Feature{}, err
	}
	f := Feature{Line: v.off} // a byte offset until Parse turns it into a line
	if id, ok := v.member("id"); ok {
		switch id.kind {
		case jStr:
			f.ID = id.str
		case jNum:
			f.ID = json.Number(id.str)
		default:
			return Feature{}, perr(id, i, joinPath(path, "id"), "must be a string or a number, not %s", id.kind)
		}
	}
	p, ok := v.member("properties")
	switch {
	case !ok:
		return Feature{}, perr(v, i, path, "a Feature needs a \"properties\" member (null when it has none)")
	case p.kind == jObj:
		f.Properties = toMap(p)
	case p.kind != jNull:
		return Feature{}, perr(p, i, joinPath(path, "properties"), "must be an object or null, not %s", p.kind)
	}
	g, ok := v.member("geometry")
	switch {
	case !ok:
		return Feature{}, perr(v, i, path, "a Feature needs a \"geometry\" member (null when it has none)")
	case g.kind == jNull:
	default:
		if f.Geometry, err = parseGeometry(g, i, joinPath(path, "geometry"), 0); err != nil {
			return Feature{}, err
		}
	}
	return f, nil
}

// common checks what every GeoJSON object may carry (bbox, crs) and the
// members RFC 7946 §7.1 forbids on it.
func common(v *jval, i int, path string, forbidden ...string) error {
	for _, name := range forbidden {
		if _, ok := v.member(name); ok {
			return perr(v, i, path, "a %s must not have a %q member (RFC 7946 §7.1)", objName(v), name)
		}
	}
	if bb, ok := v.member("bbox"); ok {
		if err := checkBBox(bb, i, joinPath(path, "bbox")); err != nil {
			return err
		}
	}
	if crs, ok := v.member("crs"); ok {
		if err := checkCRS(crs, i, joinPath(path, "crs")); err != nil {
			return err
		}
	}
	return nil
}

func objName(v *jval) string {
	if t, ok := v.member("type"); ok && t.kind == jStr {
		return t.str
	}
	return "GeoJSON object"
}

func typeOf(v *jval, i int, path string) (string, error) {
	t, ok := v.member("type")
	if !ok {
		return "", perr(v, i, path, "missing \"type\" member")
	}
	if t.kind != jStr {
		return "", perr(t, i, joinPath(path, "type"), "must be a string, not %s", t.kind)
	}
	switch t.str {
	case "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
		"Polygon", "MultiPolygon", "GeometryCollection":
		return t.str, nil
	}
	return "", perr(t, i, joinPath(path, "type"), "unknown type %q (type names are case-sensitive)", t.str)
}

func checkBBox(bb *jval, i int, path string) error {
	if bb.kind != jArr {
		return perr(bb, i, path, "must be an array of numbers, not %s", bb.kind)
	}
	if bb.arr != nil {
		return perr(bb, i, path, "every element must be a number")
	}
	if n := len(bb.nums); n != 4 && n != 6 {
		return perr(bb, i, path, "must have 4 numbers (2D) or 6 (3D), not %d", n)
	}
	return nil
}

// wgs84 are the CRS names that mean what RFC 7946 assumes anyway.
var wgs84 = map[string]bool{
	"urn:ogc:def:crs:OGC:1.3:CRS84": true, "urn:ogc:def:crs:OGC::CRS84": true, "CRS84": true,
	"EPSG:4326": true, "urn:ogc:def:crs:EPSG::4326": true, "urn:ogc:def:crs:EPSG:6.6:4326": true,
}

func checkCRS(crs *jval, i int, path string) error {
	if crs.kind == jNull {
		return nil
	}
	name := ""
	if crs.kind == jObj {
		if p, ok := crs.member("properties"); ok && p.kind == jObj {
			if n, ok := p.member("name"); ok && n.kind == jStr {
				name = n.str
			}
		}
	}
	if wgs84[name] {
		return nil
	}
	if name == "" {
		name = "an unnamed CRS"
	}
	return perr(crs, i, path, "RFC 7946 removed \"crs\": coordinates must be WGS-84 longitude, latitude, "+
		"but this file declares %s; reproject it first (ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)", name)
}

// toMap turns a properties object into Go values; numbers keep their text
// as json.Number so that big integer ids stay exact.
func toMap(v *jval) map[string]any {
	m := make(map[string]any, len(v.obj))
	for _, mb := range v.obj {
		m[mb.name] = toAny(&mb.val)
	}
	return m
}

func toAny(v *jval) any {
	switch v.kind {
	case jBool:
		return v.b
	case jNum:
		return json.Number(v.str)
	case jStr:
		return v.str
	case jObj:
		return toMap(v)
	case jArr:
		out := make([]any, 0, len(v.arr)+len(v.nums))
		for _, n := range v.nums {
			out = append(out, json.Number(fmt.Sprint(n)))
		}
		for i := range v.arr {
			out = append(out, toAny(&v.arr[i]))
		}
		return out
	}
	return nil
}

// perr is a parse error at v.
func perr(v *jval, i int, path, format string, args ...any) *Error {
	return &Error{Feature: i, Path: path, Reason: fmt.Sprintf(format, args...), off: v.off}
}
