// Command locate benchmarks point → grid locate: the in-memory grid index
// (geo.GridIndex behind postgis.Locator) against the same lookup done by
// PostGIS (ST_Covers on the GiST index, lowest code first), side by side
// in one run:
//
//   - answers: a sample of points located by both, which must agree on
//     every one;
//
//   - in process: Locate latency and throughput, LocateBatch points/s;
//
//   - HTTP: GET /api/v1/locate through one server, ?engine=index against
//     ?engine=postgis, throughput and p50/p99, and two floors: GET
//     /healthz (a route that does nothing) and a bare gin server; their
//     rates over the PostGIS engine's bound the ratio any locate could
//     reach over HTTP here;
//
//   - batch: POST /api/v1/locate with 10,000 points against one SQL
//     statement locating the same 10,000 points (unnest + ST_Covers).
//
//     DATABASE_URL=$(bin/wangge db url) go run ./bench/locate
//
// It reads the database at DATABASE_URL when that holds grids (the demo
// city of `make run`), writing nothing; with -seed, or when there are no
// grids, it seeds a throwaway database with data.Seed (-scale,
// -districts) and drops it at the end.
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
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

type options struct {
	seed      bool
	scale     float64
	districts string
	points    int
	check     int
	clients   int
	dur       time.Duration
	batches   int
	rounds    int
	profile   string
}

func main() {
	var o options
	flag.BoolVar(&o.seed, "seed", false, "seed a throwaway database instead of reading DATABASE_URL's grids")
	flag.Float64Var(&o.scale, "scale", 0.05, "seed scale (with -seed)")
	flag.StringVar(&o.districts, "districts", "500103,500105,500112,500229", "districts to seed (with -seed; empty: all)")
	flag.IntVar(&o.points, "points", 50_000, "query points (fixed seed)")
	flag.IntVar(&o.check, "check", 10_000, "points checked against PostGIS before timing")
	flag.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients")
	flag.DurationVar(&o.dur, "http", time.Second, "HTTP run per engine and round")
	flag.IntVar(&o.rounds, "rounds", 8, "alternating rounds of the two engines")
	flag.IntVar(&o.batches, "batches", 20, "10,000-point batches per batch measurement")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		return fmt.Errorf("DATABASE_URL is not set")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := postgis.Open(ctx, base, 32, 10*time.Second)
	if err != nil {
		return err
	}
	defer db.Close()
	var grids int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM grids WHERE status = 'active'`).Scan(&grids); err != nil {
		grids = 0 // no schema yet: seed
	}
	if o.seed || grids == 0 {
		db.Close()
		var cleanup func()
		if db, _, cleanup, err = benchkit.Throwaway(ctx, "wangge_bench_locate", 32, false, log); err != nil {
			return err
		}
		defer cleanup()
		opts := data.Options{Scale: o.scale, Seed: 42, Now: time.Now()}
		if o.districts != "" {
			opts.Districts = strings.Split(o.districts, ",")
		}
		t0 := time.Now()
		if _, err := data.Seed(ctx, db, opts, log); err != nil {
			return err
		}
		fmt.Printf("seeded a throwaway city (scale %g, districts %q) in %v\n", o.scale, o.districts, time.Since(t0).Round(time.Second))
	} else {
		fmt.Printf("reading the city at DATABASE_URL (%d active grids; nothing is written)\n", grids)
	}

	t0 := time.Now()
	loc, err := db.NewLocator(ctx, log)
	if err != nil {
		return err
	}
	fmt.Printf("index loaded from PostGIS in %v: %d grids in %d H3 cells\n", time.Since(t0).Round(time.Millisecond),
		loc.Index.Len(), loc.Index.Cells())
	pts, err := queryPoints(ctx, db, o.points)
	if err != nil {
		return err
	}
	if err := checkSame(ctx, db, loc, pts[:min(o.check, len(pts))]); err != nil {
		return err
	}

	var t table
	inProcess(&t, loc, pts)
	direct := sqlRun(ctx, db, pts, o.clients, o.dur)
	t.rows[0].postgis, t.rows[0].ratio = direct, t.rows[0].index/direct

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := benchkit.Login(ctx, db, wangge.RoleViewer); err != nil {
		return err
	}
	srv := api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 8 << 20, Query: &api.Query{Locator: loc, LocateSQL: db},
		Access: benchkit.Access(ctx, db, log)})
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln) //nolint:errcheck // closed below
	defer hs.Close()
	addr := ln.Addr().String()
	bare, err := bareServer()
	if err != nil {
		return err
	}
	defer bare.Close()
	httpRounds(&t, addr, bare.Addr, pts, o.clients, o.rounds, o.dur)
	if err := batchRounds(ctx, &t, "http://"+addr, db, pts, min(o.rounds, 3), o.batches); err != nil {
		return err
	}
	t.print()
	return nil
}

// bareServer is gin with one route answering a fixed locate-sized body and
// no middleware: what HTTP alone costs on this machine.
func bareServer() (*http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	body := []byte(`{"lon":106.57,"lat":29.555,"crs":"wgs84","engine":"index","grid":{"code":"500103004002002","name":"第2网格"},` +
		`"community":{"code":"500103004002","name":"中山二路社区居民委员会"},"street":{"code":"500103004","name":"两路口街道"},` +
		`"district":{"code":"500103","name":"渝中区"},"worker":null}`)
	r.GET("/bare", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", body) })
	hs := &http.Server{Handler: r, Addr: ln.Addr().String()}
	go hs.Serve(ln) //nolint:errcheck // closed by the caller
	return hs, nil
}
