package main

import (
	"bufio"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// rawConn is a minimal HTTP/1.1 keep-alive client: one request at a time
// on one connection, requests written from prepared bytes, responses read
// by Content-Length. The load generator shares the machine with the
// server and PostgreSQL; net/http's client costs about as much CPU per
// request as the server's whole index path, which would hide the
// difference being measured behind the measuring tool.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
	t *textproto.Reader
}

func dialRaw(addr string) (*rawConn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(c, 16<<10)
	return &rawConn{c: c, r: r, t: textproto.NewReader(r)}, nil
}

// get sends GET target and returns the status, discarding the body.
func (rc *rawConn) get(req []byte) (int, error) {
	if _, err := rc.c.Write(req); err != nil {
		return 0, err
	}
	line, err := rc.t.ReadLine()
	if err != nil {
		return 0, err
	}
	_, rest, ok := strings.Cut(line, " ")
	if !ok || len(rest) < 3 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(rest[:3])
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	n := -1
	for {
		h, err := rc.t.ReadLine()
		if err != nil {
			return 0, err
		}
		if h == "" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("response without Content-Length")
	}
	if _, err := rc.r.Discard(n); err != nil {
		return 0, err
	}
	return status, nil
}

func (rc *rawConn) close() { _ = rc.c.Close() }

// getRequest is the bytes of a keep-alive GET.
func getRequest(host, target string) []byte {
	return []byte("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: bench/locate\r\n\r\n")
}
