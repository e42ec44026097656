package tiles

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/wangge/wangge"
)

// MaxZoom is the deepest zoom we serve.
const MaxZoom = 22

// TileID addresses a tile, always in z/x/y order.
type TileID struct{ Z, X, Y uint32 }

func (t TileID) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// ParseTileID validates the three path parts of /tiles/{source}/{z}/{x}/{y}.mvt.
// yext is "{y}.mvt": any other extension is refused, so a request for
// .png never reaches the database.
func ParseTileID(z, x, yext string) (TileID, error) {
	ys, ok := strings.CutSuffix(yext, ".mvt")
	if !ok {
		return TileID{}, wangge.Invalid("y", "%q: tiles are served as {y}.mvt only", yext)
	}
	zi, err := parseUint("z", z, MaxZoom)
	if err != nil {
		return TileID{}, err
	}
	limit := uint64(1)<<zi - 1
	xi, err := parseUint("x", x, limit)
	if err != nil {
		return TileID{}, err
	}
	yi, err := parseUint("y", ys, limit)
	if err != nil {
		return TileID{}, err
	}
	return TileID{Z: uint32(zi), X: uint32(xi), Y: uint32(yi)}, nil
}

func parseUint(field, s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 8 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, wangge.Invalid(field, "%q is not a non-negative integer", s)
	}
	v, _ := strconv.ParseUint(s, 10, 64)
	if v > max {
		return 0, wangge.Invalid(field, "%d is out of range 0..%d", v, max)
	}
	return v, nil
}

// Bound is a lon/lat box.
type Bound struct{ MinLon, MinLat, MaxLon, MaxLat float64 }

// Bound returns the tile's lon/lat box (Web Mercator tiling).
func (t TileID) Bound() Bound {
	n := math.Exp2(float64(t.Z))
	lon := func(x float64) float64 { return x/n*360 - 180 }
	lat := func(y float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*y/n))) * 180 / math.Pi }
	return Bound{MinLon: lon(float64(t.X)), MaxLon: lon(float64(t.X + 1)), MinLat: lat(float64(t.Y + 1)), MaxLat: lat(float64(t.Y))}
}

// tileXY returns the fractional tile coordinates of a point at zoom z.
func tileXY(lon, lat float64, z uint32) (float64, float64) {
	n := math.Exp2(float64(z))
	lat = math.Max(math.Min(lat, 85.0511287798), -85.0511287798)
	x := (lon + 180) / 360 * n
	r := lat * math.Pi / 180
	y := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	return x, y
}

// Range is an inclusive block of tiles at one zoom.
type Range struct{ Z, X0, Y0, X1, Y1 uint32 }

// Contains tells whether t lies in the block.
func (r Range) Contains(t TileID) bool {
	return t.Z == r.Z && t.X >= r.X0 && t.X <= r.X1 && t.Y >= r.Y0 && t.Y <= r.Y1
}

// Covering is the block of zoom-z tiles the box touches, widened by the
// render buffer (a feature near a tile edge is drawn in its neighbour's
// buffer too).
func Covering(b Bound, z uint32, bufferFrac float64) Range {
	x0, y0 := tileXY(b.MinLon, b.MaxLat, z)
	x1, y1 := tileXY(b.MaxLon, b.MinLat, z)
	max := math.Exp2(float64(z)) - 1
	clamp := func(v float64) uint32 { return uint32(math.Max(0, math.Min(max, math.Floor(v)))) }
	return Range{Z: z, X0: clamp(x0 - bufferFrac), Y0: clamp(y0 - bufferFrac), X1: clamp(x1 + bufferFrac), Y1: clamp(y1 + bufferFrac)}
}
