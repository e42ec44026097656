package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
	"github.com/wangge/wangge/tiles"
)

// countingRenderer passes through to PostGIS and counts what reaches it.
type countingRenderer struct {
	db    *postgis.DB
	calls atomic.Int64
}

func (r *countingRenderer) RenderTile(ctx context.Context, layers []string, z, x, y uint32, f tiles.Filter) ([]byte, error) {
	r.calls.Add(1)
	return r.db.RenderTile(ctx, layers, z, x, y, f)
}

func tileServer(t *testing.T) (*Server, *countingRenderer, string) {
	t.Helper()
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	r := &countingRenderer{db: db}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := tiles.NewService(tiles.NewCatalogue(), r, 32<<20, log)
	// A commander reads every source, the events tiles included.
	return New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20, Tiles: ts, Access: testAccess(t, db)}), r,
		testToken(t, db, wangge.RoleCommander, "", nil)
}

func TestTileBadRequestsNeverReachTheDatabase(t *testing.T) {
	s, r, tok := tileServer(t)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"zoom over 22", "/tiles/onemap/23/0/0.mvt", 400},
		{"x outside 2^z", "/tiles/onemap/2/4/0.mvt", 400},
		{"y outside 2^z", "/tiles/onemap/2/0/4.mvt", 400},
		{"unknown source", "/tiles/roads/10/0/0.mvt", 404},
		{"non-numeric z", "/tiles/onemap/ten/0/0.mvt", 400},
		{"non-numeric x", "/tiles/onemap/1/x/0.mvt", 400},
		{"png", "/tiles/onemap/1/0/0.png", 400},
		{"unknown tilejson", "/tiles/roads.json", 404},
		{"too many parts", "/tiles/onemap/1/0/0/0.mvt", 404},
		{"filter on a source without filters", "/tiles/grids/1/0/0.mvt?status=open", 400},
		{"unknown status", "/tiles/events/1/0/0.mvt?status=lost", 400},
		{"SQL in a category", "/tiles/events/1/0/0.mvt?category=x';drop%20table%20events;--", 400},
		{"bad time", "/tiles/events/1/0/0.mvt?since=yesterday", 400},
		{"until before since", "/tiles/events/1/0/0.mvt?since=2026-02-01&until=2026-01-01", 400},
		{"unknown parameter", "/tiles/events/1/0/0.mvt?where=1", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, bearer(httptest.NewRequest("GET", tt.path, nil), tok))
			var eb errorBody
			if w.Code != tt.status || json.Unmarshal(w.Body.Bytes(), &eb) != nil || eb.Error == "" {
				t.Fatalf("status %d body %s, want %d with a JSON reason", w.Code, w.Body, tt.status)
			}
		})
	}
	if n := r.calls.Load(); n != 0 {
		t.Fatalf("%d bad requests reached the database", n)
	}
}

func TestTileCachingHeaders(t *testing.T) {
	s, r, tok := tileServer(t)
	get := func(path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := bearer(httptest.NewRequest("GET", path, nil), tok)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		return w
	}
	w := get("/tiles/onemap.json", nil)
	var tj tileJSON
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil || tj.TileJSON != "3.0.0" || len(tj.VectorLayers) != 8 {
		t.Fatalf("TileJSON %d %s", w.Code, w.Body)
	}
	if !strings.HasPrefix(tj.Tiles[0], "http://example.com/tiles/onemap/{z}/{x}/{y}.mvt?v=") {
		t.Fatalf("tiles URL %q is not absolute with a version", tj.Tiles[0])
	}
	url := strings.NewReplacer("http://example.com", "", "{z}", "14", "{x}", "13041", "{y}", "6783").Replace(tj.Tiles[0])

	gz := get(url, map[string]string{"Accept-Encoding": "gzip"})
	if gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("gzip fetch: %d %v", gz.Code, gz.Header())
	}
	if cc := gz.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("Cache-Control %q for a versioned URL", cc)
	}
	plain := get(url, nil)
	if plain.Code != 200 || plain.Header().Get("Content-Encoding") != "" || plain.Body.Len() <= 0 {
		t.Fatalf("plain fetch: %d %v", plain.Code, plain.Header())
	}
	for _, w := range []*httptest.ResponseRecorder{gz, plain} {
		if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
			t.Fatalf("Content-Length %q for a %d-byte body", cl, w.Body.Len())
		}
	}
	etag := gz.Header().Get("ETag")
	if nm := get(url, map[string]string{"If-None-Match": etag}); nm.Code != 304 || nm.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d, want 304", nm.Code)
	}
	if cc := get("/tiles/onemap/14/13041/6783.mvt", nil).Header().Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("Cache-Control %q for an unversioned URL, want no-cache", cc)
	}
	if e := get("/tiles/onemap/10/512/512.mvt", nil); e.Code != 204 {
		t.Fatalf("empty tile: %d, want 204", e.Code)
	}
	if n := r.calls.Load(); n != 2 {
		t.Fatalf("%d renders for 2 distinct tiles: the cache did not serve the repeats", n)
	}
	idx := get("/tiles", nil)
	if idx.Code != 200 || !strings.Contains(idx.Body.String(), `"onemap"`) {
		t.Fatalf("/tiles: %d %s", idx.Code, idx.Body)
	}
}
