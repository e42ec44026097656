package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// RegionStore reads the hierarchy, its counts and buildings (postgis.DB).
type RegionStore interface {
	Region(ctx context.Context, scope wangge.Scope, code string, geometry bool) (postgis.RegionDetail, error)
	Districts(ctx context.Context, scope wangge.Scope) ([]postgis.RegionNode, error)
	Building(ctx context.Context, scope wangge.Scope, id int64) (postgis.Building, error)
	DataVersioner
}

// regions: GET /api/v1/regions — the districts the caller's scope
// touches, the top of its drill-down.
func (h *queryHandlers) regions(c *gin.Context) {
	sc := scope(c)
	ds, hit, err := h.districtCache.get(c.Request.Context(), sc.String(),
		func(ctx context.Context) ([]postgis.RegionNode, error) { return h.d.Regions.Districts(ctx, sc) })
	if err != nil {
		fail(c, h.log, err)
		return
	}
	cacheHeader(c, hit)
	c.JSON(http.StatusOK, gin.H{"level": "city", "children": ds})
}

// region: GET /api/v1/regions/:code[?geometry=true] — a district, street,
// community or grid with its parent, children and counts; a region above
// the caller's scope only named (in_scope false, counts null), any other
// outside it not found. A grid names its worker, whose phone only staff see.
func (h *queryHandlers) region(c *gin.Context) {
	code := c.Param("code")
	if _, ok := wangge.LevelOf(code); !ok {
		fail(c, h.log, wangge.Invalid("code", "a region code has 6 (district), 9 (street), 12 (community) or 15 (grid) digits, got %q", code))
		return
	}
	geometry, err := boolParam(c, "geometry")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	// A wall's drill-down: the same few regions asked by every wall, so
	// answers are shared per scope (the worker's phone revealed per caller).
	// An outline is not cached: its size and the codes asked are the
	// client's choice, and the wall never asks for one.
	sc := scope(c)
	read := func(ctx context.Context) (postgis.RegionDetail, error) {
		return h.d.Regions.Region(ctx, sc, code, geometry)
	}
	var (
		d   postgis.RegionDetail
		hit bool
	)
	if geometry {
		d, err = read(c.Request.Context())
	} else {
		d, hit, err = h.regionCache.get(c.Request.Context(), sc.String()+"/"+code, read)
	}
	if err != nil {
		fail(c, h.log, err)
		return
	}
	cacheHeader(c, hit)
	d.Worker = d.Worker.Reveal(principal(c))
	c.JSON(http.StatusOK, d)
}

// boolParam reads an optional true/false query parameter.
func boolParam(c *gin.Context, name string) (bool, error) {
	s := c.Query(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, wangge.Invalid(name, "%s must be true or false, got %q", name, s)
	}
	return b, nil
}

// buildingJSON is a building with its register as the caller's view
// allows (wangge.Redact): households, pii_view, pii_masked, counts, age
// bands and tags.
type buildingJSON struct {
	postgis.BuildingInfo
	wangge.Register
}

// building: GET /api/v1/buildings/:id — the building and its households:
// the full register to the grid's own worker (its scope is its grid),
// counts, age bands and tag counts to everyone else; a building outside
// the caller's scope is not found.
func (h *queryHandlers) building(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	b, err := h.d.Regions.Building(c.Request.Context(), scope(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, buildingJSON{BuildingInfo: b.BuildingInfo,
		Register: wangge.Redact(wangge.ViewOf(principal(c)), b.Households, time.Now())})
}
