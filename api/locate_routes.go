package api

import (
	"log/slog"

	"github.com/wangge/wangge/postgis"
)

// Query is what the read API behind the one-map needs: locate,
// drill-down, statistics, features and search. A nil part turns its
// routes off.
type Query struct {
	Locator   LocateIndex  // GET/POST /api/v1/locate
	LocateSQL LocateSQL    // ?engine=postgis on GET /api/v1/locate
	Regions   RegionStore  // /api/v1/regions, /api/v1/buildings/:id
	Stats     StatsStore   // /api/v1/stats
	WarmStats bool         // compute the city's choropleths once in the background at start
	Features  FeatureStore // /api/v1/collections…
	Search    Searcher     // /api/v1/search
}

// routeQuery registers the query routes.
func (s *Server) routeQuery(d *Query) {
	h := &queryHandlers{d: d, log: s.log}
	v1 := s.router.Group("/api/v1")
	if d.Locator != nil {
		v1.GET("/locate", h.locate)
		v1.POST("/locate", h.locateBatch)
	}
	if d.Regions != nil {
		h.regionCache = newAnswerCache[postgis.RegionDetail](s.dataVersion(d.Regions))
		h.districtCache = newAnswerCache[[]postgis.RegionNode](s.dataVersion(d.Regions))
		v1.GET("/regions", h.regions)
		v1.GET("/regions/:code", h.region)
		v1.GET("/buildings/:id", h.building)
	}
	if d.Stats != nil {
		h.statsCache = newStatsCache(d.Stats, s.dataVersion(d.Stats))
		if d.WarmStats {
			go h.statsCache.warm(s.log)
		}
		v1.GET("/stats", h.stats)
	}
	if d.Features != nil {
		v1.GET("/collections", h.collections)
		v1.GET("/collections/:layer", h.collection)
		v1.GET("/collections/:layer/items", h.items)
		v1.GET("/collections/:layer/items/:id", h.item)
		s.routeOGC(h)
	}
	if d.Search != nil {
		v1.GET("/search", h.search)
	}
}

type queryHandlers struct {
	d           *Query
	log         *slog.Logger
	statsCache  *statsCache
	regionCache *answerCache[postgis.RegionDetail]
	// districtCache: the top of every wall's drill-down, per scope.
	districtCache *answerCache[[]postgis.RegionNode]
	located       locatedJSON
	extent        extentCache
}
