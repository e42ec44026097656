package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wangge/wangge/postgis/pgtest"
	"github.com/wangge/wangge/tiles"
)

// BenchmarkCachedTile is the server's own cost of a tile served from the
// cache (router, middleware, handler; no network):
// go test -bench CachedTile -run ^$ ./api
func BenchmarkCachedTile(b *testing.B) {
	db, _ := pgtest.New(b)
	pgtest.LoadSmallCity(b, db)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := tiles.NewService(tiles.NewCatalogue(), db, 64<<20, log)
	h := New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20, Tiles: svc}).Handler()
	const url = "/tiles/onemap/14/13041/6783.mvt"
	req := httptest.NewRequest("GET", url, nil).WithContext(context.Background())
	req.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
