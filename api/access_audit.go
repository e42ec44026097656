package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// heldWriter keeps an audited answer back until its audit row is committed,
// so no personal data and no write's answer leaves unrecorded.
type heldWriter struct {
	gin.ResponseWriter
	status int  // as gin: may change until the body starts
	wrote  bool // the header is committed (for the handler's view)
	body   bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int) {
	if code > 0 && !w.wrote {
		w.status = code
	}
}
func (w *heldWriter) WriteHeaderNow() { w.wrote = true }
func (w *heldWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}
func (w *heldWriter) WriteString(s string) (int, error) {
	w.wrote = true
	return w.body.WriteString(s)
}
func (w *heldWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
func (w *heldWriter) Size() int {
	if !w.wrote {
		return -1
	}
	return w.body.Len()
}
func (w *heldWriter) Written() bool { return w.wrote }
func (w *heldWriter) Flush()        {}

// audited runs the handler with its answer held, records the audit row
// (who, what, which target, the outcome) and only then sends the answer;
// when the row cannot be written the caller gets 503 instead.
func (s *Server) audited(c *gin.Context, p wangge.Principal, perm string) {
	real := c.Writer
	hw := &heldWriter{ResponseWriter: real}
	c.Writer = hw
	c.Next()
	c.Writer = real
	rec := postgis.AuditRecord{Actor: actorOf(c, p), Role: string(p.Role), Action: perm + " " + c.Request.Method + " " + c.FullPath(),
		Target: target(c), RequestID: requestID(c), Client: c.ClientIP(), Outcome: strconv.Itoa(hw.Status())}
	var err error
	if s.access.Audit == nil {
		err = errNoAudit
	} else {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
		start := time.Now()
		err = s.access.Audit.Append(ctx, rec)
		cancel()
		if s.metrics != nil {
			s.metrics.auditLag.Observe(time.Since(start).Seconds())
		}
	}
	if err != nil {
		s.log.Error("audit row not written; answer withheld", "request_id", requestID(c), "action", rec.Action, "err", err)
		real.Header().Del("Content-Length")
		real.Header().Del("Content-Encoding")
		real.Header().Del("ETag")
		real.Header().Set("Retry-After", "5")
		real.Header().Set("Content-Type", "application/json; charset=utf-8")
		real.WriteHeader(http.StatusServiceUnavailable)
		_, _ = real.Write([]byte(`{"code":"unavailable","error":"the audit log cannot be written; nothing was answered","request_id":"` + requestID(c) + `"}`))
		return
	}
	real.WriteHeader(hw.Status())
	_, _ = real.Write(hw.body.Bytes())
}

var errNoAudit = errors.New("no audit log configured")

// actorOf names the caller; a login names the account tried.
func actorOf(c *gin.Context, p wangge.Principal) string {
	if p.Role == wangge.RoleAnonymous {
		if n := c.GetString(loginNameKey); n != "" {
			return "login:" + n
		}
	}
	return p.Actor()
}

// target is what the request touched: the route's parameters ("id=42"),
// else what the handler named with setTarget.
func target(c *gin.Context) string {
	if t := c.GetString(targetKey); t != "" {
		return t
	}
	parts := make([]string, 0, len(c.Params))
	for _, pr := range c.Params {
		parts = append(parts, pr.Key+"="+pr.Value)
	}
	return strings.Join(parts, " ")
}

const (
	targetKey    = "audit_target"
	loginNameKey = "login_name"
)

// setTarget names what an audited request touched when its path does not
// (a new event's id, a plan's id).
func setTarget(c *gin.Context, t string) { c.Set(targetKey, t) }
