package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync/atomic"
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
		if id == "" || !goodRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Set("request_id", id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// Request ids are a random per-process prefix and a counter: unique per
// process and across restarts, and cheap at tens of thousands of tile
// requests a second (they correlate log lines; they are not secrets).
var (
	requestIDPrefix = func() string {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
	requestSeq atomic.Uint64
)

// newRequestID is 16 hex digits: the prefix, then the counter's low 32
// bits (unique for the first 4 billion requests of a process).
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	copy(b[:8], requestIDPrefix)
	n := requestSeq.Add(1)
	for i := 15; i >= 8; i-- {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b[:])
}

// logAttrs adds attributes to the request's access-log line.
func logAttrs(c *gin.Context, attrs ...slog.Attr) { c.Set("log_attrs", attrs) }

// accessLog writes one line per request: method, route template, status,
// duration, bytes, request id, plus whatever handlers added with logAttrs.
// Typed attributes (LogAttrs): no boxing on the hottest path of the server.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		attrs := make([]slog.Attr, 0, 12)
		attrs = append(attrs, slog.String("method", c.Request.Method), slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.Int("bytes", c.Writer.Size()),
			slog.String("request_id", requestID(c)))
		if extra, ok := c.Get("log_attrs"); ok {
			attrs = append(attrs, extra.([]slog.Attr)...)
		}
		level := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
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
		if c.Request.Body != nil && c.Request.Body != http.NoBody { // GETs: nothing to limit
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}
