package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// NearestIndex is the in-memory H3 engine (postgis.Live), limited to the
// responders at home inside the scope.
type NearestIndex interface {
	Nearest(scope wangge.Scope, q geo.Query) ([]geo.Match, geo.Search, error)
}

// NearestSQL is the exact PostGIS baseline, served with ?engine=postgis.
type NearestSQL interface {
	NearestExact(ctx context.Context, scope wangge.Scope, q geo.Query) ([]geo.Match, error)
}

// EventPlaces finds where an event inside the scope is.
type EventPlaces interface {
	EventPlace(ctx context.Context, scope wangge.Scope, id int64) (postgis.Place, error)
}

// UnitReports records unit positions and statuses (postgis.Live), for
// units at home inside the scope (and events inside it).
type UnitReports interface {
	MoveUnit(ctx context.Context, scope wangge.Scope, id int64, lon, lat float64, status geo.Status, at time.Time) (geo.Responder, error)
	SetUnitStatus(ctx context.Context, scope wangge.Scope, s postgis.StatusChange) (geo.Responder, error)
}

// Responders is what the responder routes need.
type Responders struct {
	Index  NearestIndex
	SQL    NearestSQL
	Events EventPlaces
	Units  UnitReports
}

// routeResponders registers the responder and unit routes.
func (s *Server) routeResponders(d *Responders) {
	h := &responderHandlers{d: d, log: s.log}
	v1 := s.router.Group("/api/v1")
	v1.GET("/responders/nearest", h.nearest)
	v1.GET("/events/:id/responders", h.eventResponders)
	v1.PUT("/units/:id/position", h.putPosition)
	v1.PUT("/units/:id/status", h.putStatus)
}

type responderHandlers struct {
	d   *Responders
	log *slog.Logger
}

// nearest: GET /api/v1/responders/nearest?lon=&lat=&k=&kind=&status=&crs=&scope=&engine=
func (h *responderHandlers) nearest(c *gin.Context) {
	p, err := parseNearest(c.Request.URL.Query(), true)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.answer(c, p)
}

// eventResponders: GET /api/v1/events/:id/responders — nearest to the
// event's stored point; scope=street|district uses the event's grid.
func (h *responderHandlers) eventResponders(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	p, err := parseNearest(c.Request.URL.Query(), false)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	place, err := h.d.Events.EventPlace(c.Request.Context(), scope(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	p.q.Lon, p.q.Lat, p.crs = place.Lon, place.Lat, geo.WGS84
	switch p.scope {
	case "street":
		p.q.Street, p.q.District = place.GridCode[:9], ""
	case "district":
		p.q.Street, p.q.District = "", place.GridCode[:6]
	}
	h.answer(c, p)
}

func (h *responderHandlers) answer(c *gin.Context, p nearestParams) {
	start := time.Now()
	var (
		ms     []geo.Match
		search *geo.Search
		err    error
	)
	if p.engine == "postgis" {
		ms, err = h.d.SQL.NearestExact(c.Request.Context(), scope(c), p.q)
	} else {
		var s geo.Search
		ms, s, err = h.d.Index.Nearest(scope(c), p.q)
		search = &s
	}
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, nearestBody(p, ms, search, time.Since(start), principal(c).Can(wangge.PermStaffContacts)))
}

// pathID reads the positive integer :id.
func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, wangge.Invalid("id", "id must be a positive integer, got %q", c.Param("id"))
	}
	return id, nil
}
