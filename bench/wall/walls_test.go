package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The server's kpi.changed frames are being written elsewhere: the reader
// is held to the agreed shape (no id line, the KPI body with generated_at).
func TestReadStream(t *testing.T) {
	sent := time.Now().Add(-50 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 2000\n: connected\n\n")
		fmt.Fprint(w, "id: 5\nevent: event.created\ndata: {\"id\":1}\n\n: ping\n\n")
		fmt.Fprintf(w, "event: kpi.changed\ndata: {\"region\":\"\",\"generated_at\":%q,\"today\":{}}\n\n", sent.Format(time.RFC3339Nano))
	}))
	defer srv.Close()
	p := newPhase("test", 1, time.Second)
	w := &wall{base: srv.URL, token: "tok", p: p}
	var last string
	w.readStream(context.Background(), srv.Client(), &last)
	if p.frames != 2 || p.kpiFrames != 1 || last != "5" || len(p.errs) != 0 {
		t.Fatalf("frames %d, kpi.changed %d, last id %q, errors %v; want 2, 1, \"5\", none", p.frames, p.kpiFrames, last, p.errs)
	}
	if len(p.kpiLag) != 1 || p.kpiLag[0] < 50*time.Millisecond || p.kpiLag[0] > 10*time.Second {
		t.Fatalf("lag %v, want one of 50 ms or a little more", p.kpiLag)
	}
	if w.kpiAt.Load() == 0 {
		t.Fatal("a kpi.changed frame did not count as the wall's KPI")
	}
}

// Answers over 2 KB written without a length come chunked; the wall's
// connection reads them and stays usable.
func TestGetChunked(t *testing.T) {
	big := strings.Repeat("x", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, big)
	}))
	defer srv.Close()
	p := newPhase("test", 1, time.Second)
	w := &wall{host: hostOf(srv.URL), token: "tok", p: p}
	for range 3 {
		w.get("kpi", tCity, "/api/v1/kpi")
	}
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	if n := len(p.lat[key{"kpi", tCity}]); n != 3 || len(p.errs) != 0 {
		t.Fatalf("%d answers, errors %v; want 3, none", n, p.errs)
	}
}
