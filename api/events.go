package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// EventStore records events and their workflow (postgis.DB).
type EventStore interface {
	CreateEvent(ctx context.Context, n postgis.NewEvent) (wangge.Event, bool, error)
	Event(ctx context.Context, id int64) (wangge.Event, error)
	Events(ctx context.Context, f postgis.EventQuery) ([]wangge.Event, error)
	Transition(ctx context.Context, r postgis.TransitionReq) (wangge.Event, error)
	RaiseAlarm(ctx context.Context, a postgis.Alarm) (wangge.Event, bool, error)
}

// EventLocator finds the grid of a WGS-84 point; outside every grid is
// wangge.ErrInvalid. postgis.DB.GridAt is the SQL one; an in-memory index
// with the same method replaces it in one line of wiring.
type EventLocator interface {
	GridAt(ctx context.Context, lon, lat float64) (string, error)
}

// Events is what the event routes need.
type Events struct {
	Store       EventStore
	Locate      EventLocator
	AlarmWindow time.Duration // repeated alarms within it join the open event; 0 → 10 min
	KPI         KPISource     // nil: no /api/v1/kpi
}

func (s *Server) routeEvents(d *Events) {
	h := &eventHandlers{d: d, log: s.log}
	v1 := s.router.Group("/api/v1")
	v1.POST("/events", h.create)
	v1.GET("/events", h.list)
	v1.GET("/events/:id", h.get)
	v1.POST("/events/:id/transitions", h.transition)
	v1.POST("/alarms", h.alarm)
	if d.KPI != nil {
		v1.GET("/kpi", h.kpi)
	}
}

type eventHandlers struct {
	d   *Events
	log *slog.Logger
}

// create: POST /api/v1/events. 201 once committed; a retry with the same
// Idempotency-Key answers 200 with the first event.
func (h *eventHandlers) create(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if err := checkIdemKey(key); err != nil {
		fail(c, h.log, err)
		return
	}
	var b eventBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	in, err := b.check()
	if err != nil {
		fail(c, h.log, err)
		return
	}
	e, created, err := h.record(c.Request.Context(), in, key)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.answerCreated(c, e, created, "Idempotent-Replayed")
}

// record locates a checked report and stores it.
func (h *eventHandlers) record(ctx context.Context, in intake, key string) (wangge.Event, bool, error) {
	grid, err := h.d.Locate.GridAt(ctx, in.lon, in.lat)
	if err != nil {
		return wangge.Event{}, false, err
	}
	return h.d.Store.CreateEvent(ctx, in.newEvent(grid, key))
}

// answerCreated: 201 for a new event; 200 and the header (why no new
// event) for an existing one.
func (h *eventHandlers) answerCreated(c *gin.Context, e wangge.Event, created bool, existing string) {
	c.Header("Location", "/api/v1/events/"+strconv.FormatInt(e.ID, 10))
	c.Header("ETag", etag(e.Version))
	if !created {
		c.Header(existing, "true")
		c.JSON(http.StatusOK, e)
		return
	}
	c.JSON(http.StatusCreated, e)
}

func etag(v int32) string { return `"` + strconv.Itoa(int(v)) + `"` }

// get: GET /api/v1/events/:id with its log.
func (h *eventHandlers) get(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	e, err := h.d.Store.Event(c.Request.Context(), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusOK, e)
}

// list: GET /api/v1/events?bbox=&status=&region=&since=&limit=
func (h *eventHandlers) list(c *gin.Context) {
	f, err := parseEventQuery(c.Request.URL.Query())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	es, err := h.d.Store.Events(c.Request.Context(), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": es, "count": len(es)})
}

// transition: POST /api/v1/events/:id/transitions {action, actor, note,
// unit_id, score, duplicate_of, tier, version}. Illegal → 409 with the
// allowed actions; stale version (body or If-Match) → 412.
func (h *eventHandlers) transition(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var b transitionBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	r, err := b.check(id, c.GetHeader("If-Match"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	e, err := h.d.Store.Transition(c.Request.Context(), r)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusOK, e)
}

// alarmBody is POST /api/v1/alarms.
type alarmBody struct {
	DeviceID string `json:"device_id"`
	Category string `json:"category"`
	Note     string `json:"note"`
}

// alarm: POST /api/v1/alarms — 201 with a new event, or 200 with the open
// event a repeated alarm joined.
func (h *eventHandlers) alarm(c *gin.Context) {
	var b alarmBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	if err := wangge.CheckText("device_id", b.DeviceID, 1, 100); err != nil {
		fail(c, h.log, err)
		return
	}
	if err := wangge.CheckText("note", b.Note, 0, 1000); err != nil {
		fail(c, h.log, err)
		return
	}
	window := h.d.AlarmWindow
	if window <= 0 {
		window = 10 * time.Minute
	}
	e, created, err := h.d.Store.RaiseAlarm(c.Request.Context(), postgis.Alarm{DeviceID: b.DeviceID,
		Category: b.Category, Note: b.Note, Window: window, At: time.Now()})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.answerCreated(c, e, created, "Alarm-Joined")
}
