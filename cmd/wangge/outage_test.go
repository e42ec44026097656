package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/ssetest"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// TestDatabaseOutage stops the server's PostGIS under reporters and starts
// it again: while it is down /readyz answers 503, requests that need it
// answer 503 with Retry-After (not 500), a cached tile is still served;
// once it is back the server recovers by itself, its live stream follows
// new events again, and every report answered 201 is stored.
func TestDatabaseOutage(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	machine, err := os.MkdirTemp("", "wangge-machine-") // as TestFreshMachineClusters: postgres must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(machine) })
	t.Setenv("WANGGE_MACHINE_DIR", machine)
	t.Setenv("WANGGE_PG_PORT", strconv.Itoa(freePort(t)))
	t.Setenv("WANGGE_LOG_LEVEL", "error")
	data := filepath.Join(t.TempDir(), ".data")
	dbc := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if err := dbCmd(ctx, append(args[:1:1], append([]string{"-data-dir", data}, args[1:]...)...), &out); err != nil {
			t.Fatalf("wangge db %s: %v", args[0], err)
		}
		return strings.TrimSpace(out.String())
	}
	t.Cleanup(func() { _ = dbCmd(ctx, []string{"stop", "-data-dir", data}, io.Discard) })
	dbc("up")
	url := dbc("url")
	db, err := postgis.Open(ctx, url, 4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	pgtest.LoadSmallCity(t, db)
	tok := bearerToken(t, db, wangge.RoleCommander)
	db.Close()

	base, _ := startServer(t, url)
	auth := func(req *http.Request) *http.Request { req.Header.Set("Authorization", "Bearer "+tok); return req }
	call := func(method, path, body string) (int, http.Header) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := (&http.Client{Timeout: 15 * time.Second}).Do(auth(req))
		if err != nil {
			return 0, nil
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	const tile = "/tiles/onemap/14/13041/6783.mvt"
	if st, _ := call("GET", tile, ""); st != 200 {
		t.Fatalf("tile before the outage: %d", st)
	}
	stream := ssetest.Dial(t, base+"/api/v1/stream?kinds=event", "Authorization", "Bearer "+tok)

	// Reporters keep reporting through the outage; what is answered 201 must be stored.
	var mu sync.Mutex
	var acked []string
	stopReporting := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopReporting:
				return
			case <-time.After(50 * time.Millisecond):
			}
			desc := fmt.Sprintf("outage report %d", i)
			st, _ := call("POST", "/api/v1/events", `{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"`+desc+`","source":"patrol"}`)
			if st == 201 {
				mu.Lock()
				acked = append(acked, desc)
				mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	dbc("stop")

	if st, _ := call("GET", "/readyz", ""); st != 503 {
		t.Errorf("readyz with the database down: %d, want 503", st)
	}
	st, h := call("GET", "/api/v1/regions/500103", "")
	if st != 503 || h.Get("Retry-After") == "" {
		t.Errorf("a read with the database down: %d (Retry-After %q), want 503 with Retry-After", st, h.Get("Retry-After"))
	}
	if st, _ := call("GET", tile, ""); st != 200 {
		t.Errorf("a cached tile with the database down: %d, want 200", st)
	}
	time.Sleep(500 * time.Millisecond)
	dbc("up")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, _ := call("GET", "/readyz", ""); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz not back 30 s after the database came back")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stopReporting)
	wg.Wait()

	// The stream follows new events again (its LISTEN connection is back).
	var after string
	for attempt := 0; attempt < 50 && after == ""; attempt++ {
		if st, _ := call("POST", "/api/v1/events", `{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"after the outage","source":"patrol"}`); st == 201 {
			after = "after the outage"
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	ssetest.Wait(t, stream, 10*time.Second, func(m ssetest.Msg) bool {
		d, _ := m.Data["data"].(map[string]any)
		return m.Event == "event.created" && d != nil && d["description"] == after
	})

	db, err = postgis.Open(ctx, url, 2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, desc := range acked {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE description = $1`, desc).Scan(&n); err != nil || n != 1 {
			t.Errorf("report %q answered 201 is stored %d times (%v)", desc, n, err)
		}
	}
	t.Logf("%d reports acknowledged across the outage, all stored", len(acked))
}
