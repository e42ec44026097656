package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// errorBody is every error response: a reason a person can act on, a
// stable machine code and the request id to quote to an operator.
type errorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// statusOf is the one error → HTTP table.
var statusOf = []struct {
	err    error
	status int
	code   string
}{
	{wangge.ErrInvalid, http.StatusBadRequest, "invalid"},
	{wangge.ErrNotFound, http.StatusNotFound, "not_found"},
	{wangge.ErrConflict, http.StatusConflict, "conflict"},
	{wangge.ErrStale, http.StatusPreconditionFailed, "stale"},
	{wangge.ErrForbidden, http.StatusForbidden, "forbidden"},
	{wangge.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// maxProblems bounds the problems a refused plan lists.
const maxProblems = 50

// answerOf is what an error answers: the one table above, the body
// limit, and the typed errors that carry more for the client (allowed
// actions, a plan's problems, the grids that changed) in extra.
func answerOf(err error) (status int, code, msg string, extra gin.H) {
	var te *wangge.TransitionError
	var pe *geo.PlanError
	var se *postgis.StaleError
	switch {
	case errors.As(err, &te):
		return http.StatusConflict, "illegal_transition", te.Error(), gin.H{"allowed": te.Allowed, "status": te.Status, "tier": te.Tier}
	case errors.As(err, &pe):
		// A refused plan lists at most maxProblems problems (and says how
		// many there were): a plan of made-up ids is not answered ten times
		// its size.
		ps, msg := pe.Problems, pe.Error()
		if len(ps) > maxProblems {
			ps = ps[:maxProblems]
			msg = (&geo.PlanError{Problems: ps}).Error() + fmt.Sprintf("; and %d more problems", len(pe.Problems)-maxProblems)
		}
		return http.StatusUnprocessableEntity, "plan_rejected", msg, gin.H{"problems": ps, "problems_total": len(pe.Problems)}
	case errors.As(err, &se):
		return http.StatusPreconditionFailed, "stale", se.Error(), gin.H{"changed": se.Changed}
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", err.Error(), nil
	}
	for _, m := range statusOf {
		if errors.Is(err, m.err) {
			return m.status, m.code, clientMessage(err), nil
		}
	}
	switch {
	case postgis.TimedOut(err):
		return http.StatusServiceUnavailable, "timeout", "the request took too long and was stopped", nil
	case postgis.Unavailable(err):
		return http.StatusServiceUnavailable, "unavailable", "the database cannot be reached", nil
	}
	return http.StatusInternalServerError, "internal", "internal error", nil
}

// fail answers with the status the error maps to. Client errors carry
// their reason; server errors carry a generic message, the detail goes to
// the log only (never SQL text to a client).
func fail(c *gin.Context, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		c.Abort() // the client went away: nothing to answer, nothing to log
		return
	}
	status, code, msg, extra := answerOf(err)
	switch {
	case status == http.StatusInternalServerError:
		log.Error("request failed", "request_id", requestID(c), "err", err)
		msg = "internal error"
	case status >= 500:
		log.Warn("request failed", "request_id", requestID(c), "err", err)
		if code != "timeout" {
			msg = "service temporarily unavailable"
		}
		c.Header("Retry-After", "5")
	}
	if extra == nil {
		abortJSON(c, status, code, msg)
		return
	}
	extra["error"], extra["code"], extra["request_id"] = msg, code, requestID(c)
	c.AbortWithStatusJSON(status, extra)
}

// clientMessage prefers the precise InputError text over the wrapped chain,
// whose prefixes name our packages rather than the caller's input; those
// prefixes are dropped (a client has no use for "postgis: ").
func clientMessage(err error) string {
	var ie *wangge.InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	return internalNames.Replace(err.Error())
}

var internalNames = strings.NewReplacer("postgis: ", "", "geo: ", "", "tiles: ", "", "data: ", "", "api: ", "", "wangge: ", "")

func abortJSON(c *gin.Context, status int, code, msg string) {
	c.Set(refusedKey, code)
	c.AbortWithStatusJSON(status, errorBody{Error: msg, Code: code, RequestID: requestID(c)})
}
