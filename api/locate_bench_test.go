package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis/pgtest"
)

// BenchmarkLocateHandler is the server's own cost of GET /api/v1/locate
// (router, middleware, handler, encoding; no network), per engine, on
// the seeded test city: go test -bench LocateHandler -run ^$ ./api
func BenchmarkLocateHandler(b *testing.B) {
	db, _ := pgtest.New(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	if _, err := data.Seed(ctx, db, queryCity, log); err != nil {
		b.Fatal(err)
	}
	q, err := newQuery(ctx, db, log)
	if err != nil {
		b.Fatal(err)
	}
	// A city commander's token, as a wall sends it: the principal cache
	// keeps its check in memory after the first request.
	h := withToken(New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20, Query: q, Access: testAccess(b, db)}).Handler(),
		testToken(b, db, wangge.RoleCommander, "", nil))
	rows, err := db.Pool.Query(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids
		WHERE status = 'active' ORDER BY code LIMIT 1000) x`)
	if err != nil {
		b.Fatal(err)
	}
	var urls []string
	for rows.Next() {
		var x, y float64
		_ = rows.Scan(&x, &y)
		urls = append(urls, fmt.Sprintf("/api/v1/locate?lon=%v&lat=%v", x, y))
	}
	rows.Close()
	for _, engine := range []string{"index", "postgis"} {
		b.Run(engine, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest("GET", urls[i%len(urls)]+"&engine="+engine, nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				i++
			}
		})
	}
}
