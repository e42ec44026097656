package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// CategoryLister lists the event categories (Open311 services).
type CategoryLister interface {
	EventCategories(ctx context.Context) ([]postgis.Category, error)
}

// Open311 is the GeoReport v2 gateway for citizen apps and the 12345
// hotline: services are our event categories, requests our events.
// Submissions come from gateway principals: a gateway's token as bearer or
// as GeoReport's api_key form field (authorize reads both).
type Open311 struct {
	Events     *Events
	Categories CategoryLister
}

func (s *Server) routeOpen311(d *Open311) {
	h := &open311Handlers{d: d, ev: &eventHandlers{d: d.Events, log: s.log}, log: s.log}
	g := s.router.Group("/open311/v2")
	g.GET("/:doc", h.document)
	g.POST("/:doc", h.post)
	g.GET("/services/:code", h.service)
	g.GET("/requests/:id", h.request)
	g.GET("/tokens/:token", h.token)
}

type open311Handlers struct {
	d   *Open311
	ev  *eventHandlers
	log *slog.Logger
}

// splitFormat reads "name.json" / "name.xml"; JSON when no extension.
func splitFormat(s string) (name, format string, err error) {
	switch {
	case strings.HasSuffix(s, ".json"):
		return strings.TrimSuffix(s, ".json"), "json", nil
	case strings.HasSuffix(s, ".xml"):
		return strings.TrimSuffix(s, ".xml"), "xml", nil
	case !strings.Contains(s, "."):
		return s, "json", nil
	}
	return s, "json", wangge.Invalid("format", "only .json and .xml are served") // errors answer in JSON then
}

// answer writes a document (JSON) or its XML wrapper.
func answer(c *gin.Context, status int, format string, jsonDoc, xmlDoc any) {
	if format == "xml" {
		c.XML(status, xmlDoc)
		return
	}
	c.JSON(status, jsonDoc)
}

// o311Fail answers with the spec's error list and the status the error
// maps to (the same table as the rest of the API).
func (h *open311Handlers) fail(c *gin.Context, format string, err error) {
	status, _, msg, _ := answerOf(err)
	if status >= 500 {
		h.log.Error("open311 request failed", "request_id", requestID(c), "err", err)
		msg = "internal error (request " + requestID(c) + ")"
	}
	e := o311Error{Code: status, Description: msg}
	c.Abort()
	answer(c, status, format, []o311Error{e}, o311Errors{Errors: []o311Error{e}})
}

// document: GET discovery, services, requests (.json | .xml).
func (h *open311Handlers) document(c *gin.Context) {
	name, format, err := splitFormat(c.Param("doc"))
	if err != nil {
		h.fail(c, format, err)
		return
	}
	switch name {
	case "discovery":
		h.discovery(c, format)
	case "services":
		h.services(c, format)
	case "requests":
		h.requests(c, format)
	default:
		h.fail(c, format, fmt.Errorf("no such Open311 document %q: %w", name, wangge.ErrNotFound))
	}
}

func (h *open311Handlers) discovery(c *gin.Context, format string) {
	base := "http://" + c.Request.Host + "/open311/v2/"
	if c.Request.TLS != nil {
		base = "https://" + c.Request.Host + "/open311/v2/"
	}
	d := o311Discovery{Changeset: "2026-11-30T00:00:00+08:00", Contact: "12345 市民服务热线",
		KeyService: "ask the command centre for an api_key",
		Endpoints: []o311Endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base,
			Changeset: "2026-11-30T00:00:00+08:00", Type: "production", Formats: []string{"application/json", "text/xml"}}}}
	answer(c, http.StatusOK, format, d, d)
}

func (h *open311Handlers) categories(ctx context.Context) (map[string]postgis.Category, []postgis.Category, error) {
	cs, err := h.d.Categories.EventCategories(ctx)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]postgis.Category, len(cs))
	for _, c := range cs {
		m[c.Code] = c
	}
	return m, cs, nil
}

func serviceOf(c postgis.Category) o311Service {
	return o311Service{ServiceCode: c.Code, ServiceName: c.NameZh, Description: c.NameEn, Metadata: false,
		Type: "realtime", Keywords: c.NameEn, Group: string(c.Tier)}
}

func (h *open311Handlers) services(c *gin.Context, format string) {
	_, cs, err := h.categories(c.Request.Context())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	out := make([]o311Service, len(cs))
	for i, x := range cs {
		out[i] = serviceOf(x)
	}
	answer(c, http.StatusOK, format, out, o311Services{Services: out})
}

