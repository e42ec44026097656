package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// EventStore records events and their workflow (postgis.DB). Every
// method takes the caller's scope and filters in SQL: an event outside it
// is not found, a report or alarm located outside it is refused.
type EventStore interface {
	CreateEvent(ctx context.Context, scope wangge.Scope, n postgis.NewEvent) (wangge.Event, bool, error)
	Event(ctx context.Context, scope wangge.Scope, id int64) (wangge.Event, error)
	Events(ctx context.Context, scope wangge.Scope, f postgis.EventQuery) ([]wangge.Event, error)
	Transition(ctx context.Context, scope wangge.Scope, r postgis.TransitionReq) (wangge.Event, error)
	RaiseAlarm(ctx context.Context, scope wangge.Scope, a postgis.Alarm) (wangge.Event, bool, error)
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
	if d.KPI != nil {
		h.kpi = &kpiAnswers{src: d.KPI, cache: newAnswerCache[kpiBody](s.dataVersion(d.KPI))}
		s.kpi = h.kpi
	}
	v1 := s.router.Group("/api/v1")
	v1.POST("/events", h.create)
	v1.GET("/events", h.list)
	v1.GET("/events/:id", h.get)
	v1.POST("/events/:id/transitions", h.transition)
	v1.POST("/alarms", h.alarm)
	if d.KPI != nil {
		v1.GET("/kpi", h.kpiAnswer)
	}
}

type eventHandlers struct {
	d   *Events
	log *slog.Logger
	kpi *kpiAnswers // nil: no KPI source
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
	if in, err = in.reportedBy(principal(c)); err != nil {
		fail(c, h.log, err)
		return
	}
	e, created, err := h.record(c, in, key)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.answerCreated(c, e, created, "Idempotent-Replayed")
}

// record locates a checked report and stores it in the caller's name,
// inside the caller's jurisdiction (a grid worker reports in its grid, a
// commander or gateway in its region; elsewhere: 404 with the reason).
func (h *eventHandlers) record(c *gin.Context, in intake, key string) (wangge.Event, bool, error) {
	ctx := c.Request.Context()
	grid, err := h.d.Locate.GridAt(ctx, in.lon, in.lat)
	if err != nil {
		return wangge.Event{}, false, err
	}
	n := in.newEvent(grid, key)
	n.Actor = principal(c).Actor()
	return h.d.Store.CreateEvent(ctx, scope(c), n)
}

// shown is e as the caller may see it: the reporter revealed only to a
// role granted reporter.read (the store found e inside the caller's
// jurisdiction, or it would not be here).
func shown(c *gin.Context, e wangge.Event) wangge.Event {
	e.Reporter = e.Reporter.Reveal(principal(c), wangge.PermReporterRead)
	return e
}

// answerCreated: 201 for a new event; 200 and the header (why no new
// event) for an existing one.
func (h *eventHandlers) answerCreated(c *gin.Context, e wangge.Event, created bool, existing string) {
	e = shown(c, e)
	setTarget(c, "event "+strconv.FormatInt(e.ID, 10))
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
	e, err := h.d.Store.Event(c.Request.Context(), scope(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusOK, shown(c, e))
}

// list: GET /api/v1/events?bbox=&status=&region=&since=&limit=
func (h *eventHandlers) list(c *gin.Context) {
	f, err := parseEventQuery(c.Request.URL.Query())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	es, err := h.d.Store.Events(c.Request.Context(), scope(c), f)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	for i := range es {
		es[i] = shown(c, es[i])
	}
	out := gin.H{"events": es, "count": len(es)}
	if len(es) == f.Limit { // a full page: the next one starts below its last id
		out["next_before"] = es[len(es)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// transition: POST /api/v1/events/:id/transitions {action, note, unit_id,
// score, duplicate_of, tier, version}. The log names the caller's
// credential (a body "actor" is refused). Illegal → 409 with the allowed
// actions; stale version (body or If-Match) → 412. A responder works only
// events dispatched to its own unit (others: 404) and only arrives,
// resolves and notes (other actions: 403).
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
	setTarget(c, "event "+strconv.FormatInt(id, 10))
	p := principal(c)
	r, err := b.check(id, c.GetHeader("If-Match"), p.Actor())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := responderMay(p, &r); err != nil {
		fail(c, h.log, err)
		return
	}
	e, err := h.d.Store.Transition(c.Request.Context(), scope(c), r)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("ETag", etag(e.Version))
	c.JSON(http.StatusOK, shown(c, e))
}

// responderActions are what a unit does with the event it was sent to;
// accepting, dispatching, closing, scoring are the command centre's and
// the grid's.
var responderActions = []wangge.Action{wangge.ActArrive, wangge.ActResolve, wangge.ActNote}

// responderMay restricts a responder to its own unit's events (the store
// filters on r.Unit: another unit's event is not found) and to the unit's
// actions.
func responderMay(p wangge.Principal, r *postgis.TransitionReq) error {
	if p.Role != wangge.RoleResponder {
		return nil
	}
	if p.UnitID == nil {
		return fmt.Errorf("this responder credential names no unit: %w", wangge.ErrForbidden)
	}
	if !slices.Contains(responderActions, r.Step.Action) {
		return fmt.Errorf("a responder may only arrive, resolve or note, not %s: %w", r.Step.Action, wangge.ErrForbidden)
	}
	r.Unit = p.UnitID
	return nil
}

// alarmBody is POST /api/v1/alarms.
type alarmBody struct {
	DeviceID string `json:"device_id"`
	Category string `json:"category"`
	Note     string `json:"note"`
}

// alarm: POST /api/v1/alarms — 201 with a new event, or 200 with the open
// event a repeated alarm joined. Only a sensor hub's token (the policy)
// for a device inside its region (else 404); the log names the hub.
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
	e, created, err := h.d.Store.RaiseAlarm(c.Request.Context(), scope(c), postgis.Alarm{DeviceID: b.DeviceID,
		Category: b.Category, Note: b.Note, Window: window, At: time.Now(), Actor: principal(c).Actor()})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.answerCreated(c, e, created, "Alarm-Joined")
}
