package geo

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/uber/h3-go/v4"
)

// EarthRadiusM is the mean radius PostGIS uses for geography distances on
// the sphere (ST_Distance(a, b, false), the geography <-> operator), so the
// index and the SQL baseline rank by the very same metric.
const EarthRadiusM = 6371008.7714

const degToRad = math.Pi / 180

// DistanceM is the great-circle (haversine) distance in metres between two
// WGS-84 points given in degrees.
func DistanceM(lon1, lat1, lon2, lat2 float64) float64 {
	return EarthRadiusM * angle(lat1*degToRad, lon1*degToRad, lat2*degToRad, lon2*degToRad)
}

// angle is the central angle in radians between two points in radians,
// by the haversine formula (well conditioned at small distances).
func angle(lat1, lng1, lat2, lng2 float64) float64 {
	sdLat := math.Sin((lat2 - lat1) / 2)
	sdLng := math.Sin((lng2 - lng1) / 2)
	h := sdLat*sdLat + math.Cos(lat1)*math.Cos(lat2)*sdLng*sdLng
	if h > 1 {
		h = 1
	}
	return 2 * math.Asin(math.Sqrt(h))
}

// cellDisc is a cap that covers an H3 cell: its centre and the largest
// centre-to-vertex angle. H3 cell edges are great-circle arcs (straight
// lines of the gnomonic face projection), so a cell is a convex spherical
// polygon (or, across an icosahedron edge, two of them, split at vertices
// listed in its boundary) and lies inside the cap through its vertices.
type cellDisc struct {
	lat, lng float64 // radians
	radius   float64 // radians, padded for rounding
}

// discPad pads every cap against floating-point error in H3's boundary
// and in our trigonometry: 1e-9 rad ≈ 6 mm, far above double rounding
// (1e-15) and far below any distance we rank by.
const discPad = 1e-9

// discCache memoises cellDisc per cell: a ring walk touches the same cells
// query after query, and each H3 call crosses cgo. Sharded maps under
// read-write locks (cheaper than sync.Map's boxed keys); it stops growing
// at maxDiscs entries (≈ 50 MB), beyond which discs are computed each time.
type discCache struct {
	shards [64]struct {
		mu sync.RWMutex
		m  map[h3.Cell]cellDisc
	}
	n atomic.Int64
}

const maxDiscs = 1 << 20

var discs discCache

func (dc *discCache) get(c h3.Cell) cellDisc {
	sh := &dc.shards[(uint64(c)>>3^uint64(c)>>17)%64]
	sh.mu.RLock()
	d, ok := sh.m[c]
	sh.mu.RUnlock()
	if ok {
		return d
	}
	d = computeDisc(c)
	if dc.n.Load() < maxDiscs {
		sh.mu.Lock()
		if sh.m == nil {
			sh.m = make(map[h3.Cell]cellDisc)
		}
		if _, ok := sh.m[c]; !ok {
			sh.m[c] = d
			dc.n.Add(1)
		}
		sh.mu.Unlock()
	}
	return d
}

func computeDisc(c h3.Cell) cellDisc {
	ll := h3.CellToLatLng(c)
	d := cellDisc{lat: ll.Lat * degToRad, lng: ll.Lng * degToRad}
	for _, v := range h3.CellToBoundary(c) {
		if a := angle(d.lat, d.lng, v.Lat*degToRad, v.Lng*degToRad); a > d.radius {
			d.radius = a
		}
	}
	d.radius += discPad
	return d
}

// lowerBoundM is a distance in metres that no point of cell c is closer
// than to the point (lat, lng) in radians: by the triangle inequality
// |xy| ≥ |x centre| − |centre y| ≥ |x centre| − radius.
func lowerBoundM(lat, lng float64, c h3.Cell) float64 {
	d := discs.get(c)
	return EarthRadiusM * (angle(lat, lng, d.lat, d.lng) - d.radius)
}
