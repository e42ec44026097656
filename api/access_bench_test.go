package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis/pgtest"
	"github.com/wangge/wangge/tiles"
)

// BenchmarkAuthOverhead is what a credential costs on the two hottest
// reads, a cached tile and a locate, in the same run: "open" is the route
// made public (the middleware finds no credential to check, as before
// access control existed), "bearer" sends a token checked through the
// in-memory principal cache, and "check" is the credential check alone.
// Compare ns/op of each pair, and check against bearer (a locate run
// "open" is anonymous, whose scope covers nothing: it answers 404, which
// is why the check alone is measured too):
// go test -bench AuthOverhead -run ^$ ./api
func BenchmarkAuthOverhead(b *testing.B) {
	db, _ := pgtest.New(b)
	pgtest.LoadSmallCity(b, db)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	loc, err := db.StartLocator(ctx, log)
	if err != nil {
		b.Fatal(err)
	}
	svc := tiles.NewService(tiles.NewCatalogue(), db, 64<<20, log)
	srv := api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20, Tiles: svc, Query: &api.Query{Locator: loc},
		Access: apitest.Access(b, db)})
	h := srv.Handler()
	tok := apitest.Token(b, db, wangge.RoleViewer, "", nil)
	b.Run("check", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/api/v1/locate", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		check := srv.Authenticator(req)
		if err := check(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = check()
		}
	})
	for _, tc := range []struct{ name, route, url string }{
		{"tile", "GET /tiles/:source/:z/:x/:y", "/tiles/onemap/14/13041/6783.mvt"},
		{"locate", "GET /api/v1/locate", "/api/v1/locate?lon=106.5612&lat=29.5512"},
	} {
		for _, mode := range []string{"open", "bearer"} {
			b.Run(tc.name+"/"+mode, func(b *testing.B) {
				req := httptest.NewRequest("GET", tc.url, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				if mode == "bearer" {
					req.Header.Set("Authorization", "Bearer "+tok)
				} else {
					b.Cleanup(api.OpenRoute(tc.route))
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req) // warm the tile cache and the principal cache
				if w.Code != http.StatusOK && w.Code != http.StatusNotFound {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
				}
			})
		}
	}
}
