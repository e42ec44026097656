package benchkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// RawConn is a minimal HTTP/1.1 keep-alive client: one request at a time
// on one connection, requests written from prepared bytes, responses read
// by Content-Length or chunked framing (answers net/http chunks: JSON
// over 2 KB written without a length). The load generator shares the 2-core machine with the
// server and PostgreSQL; net/http's client costs about as much CPU per
// request as a server's cached path, which would hide the difference being
// measured behind the measuring tool.
type RawConn struct {
	c net.Conn
	r *bufio.Reader
	t *textproto.Reader
}

// DialRaw connects to addr (host:port).
func DialRaw(addr string) (*RawConn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(c, 64<<10)
	return &RawConn{c: c, r: r, t: textproto.NewReader(r)}, nil
}

// Do sends a prepared request (GetRequest) and returns the status and the
// body's length (decoded from chunks, still compressed if it was), discarding the body.
func (rc *RawConn) Do(req []byte) (status, n int, err error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, 0, err
	}
	line, err := rc.t.ReadLine()
	if err != nil {
		return 0, 0, err
	}
	_, rest, ok := strings.Cut(line, " ")
	if !ok || len(rest) < 3 {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(rest[:3]); err != nil {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	n = -1
	chunked := false
	for {
		h, err := rc.t.ReadLine()
		if err != nil {
			return 0, 0, err
		}
		if h == "" {
			break
		}
		k, v, ok := strings.Cut(h, ":")
		switch {
		case !ok:
		case strings.EqualFold(k, "Content-Length"):
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return 0, 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case strings.EqualFold(k, "Transfer-Encoding"):
			chunked = strings.EqualFold(strings.TrimSpace(v), "chunked")
		}
	}
	switch {
	case status == 204 || status == 304: // no body by definition
		return status, 0, nil
	case chunked:
		return rc.discardChunked(status)
	case n < 0:
		return 0, 0, fmt.Errorf("response %d without Content-Length", status)
	}
	if _, err := rc.r.Discard(n); err != nil {
		return 0, 0, err
	}
	return status, n, nil
}

// discardChunked reads a chunked body and the trailer section after it
// (the chunked reader stops at the last chunk, before the empty line).
func (rc *RawConn) discardChunked(status int) (int, int, error) {
	m, err := io.Copy(io.Discard, httputil.NewChunkedReader(rc.r))
	if err != nil {
		return 0, 0, err
	}
	for {
		l, err := rc.t.ReadLine()
		if err != nil {
			return 0, 0, err
		}
		if l == "" {
			return status, int(m), nil
		}
	}
}

// SetDeadline bounds the next requests (a hung server fails them instead
// of holding the client for ever).
func (rc *RawConn) SetDeadline(t time.Time) error { return rc.c.SetDeadline(t) }

// Close closes the connection.
func (rc *RawConn) Close() { _ = rc.c.Close() }

// GetRequest is the bytes of a keep-alive GET of target (path and query)
// from host, with extra header lines ("Accept-Encoding: gzip").
func GetRequest(host, target string, headers ...string) []byte {
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: wangge-bench\r\n")
	if AuthToken != "" {
		b.WriteString("Authorization: Bearer " + AuthToken + "\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}
