package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// OGC API – Features Core, as a client such as GDAL's OAPIF driver walks
// it: the landing page, the conformance classes and the API definition
// (OpenAPI 3.0), beside the collections of features.go.

// conformance are the classes we implement.
var conformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

const openAPIType = "application/vnd.oai.openapi+json;version=3.0"

func (s *Server) routeOGC(h *queryHandlers) {
	v1 := s.router.Group("/api/v1")
	v1.GET("", h.landing)
	v1.GET("/conformance", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"conformsTo": conformance}) })
	v1.GET("/api", func(c *gin.Context) {
		c.Header("Content-Type", openAPIType)
		c.JSON(http.StatusOK, openAPI(baseURL(c)))
	})
}

// landing: GET /api/v1 — what this service offers and where.
func (h *queryHandlers) landing(c *gin.Context) {
	base := baseURL(c) + "/api/v1"
	c.JSON(http.StatusOK, gin.H{"title": "wangge 网格", "description": "Grid-governance one-map layers as OGC API – Features",
		"links": []link{{Href: base, Rel: "self", Type: "application/json", Title: "this document"},
			{Href: base + "/api", Rel: "service-desc", Type: openAPIType, Title: "the API definition"},
			{Href: base + "/conformance", Rel: "conformance", Type: "application/json", Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: "application/json", Title: "the collections"}}})
}

// extentCache keeps the city's extent for the collections' metadata.
type extentCache struct {
	mu   sync.Mutex
	bbox []float64
	at   time.Time
}

type extenter interface {
	Extent(ctx context.Context) (minLon, minLat, maxLon, maxLat float64, ok bool, err error)
}

// get is the districts' extent, re-read at most once a minute: every layer
// lies inside the city.
func (e *extentCache) get(ctx context.Context, src any) []float64 {
	x, ok := src.(extenter)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bbox != nil && time.Since(e.at) < time.Minute {
		return e.bbox
	}
	x0, y0, x1, y1, found, err := x.Extent(ctx)
	if err != nil || !found {
		return e.bbox
	}
	e.bbox, e.at = []float64{x0, y0, x1, y1}, time.Now()
	return e.bbox
}

// openAPI is a minimal OpenAPI 3.0 definition of the features endpoints.
func openAPI(base string) gin.H {
	param := func(name, in, desc string, schema gin.H, required bool) gin.H {
		return gin.H{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
	}
	ok := func(desc, ctype string) gin.H {
		return gin.H{"200": gin.H{"description": desc, "content": gin.H{ctype: gin.H{"schema": gin.H{"type": "object"}}}},
			"400": gin.H{"description": "bad request, with the reason"}, "401": gin.H{"description": "no credential"},
			"404": gin.H{"description": "not found, or outside the caller's jurisdiction"}}
	}
	collectionID := param("collectionId", "path", "districts, streets, communities, grids, parcels, buildings, objects, posts or events",
		gin.H{"type": "string"}, true)
	return gin.H{
		"openapi": "3.0.3",
		"info":    gin.H{"title": "wangge 网格 — OGC API – Features", "version": "1.0"},
		"servers": []gin.H{{"url": base + "/api/v1"}},
		"components": gin.H{"securitySchemes": gin.H{
			"bearer": gin.H{"type": "http", "scheme": "bearer"},
			"cookie": gin.H{"type": "apiKey", "in": "cookie", "name": sessionCookie}}},
		"security": []gin.H{{"bearer": []string{}}, {"cookie": []string{}}},
		"paths": gin.H{
			"/":            gin.H{"get": gin.H{"operationId": "landing", "summary": "landing page", "responses": ok("links", "application/json")}},
			"/conformance": gin.H{"get": gin.H{"operationId": "conformance", "summary": "conformance classes", "responses": ok("classes", "application/json")}},
			"/collections": gin.H{"get": gin.H{"operationId": "collections", "summary": "the collections", "responses": ok("collections", "application/json")}},
			"/collections/{collectionId}": gin.H{"get": gin.H{"operationId": "collection", "summary": "one collection",
				"parameters": []gin.H{collectionID}, "responses": ok("collection", "application/json")}},
			"/collections/{collectionId}/items": gin.H{"get": gin.H{"operationId": "items",
				"summary": "a page of features inside the caller's jurisdiction, in id order",
				"parameters": []gin.H{collectionID,
					param("limit", "query", "page size", gin.H{"type": "integer", "minimum": 1, "maximum": maxFeatureLimit, "default": defaultFeatureLimit}, false),
					param("bbox", "query", "minLon,minLat,maxLon,maxLat (WGS-84)", gin.H{"type": "array", "minItems": 4, "maxItems": 4, "items": gin.H{"type": "number"}}, false),
					param("datetime", "query", "an RFC 3339 instant or start/end with .. open", gin.H{"type": "string"}, false),
					param("cursor", "query", "the position of a next link", gin.H{"type": "string"}, false),
					param("offset", "query", "items to skip, up to 10,000 (prefer next links)", gin.H{"type": "integer", "minimum": 0, "maximum": 10000}, false)},
				"responses": ok("features", "application/geo+json")}},
			"/collections/{collectionId}/items/{featureId}": gin.H{"get": gin.H{"operationId": "item", "summary": "one feature",
				"parameters": []gin.H{collectionID, param("featureId", "path", "an id or a code", gin.H{"type": "string"}, true)},
				"responses":  ok("feature", "application/geo+json")}},
		},
	}
}
