package geo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
)

// Error says why GeoJSON or a geometry is invalid and where: the feature
// index, the member path inside it, the line of the file, and for
// topology errors the coordinates near the fault. It is an
// wangge.ErrInvalid, so the API answers 4xx.
type Error struct {
	Feature int        // index in the FeatureCollection; -1 when not inside a feature
	Path    string     // e.g. "geometry.coordinates[0][3]"; "" for the whole document
	Line    int        // 1-based line in the file; 0 when unknown (geometry validated without a file)
	Reason  string     // human-readable, lower case
	Near    *orb.Point // where a ring self-intersects, a hole leaves its shell…

	off int // byte offset while parsing, turned into Line by Parse
}

func (e *Error) Error() string {
	s := ""
	if e.Feature >= 0 {
		s = "feature " + strconv.Itoa(e.Feature) + ": "
	}
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Reason
	if e.Near != nil {
		s += " near " + FormatPoint(*e.Near)
	}
	if e.Line > 0 {
		s += " (line " + strconv.Itoa(e.Line) + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, wangge.ErrInvalid) true.
func (e *Error) Unwrap() error { return wangge.ErrInvalid }

// FormatPoint prints lon,lat to at most 7 decimals (about 1 cm), as
// people paste them into a map search box.
func FormatPoint(p orb.Point) string {
	f := func(x float64) string {
		s := strconv.FormatFloat(x, 'f', 7, 64)
		s = strings.TrimRight(s, "0")
		return strings.TrimSuffix(s, ".")
	}
	return f(p[0]) + "," + f(p[1])
}

func geomErr(format string, args ...any) *Error {
	return &Error{Feature: -1, Reason: fmt.Sprintf(format, args...)}
}

func geomErrAt(p orb.Point, format string, args ...any) *Error {
	e := geomErr(format, args...)
	e.Near = &p
	return e
}

// joinPath joins member paths: "geometry" + "coordinates[0]" →
// "geometry.coordinates[0]"; "coordinates" + "[0]" → "coordinates[0]".
func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case b[0] == '[':
		return a + b
	}
	return a + "." + b
}
