package geo

import (
	"math"

	"github.com/wangge/wangge"
)

// CRS is a coordinate reference system locations arrive in. Chinese phone
// maps publish GCJ-02 (AutoNavi, Tencent) or BD-09 (Baidu); everything is
// stored in WGS-84.
type CRS string

const (
	WGS84 CRS = "wgs84"
	GCJ02 CRS = "gcj02"
	BD09  CRS = "bd09"
)

// ParseCRS accepts wgs84, gcj02 and bd09 ("" means wgs84).
func ParseCRS(s string) (CRS, error) {
	switch CRS(s) {
	case "", WGS84:
		return WGS84, nil
	case GCJ02, BD09:
		return CRS(s), nil
	}
	return "", wangge.Invalid("crs", "unknown crs %q (want wgs84, gcj02 or bd09)", s)
}

// ToWGS84 converts a point given in crs to WGS-84.
func ToWGS84(crs CRS, lon, lat float64) (float64, float64) {
	switch crs {
	case GCJ02:
		return GCJ02ToWGS84(lon, lat)
	case BD09:
		return GCJ02ToWGS84(BD09ToGCJ02(lon, lat))
	}
	return lon, lat
}

// FromWGS84 converts a WGS-84 point to crs.
func FromWGS84(crs CRS, lon, lat float64) (float64, float64) {
	switch crs {
	case GCJ02:
		return WGS84ToGCJ02(lon, lat)
	case BD09:
		return GCJ02ToBD09(WGS84ToGCJ02(lon, lat))
	}
	return lon, lat
}

// The published GCJ-02 constants: Krasovsky 1940 semi-major axis and
// eccentricity squared.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
	bdXPi = math.Pi * 3000.0 / 180.0
)

// OutOfChina is the rectangle outside of which GCJ-02 equals WGS-84, as
// every public implementation of the formulas defines it.
func OutOfChina(lon, lat float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// WGS84ToGCJ02 applies the standard GCJ-02 offset.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	dLat := gcjLat(lon-105.0, lat-35.0)
	dLon := gcjLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lon + dLon, lat + dLat
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration (the offset
// varies by less than 1e-5 per degree, so each step gains ~5 digits);
// it stops below 1e-10° (≈ 0.01 mm).
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	return invert(WGS84ToGCJ02, lon, lat)
}

// GCJ02ToBD09 applies Baidu's published BD-09 transform.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// BD09ToGCJ02 inverts GCJ02ToBD09: the usual closed-form inverse (off by
// up to a metre) refined by the same fixed-point iteration.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	gLon, gLat := z*math.Cos(theta), z*math.Sin(theta)
	return refine(GCJ02ToBD09, lon, lat, gLon, gLat)
}

func invert(f func(float64, float64) (float64, float64), lon, lat float64) (float64, float64) {
	return refine(f, lon, lat, lon, lat)
}

// refine finds (x, y) with f(x, y) = (lon, lat), starting from a guess.
func refine(f func(float64, float64) (float64, float64), lon, lat, x, y float64) (float64, float64) {
	for i := 0; i < 30; i++ {
		fx, fy := f(x, y)
		dx, dy := lon-fx, lat-fy
		x, y = x+dx, y+dy
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
	}
	return x, y
}

func gcjLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func gcjLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}
