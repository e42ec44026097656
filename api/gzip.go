package api

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// gzipped compresses a body that is encoded once and served many times
// (static files, cached answers); nil when it is small or gains under 10%.
func gzipped(b []byte, level int) []byte {
	if len(b) <= 1024 {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() >= len(b)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// pickBody returns gz with Content-Encoding set when the client takes
// gzip and gz exists, else body.
func pickBody(c *gin.Context, body, gz []byte) []byte {
	if gz == nil {
		return body
	}
	h := c.Writer.Header()
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return gz
	}
	return body
}

// sendBytes answers status with a body assembled in memory, its length
// known: that spares the chunked framing net/http falls back to for
// bodies over 2 KB, and lets clients size their buffers.
func sendBytes(c *gin.Context, status int, contentType []string, body []byte) {
	h := c.Writer.Header()
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	c.Status(status)
	_, _ = c.Writer.Write(body)
}

// jsonType is the Content-Type of JSON answers (shared: read-only).
var jsonType = []string{"application/json; charset=utf-8"}
