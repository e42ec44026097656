package api

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// LocateIndex is the in-memory point → grid engine (postgis.Locator). A
// point whose grid lies outside the scope is answered as one outside
// every grid.
type LocateIndex interface {
	LocateIn(scope wangge.Scope, lon, lat float64) (postgis.Located, bool)
	LocateBatchIn(scope wangge.Scope, pts []orb.Point) []*postgis.Located // nil: outside every grid (of the scope)
}

// LocateSQL is the PostGIS baseline, served with ?engine=postgis.
type LocateSQL interface {
	LocateSQL(ctx context.Context, scope wangge.Scope, lon, lat float64) (postgis.Located, error)
}

// MaxLocateBatch is the most points one POST /api/v1/locate may carry.
const MaxLocateBatch = 10000

// locateJSON is one located point.
type locateJSON struct {
	Lon    float64 `json:"lon"` // WGS-84, after conversion from crs
	Lat    float64 `json:"lat"`
	CRS    geo.CRS `json:"crs"` // what the input was in
	Engine string  `json:"engine"`
	postgis.Located
}

// locate: GET /api/v1/locate?lon=&lat=[&crs=wgs84|gcj02|bd09][&engine=index|postgis]
func (h *queryHandlers) locate(c *gin.Context) {
	v := c.Request.URL.Query()
	crs, err := geo.ParseCRS(v.Get("crs"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	engine := v.Get("engine")
	switch engine {
	case "":
		engine = "index"
	case "index":
	case "postgis":
		if h.d.LocateSQL == nil {
			fail(c, h.log, wangge.Invalid("engine", "the postgis engine is not available on this server"))
			return
		}
	default:
		fail(c, h.log, wangge.Invalid("engine", "unknown engine %q (want index or postgis)", engine))
		return
	}
	lon, err := coord(v, "lon", 180)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	lat, err := coord(v, "lat", 90)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	out := locateJSON{CRS: crs, Engine: engine}
	out.Lon, out.Lat = geo.ToWGS84(crs, lon, lat)
	if engine == "postgis" {
		out.Located, err = h.d.LocateSQL.LocateSQL(c.Request.Context(), scope(c), out.Lon, out.Lat)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		h.writeLocated(c, out, false)
		return
	}
	var ok bool
	if out.Located, ok = h.d.Locator.LocateIn(scope(c), out.Lon, out.Lat); !ok {
		fail(c, h.log, postgis.OutsideCity(out.Lon, out.Lat))
		return
	}
	h.writeLocated(c, out, true)
}

// batchBody is POST /api/v1/locate: points as [lon, lat] pairs in crs.
type batchBody struct {
	CRS    string      `json:"crs"`
	Points [][]float64 `json:"points"`
}

// batchJSON answers a batch compactly: grids[i] is point i's grid code
// (null outside the city) and regions names each grid found once.
type batchJSON struct {
	CRS     geo.CRS                    `json:"crs"`
	Count   int                        `json:"count"`
	Found   int                        `json:"found"`
	Grids   []*string                  `json:"grids"`
	Regions map[string]postgis.Located `json:"regions"`
}

// locateBatch: POST /api/v1/locate {"crs": "gcj02", "points": [[lon, lat], ...]}
func (h *queryHandlers) locateBatch(c *gin.Context) {
	var b batchBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	crs, pts, err := b.check()
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.writeBatch(c, string(crs), h.d.Locator.LocateBatchIn(scope(c), pts))
}

// check validates the batch and converts it to WGS-84.
func (b batchBody) check() (geo.CRS, []orb.Point, error) {
	crs, err := geo.ParseCRS(b.CRS)
	if err != nil {
		return crs, nil, err
	}
	switch {
	case b.Points == nil:
		return crs, nil, wangge.Invalid("points", "points is required: an array of [lon, lat] pairs")
	case len(b.Points) > MaxLocateBatch:
		return crs, nil, wangge.Invalid("points", "at most %d points per call, got %d", MaxLocateBatch, len(b.Points))
	}
	pts := make([]orb.Point, len(b.Points))
	for i, p := range b.Points {
		if len(p) != 2 {
			return crs, nil, wangge.Invalid("points", "point %d: want [lon, lat], got %d numbers", i, len(p))
		}
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			return crs, nil, wangge.Invalid("points", "point %d: [%v, %v] is outside lon [-180, 180], lat [-90, 90]", i, p[0], p[1])
		}
		x, y := geo.ToWGS84(crs, p[0], p[1])
		if x < -180 || x > 180 || y < -90 || y > 90 { // BD-09's shift, at the antimeridian
			return crs, nil, wangge.Invalid("points", "point %d: [%v, %v] in %s is outside WGS-84's range", i, p[0], p[1], crs)
		}
		pts[i] = orb.Point{x, y}
	}
	return crs, pts, nil
}
