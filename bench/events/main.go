// Command events benchmarks incident intake and the live stream: the
// sustained POST /api/v1/events rate with no stream client (the baseline,
// measured in the same run) and with -subs SSE clients connected, spread
// over -replicas `wangge serve` replicas (each its own pool, grid index
// and LISTEN connection, as in production), and the delay from the start
// of a POST to the delivery of its message on every client.
//
//	DATABASE_URL=$(bin/wangge db url) go run ./bench/events
//
// It creates a throwaway database from DATABASE_URL, migrates it, seeds one
// district of the demo city (data.Seed) and drops it at the end.
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
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

type config struct {
	dur      time.Duration
	posters  int
	subs     int
	replicas int
	district string
	scale    float64
	profile  string
	flushers int
	rounds   int
}

func main() {
	var c config
	flag.DurationVar(&c.dur, "dur", 10*time.Second, "intake run per phase, split into -rounds")
	flag.IntVar(&c.rounds, "rounds", 4, "alternations of the two phases (the machine's other load drifts; alternating spreads it over both)")
	flag.IntVar(&c.posters, "posters", 32, "concurrent POST clients")
	flag.IntVar(&c.subs, "subs", 100, "SSE clients in the second phase")
	flag.IntVar(&c.replicas, "replicas", 2, "server replicas (posts and clients spread round-robin)")
	flag.StringVar(&c.district, "district", "500103", "district of the demo city to seed")
	flag.Float64Var(&c.scale, "scale", 0.01, "seed scale")
	flag.IntVar(&c.flushers, "flushers", 1, "concurrent intake batches per replica (group commit)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the run with clients here")
	flag.Parse()
	c.profile = *prof
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// replica is one in-process `wangge serve`.
type replica struct {
	url    string
	stream *api.Stream
	writer *postgis.EventWriter
}

func run(c config) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, dbURL, cleanup, err := benchkit.Throwaway(ctx, "wangge_bench_events", 8, false, log)
	if err != nil {
		return err
	}
	defer cleanup()
	t0 := time.Now()
	if _, err := data.Seed(ctx, db, data.Options{Scale: c.scale, Seed: 1, Districts: []string{c.district}, Now: time.Now()}, log); err != nil {
		return err
	}
	pts, err := gridPoints(ctx, db, 2000)
	if err != nil {
		return err
	}
	// Posters report and walls watch as a city-level commander would.
	if err := benchkit.Login(ctx, db, wangge.RoleCommander); err != nil {
		return err
	}
	fmt.Printf("seeded district %s (scale %v) in %v; %d intake points inside its grids\n",
		c.district, c.scale, time.Since(t0).Round(time.Millisecond), len(pts))

	var rs []replica
	for range c.replicas {
		r, err := startReplica(ctx, dbURL, log, c.flushers)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	fmt.Printf("%d replicas, %d posters, %v per phase in %d alternating rounds, GOMAXPROCS %d\n\n",
		c.replicas, c.posters, c.dur, c.rounds, numCPU())

	if c.profile != "" {
		f, err := os.Create(c.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	round := c
	round.dur = c.dur / time.Duration(max(1, c.rounds))
	var without, with []result
	for range max(1, c.rounds) {
		without = append(without, intake(rs, pts, round, 0))
		with = append(with, intake(rs, pts, round, c.subs))
	}
	noSubs, withSubs := merge(without), merge(with)
	printTable(c, noSubs, withSubs)
	var b, n int64
	for _, r := range rs {
		bb, nn := r.writer.Stats()
		b, n = b+bb, n+nn
	}
	if b > 0 {
		fmt.Printf("group commit: %d events in %d batches (%.1f per commit)\n", n, b, float64(n)/float64(b))
	}
	return nil
}

func startReplica(ctx context.Context, dbURL string, log *slog.Logger, flushers int) (replica, error) {
	db, err := postgis.Open(ctx, dbURL, 24, 10*time.Second)
	if err != nil {
		return replica{}, err
	}
	loc, err := db.StartLocator(ctx, log)
	if err != nil {
		return replica{}, err
	}
	w := db.NewEventWriter(log, flushers, 512)
	go w.Run(ctx)
	st := api.NewStream(api.StreamOptions{})
	ready := make(chan struct{})
	go st.Follow(ctx, db, log, ready)
	<-ready
	srv := api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20,
		Events: &api.Events{Store: postgis.BatchedEvents{DB: db, Writer: w}, Locate: loc}, Stream: st,
		Access: benchkit.Access(ctx, db, log)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return replica{}, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() { <-ctx.Done(); st.Close(); _ = hs.Close() }()
	return replica{url: "http://" + ln.Addr().String(), stream: st, writer: w}, nil
}

// gridPoints picks points inside active grids.
func gridPoints(ctx context.Context, db *postgis.DB, n int) ([][2]float64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids
		WHERE status = 'active' ORDER BY code LIMIT $1) t`, n)
	if err != nil {
		return nil, err
	}
	var (
		out  [][2]float64
		x, y float64
	)
	_, err = pgx.ForEachRow(rows, []any{&x, &y}, func() error { out = append(out, [2]float64{x, y}); return nil })
	if len(out) == 0 && err == nil {
		err = fmt.Errorf("no active grids")
	}
	return out, err
}
