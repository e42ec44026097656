package data

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

const kmPerDegree = 111.195

// kernel is a Gaussian bump of households around a centre.
type kernel struct {
	C     orb.Point
	Sigma float64 // km
	HH    float64 // households it carries (before clipping to the district)
}

// field is a district's expected household density: a uniform base plus
// kernels around the seat of government, the main city and town seats.
type field struct {
	base    float64 // households per km²
	kernels []kernel
	cosLat  float64
}

// density is households per km² at p.
func (f *field) density(p orb.Point) float64 {
	v := f.base
	for _, k := range f.kernels {
		dx := (p[0] - k.C[0]) * kmPerDegree * f.cosLat
		dy := (p[1] - k.C[1]) * kmPerDegree
		r2 := dx*dx + dy*dy
		s2 := k.Sigma * k.Sigma
		if r2 > 25*s2 {
			continue
		}
		v += k.HH * math.Exp(-r2/(2*s2)) / (2 * math.Pi * s2)
	}
	return v
}

// areaKm2 is the area of b in km² (equirectangular, fine at city scale).
func (f *field) areaKm2(b orb.Bound) float64 {
	return (b.Max[0] - b.Min[0]) * kmPerDegree * f.cosLat * (b.Max[1] - b.Min[1]) * kmPerDegree
}

// households estimates the households of b from five samples.
func (f *field) households(b orb.Bound) float64 {
	c := b.Center()
	qx, qy := (b.Max[0]-b.Min[0])/4, (b.Max[1]-b.Min[1])/4
	s := 2*f.density(c) + f.density(orb.Point{c[0] - qx, c[1] - qy}) + f.density(orb.Point{c[0] + qx, c[1] - qy}) +
		f.density(orb.Point{c[0] - qx, c[1] + qy}) + f.density(orb.Point{c[0] + qx, c[1] + qy})
	return s / 6 * f.areaKm2(b)
}

// newField lays out a district's density. Shares of households: the core
// districts concentrate around their seat and the main city, Yuzhong is
// dense throughout, the counties have a seat, town seats and villages.
func newField(d *district, hh, areaKm2 float64, rng *rand.Rand) *field {
	bb := d.Geom.Bound()
	f := &field{cosLat: math.Cos(bb.Center()[1] * math.Pi / 180)}
	var baseShare, seatShare, cityShare, townShare, seatSigma, townSigma float64
	switch {
	case d.Code == "500103":
		baseShare, seatShare, seatSigma = 0.55, 0.45, 1.6
	case coreDistricts[d.Code]:
		baseShare, seatShare, cityShare, townShare = 0.05, 0.45, 0.3, 0.2
		seatSigma, townSigma = math.Max(2, math.Sqrt(areaKm2)/6), 1.2
	default:
		baseShare, seatShare, townShare = 0.32, 0.4, 0.28
		seatSigma, townSigma = 2.2, 0.6
	}
	f.base = baseShare * hh / areaKm2
	f.kernels = append(f.kernels, kernel{d.Center, seatSigma, seatShare * hh})
	if cityShare > 0 {
		f.kernels = append(f.kernels, kernel{orb.Point(jiefangbei), 6, cityShare * hh * 4})
	}
	if townShare > 0 && len(d.Streets) > 0 {
		per := townShare * hh / float64(len(d.Streets))
		for range d.Streets {
			f.kernels = append(f.kernels, kernel{randomPointIn(d.Geom, bb, rng), townSigma, per})
		}
	}
	return f
}

// randomPointIn draws a point inside mp by rejection from its bound.
func randomPointIn(mp orb.MultiPolygon, b orb.Bound, rng *rand.Rand) orb.Point {
	for range 10_000 {
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		if planar.MultiPolygonContains(mp, p) {
			return p
		}
	}
	return b.Center()
}

// polygonAreaKm2 is the area of mp in km².
func polygonAreaKm2(mp orb.MultiPolygon) float64 {
	c := mp.Bound().Center()
	return math.Abs(planar.Area(mp)) * kmPerDegree * kmPerDegree * math.Cos(c[1]*math.Pi/180)
}
