package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
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

// fail answers with the status the error maps to. Client errors carry
// their reason; server errors carry a generic message, the detail goes to
// the log only (never SQL text to a client).
func fail(c *gin.Context, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		c.Abort() // the client went away: nothing to answer, nothing to log
		return
	}
	for _, m := range statusOf {
		if errors.Is(err, m.err) {
			if m.status >= 500 {
				log.Warn("request failed", "request_id", requestID(c), "err", err)
				abortJSON(c, m.status, m.code, "service temporarily unavailable")
				return
			}
			abortJSON(c, m.status, m.code, clientMessage(err))
			return
		}
	}
	log.Error("request failed", "request_id", requestID(c), "err", err)
	abortJSON(c, http.StatusInternalServerError, "internal", "internal error")
}

// clientMessage prefers the precise InputError text over the wrapped chain,
// whose prefixes name our packages rather than the caller's input.
func clientMessage(err error) string {
	var ie *wangge.InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	return err.Error()
}

func abortJSON(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Error: msg, Code: code, RequestID: requestID(c)})
}
