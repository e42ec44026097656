package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/tiles"
)

// tileRoutes serves /tiles (index), /tiles/{source}.json (TileJSON 3.0)
// and /tiles/{source}/{z}/{x}/{y}.mvt.
func (s *Server) tileRoutes(r gin.IRouter) {
	r.GET("/tiles", s.tileIndex)
	r.GET("/tiles/:source", s.tileJSON)
	r.GET("/tiles/:source/:z/:x/:y", s.tile)
}

func (s *Server) tile(c *gin.Context) {
	src, ok := s.tiles.Catalogue().Source(c.Param("source"))
	if !ok {
		fail(c, s.log, fmt.Errorf("%w: unknown tile source %q (see /tiles)", wangge.ErrNotFound, c.Param("source")))
		return
	}
	t, err := tiles.ParseTileID(c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		fail(c, s.log, err)
		return
	}
	f, err := tiles.ParseFilter(c.Request.URL.RawQuery, src.Filterable)
	if err != nil {
		fail(c, s.log, err)
		return
	}
	if src.Filterable {
		// The events source holds the caller's jurisdiction only, cached
		// per scope (the scope is part of the cache key); the base map's
		// sources carry no scope and are shared.
		f.Scope = scope(c)
	}
	tile, hit, err := s.tiles.Get(c.Request.Context(), src, t, f)
	logAttrs(c, slog.String("source", src.Name), slog.Uint64("z", uint64(t.Z)), slog.Uint64("x", uint64(t.X)), slog.Uint64("y", uint64(t.Y)), slog.Bool("cache_hit", hit))
	if err != nil {
		fail(c, s.log, err)
		return
	}
	// Canonical keys assigned directly: this runs for every cached tile.
	h := c.Writer.Header()
	h["Etag"] = []string{tile.ETag}
	h["Vary"] = varyEncoding
	h["Access-Control-Allow-Origin"] = anyOrigin
	// A URL carrying the current data version never changes; anything else
	// must be revalidated (cheap: 304 by ETag).
	switch v, ok := c.GetQuery("v"); {
	case ok && v == strconv.FormatInt(s.tiles.Version(src), 10):
		h["Cache-Control"] = immutable
	case src.Filterable:
		h["Cache-Control"] = noCachePrivate
	default:
		h["Cache-Control"] = noCache
	}
	if match := c.GetHeader("If-None-Match"); match != "" && etagMatches(match, tile.ETag) {
		c.Status(http.StatusNotModified)
		return
	}
	if tile.Empty {
		c.Status(http.StatusNoContent)
		return
	}
	body := tile.Gzip
	if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		h["Content-Encoding"] = gzipEncoding
	} else if body, err = tiles.Gunzip(tile.Gzip); err != nil {
		fail(c, s.log, err)
		return
	}
	sendBytes(c, http.StatusOK, mvtType, body)
}

var (
	varyEncoding = []string{"Accept-Encoding"}
	anyOrigin    = []string{"*"}
	immutable    = []string{"private, max-age=86400, immutable"} // private: tiles answer only authenticated callers; no shared cache may keep them
	noCache      = []string{"no-cache"}
	// noCachePrivate: an events tile is per jurisdiction; no shared cache
	// may answer another caller with it.
	noCachePrivate = []string{"private, no-cache"}
	gzipEncoding   = []string{"gzip"}
	mvtType        = []string{"application/vnd.mapbox-vector-tile"}
)

func etagMatches(header, etag string) bool {
	for _, m := range strings.Split(header, ",") {
		m = strings.TrimPrefix(strings.TrimSpace(m), "W/")
		if m == etag || m == "*" {
			return true
		}
	}
	return false
}

func baseURL(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

type vectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     uint32            `json:"minzoom"`
	MaxZoom     uint32            `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

type tileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      uint32        `json:"minzoom"`
	MaxZoom      uint32        `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []vectorLayer `json:"vector_layers"`
}

func (s *Server) tileJSON(c *gin.Context) {
	name, ok := strings.CutSuffix(c.Param("source"), ".json")
	src, found := s.tiles.Catalogue().Source(name)
	if !ok || !found {
		fail(c, s.log, fmt.Errorf("%w: unknown tile source %q (see /tiles)", wangge.ErrNotFound, c.Param("source")))
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, s.describe(c, src))
}

func (s *Server) describe(c *gin.Context, src tiles.Source) tileJSON {
	v := s.tiles.Version(src)
	b := s.tiles.Bounds()
	tj := tileJSON{
		TileJSON: "3.0.0", Name: src.Name, Description: src.Description, Version: "1.0.0",
		Attribution: "wangge demo data; district outlines © DataV.GeoAtlas (demonstration only)", Scheme: "xyz",
		Tiles:   []string{fmt.Sprintf("%s/tiles/%s/{z}/{x}/{y}.mvt?v=%d", baseURL(c), src.Name, v)},
		MinZoom: src.MinZoom(), MaxZoom: src.MaxZoom(),
		Bounds: [4]float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat},
		Center: [3]float64{(b.MinLon + b.MaxLon) / 2, (b.MinLat + b.MaxLat) / 2, 8},
	}
	for _, l := range src.Layers {
		fields := map[string]string{}
		for _, f := range l.Fields {
			fields[f.Name] = f.Type
		}
		tj.VectorLayers = append(tj.VectorLayers, vectorLayer{ID: l.Name, Description: l.Description, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: fields})
	}
	return tj
}

func (s *Server) tileIndex(c *gin.Context) {
	type item struct {
		Name     string `json:"name"`
		TileJSON string `json:"tilejson"`
		Layers   int    `json:"layers"`
	}
	var out []item
	for _, n := range s.tiles.Catalogue().Names() {
		src, _ := s.tiles.Catalogue().Source(n)
		out = append(out, item{Name: n, TileJSON: baseURL(c) + "/tiles/" + n + ".json", Layers: len(src.Layers)})
	}
	c.JSON(http.StatusOK, gin.H{"sources": out, "cache": s.tiles.CacheStats()})
}
