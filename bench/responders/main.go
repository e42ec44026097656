// Command responders benchmarks nearest-responder search: in-process
// latency of the H3 index (k=5), in-process position updates per second,
// and HTTP throughput of the H3 engine against the exact PostGIS query
// through the same server (?engine=postgis), side by side in one run.
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres go run ./bench/responders
//
// It creates a throwaway database from DATABASE_URL, migrates it, loads
// -n synthetic responders (geo.SyntheticResponders, fixed seed) and drops
// it at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

func main() {
	n := flag.Int("n", 100_000, "responders")
	queries := flag.Int("queries", 100_000, "in-process queries")
	updates := flag.Int("updates", 500_000, "in-process position updates")
	clients := flag.Int("clients", 32, "concurrent HTTP clients")
	dur := flag.Duration("http", 5*time.Second, "HTTP run per engine")
	flag.Parse()
	if err := run(*n, *queries, *updates, *clients, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, queries, updates, clients int, dur time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, _, cleanup, err := benchkit.Throwaway(ctx, "wangge_bench_responders", 32, false, log)
	if err != nil {
		return err
	}
	defer cleanup()
	rs := geo.SyntheticResponders(1, n)
	t0 := time.Now()
	if err := db.SeedSyntheticResponders(ctx, rs); err != nil {
		return err
	}
	fmt.Printf("seeded %d responders into PostGIS in %v\n", n, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	lctx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	live, err := db.StartLive(lctx, log)
	if err != nil {
		return err
	}
	fmt.Printf("index loaded from PostGIS in %v (%d responders)\n", time.Since(t0).Round(time.Millisecond), live.Index.Len())
	qs := geo.SyntheticQueries(rs, 20_000)
	if err := checkSame(ctx, live, db, qs[:300]); err != nil {
		return err
	}
	inProcess(live.Index, qs, queries)
	moves(live, rs, updates)
	stopLive()
	live.Wait()
	fmt.Printf("writer: %d rows applied to PostGIS by batched UPDATE … FROM unnest\n", live.Writer.Written())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := benchkit.Login(ctx, db, wangge.RoleCommander); err != nil {
		return err
	}
	srv := api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16,
		Responders: &api.Responders{Index: live, SQL: db, Events: db, Units: live}, Access: benchkit.Access(ctx, db, log)})
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln) //nolint:errcheck // closed below
	defer hs.Close()
	h3 := httpRun("http://"+ln.Addr().String(), "h3", qs, clients, dur)
	pg := httpRun("http://"+ln.Addr().String(), "postgis", qs, clients, dur)
	fmt.Printf("HTTP ratio h3/postgis: %.1f× throughput\n", h3/pg)
	return nil
}

// checkSame asserts both engines give identical ranked lists.
func checkSame(ctx context.Context, live *postgis.Live, db *postgis.DB, qs []geo.Query) error {
	for _, q := range qs {
		a, _, err := live.Nearest(wangge.CityScope(), q)
		if err != nil {
			return err
		}
		b, err := db.NearestExact(ctx, wangge.CityScope(), q)
		if err != nil {
			return err
		}
		if len(a) != len(b) {
			return fmt.Errorf("query %+v: h3 %d results, postgis %d", q, len(a), len(b))
		}
		for i := range a {
			if a[i].Key != b[i].Key {
				return fmt.Errorf("query %+v: rank %d: h3 %v, postgis %v", q, i+1, a[i].Key, b[i].Key)
			}
		}
	}
	fmt.Printf("identical answers h3 vs postgis on %d queries\n", len(qs))
	return nil
}
