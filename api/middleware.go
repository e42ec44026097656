package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
)

const requestIDHeader = "X-Request-ID"

// A client-supplied id is kept only if it is short and plain, so it can be
// logged and echoed safely.
var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(c *gin.Context) string { return c.GetString("request_id") }

// withRequestID gives every request an id, reused from X-Request-ID when
// the caller (a load balancer) set a sane one.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if !goodRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set("request_id", id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// accessLog writes one line per request: method, route template, status,
// duration, bytes, request id, plus whatever handlers added with logAttr.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		attrs := []any{
			"method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "bytes", c.Writer.Size(),
			"request_id", requestID(c),
		}
		if extra, ok := c.Get("log_attrs"); ok {
			attrs = append(attrs, extra.([]any)...)
		}
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

// recovery turns a panic into a logged 500 with the request id; the server
// keeps serving.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r))
				abortJSON(c, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		c.Next()
	}
}

// bodyLimit refuses bodies over max bytes: at once when Content-Length says
// so, and while reading otherwise (handlers then see a read error, which
// decodeJSON turns into 413).
func bodyLimit(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			abortJSON(c, http.StatusRequestEntityTooLarge, "too_large",
				fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", c.Request.ContentLength, max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}