// service: GET services/{code} — the definition; no extra attributes.
func (h *open311Handlers) service(c *gin.Context) {
	code, format, err := splitFormat(c.Param("code"))
	if err != nil {
		h.fail(c, format, err)
		return
	}
	m, _, err := h.categories(c.Request.Context())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	if _, ok := m[code]; !ok {
		h.fail(c, format, fmt.Errorf("no service %q: %w", code, wangge.ErrNotFound))
		return
	}
	d := o311Definition{ServiceCode: code, Attributes: []any{}}
	answer(c, http.StatusOK, format, d, d)
}

// requests: GET requests?service_request_id=&service_code=&start_date=&end_date=&status=
func (h *open311Handlers) requests(c *gin.Context, format string) {
	f, err := parseO311Query(c.Request.URL.Query().Get, time.Now())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	h.list(c, format, f)
}

func (h *open311Handlers) list(c *gin.Context, format string, f postgis.EventQuery) {
	m, _, err := h.categories(c.Request.Context())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	es, err := h.d.Events.Store.Events(c.Request.Context(), scope(c), f)
	if err != nil {
		h.fail(c, format, err)
		return
	}
	out := make([]o311Request, len(es))
	for i, e := range es {
		out[i] = o311RequestOf(e, m)
	}
	answer(c, http.StatusOK, format, out, o311Requests{Requests: out})
}

// request: GET requests/{id}
func (h *open311Handlers) request(c *gin.Context) {
	id, format, err := o311ID(c.Param("id"))
	if err != nil {
		h.fail(c, format, err)
		return
	}
	e, err := h.d.Events.Store.Event(c.Request.Context(), scope(c), id)
	if err != nil {
		h.fail(c, format, err)
		return
	}
	m, _, err := h.categories(c.Request.Context())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	out := []o311Request{o311RequestOf(e, m)}
	answer(c, http.StatusOK, format, out, o311Requests{Requests: out})
}

// token: GET tokens/{token}. Requests get their id at once, so a token is
// only ever "ev-{id}", answered for clients that poll tokens anyway.
func (h *open311Handlers) token(c *gin.Context) {
	tok, format, err := splitFormat(c.Param("token"))
	if err != nil {
		h.fail(c, format, err)
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(tok, "ev-"), 10, 64)
	if err != nil || !strings.HasPrefix(tok, "ev-") {
		h.fail(c, format, fmt.Errorf("no token %q: %w", tok, wangge.ErrNotFound))
		return
	}
	if _, err := h.d.Events.Store.Event(c.Request.Context(), scope(c), id); err != nil {
		h.fail(c, format, err)
		return
	}
	out := []o311Token{{ServiceRequestID: strconv.FormatInt(id, 10), Token: tok}}
	answer(c, http.StatusOK, format, out, o311Tokens{Requests: out})
}

// post: POST requests (form-encoded, with api_key).
func (h *open311Handlers) post(c *gin.Context) {
	name, format, ferr := splitFormat(c.Param("doc"))
	if ferr != nil || name != "requests" {
		h.fail(c, "json", fmt.Errorf("POST goes to requests.json or requests.xml: %w", wangge.ErrNotFound))
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = fmt.Errorf("body over %d bytes: %w", tooBig.Limit, errTooLarge)
		} else {
			err = wangge.Invalid("body", "not a form: %v", err)
		}
		h.fail(c, format, err)
		return
	}
	for k, vs := range c.Request.PostForm {
		for _, v := range append(vs, k) {
			if err := badText("form field "+quoteShort(k), v); err != nil {
				h.fail(c, format, wangge.Invalid(k, "%s", err.Error()))
				return
			}
		}
	}
	// The api_key (a gateway token) was checked by authorize, like a bearer.
	in, err := o311Intake(c.Request.PostForm.Get)
	if err != nil {
		h.fail(c, format, err)
		return
	}
	m, _, err := h.categories(c.Request.Context())
	if err != nil {
		h.fail(c, format, err)
		return
	}
	cat, ok := m[in.category]
	if !ok {
		h.fail(c, format, wangge.Invalid("service_code", "unknown service_code %q (see services.json)", in.category))
		return
	}
	if in.description == "" {
		in.description = cat.NameZh
	}
	e, created, err := h.ev.record(c, in, "")
	if err != nil {
		h.fail(c, format, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	out := []o311Created{{ServiceRequestID: strconv.FormatInt(e.ID, 10),
		ServiceNotice: "deadline " + o311Time(e.DeadlineAt) + ", " + agencyOf(e)}}
	answer(c, status, format, out, o311CreatedList{Requests: out})
}
