// Command tiles benchmarks wangge's vector tiles over a fixed tile list,
// side by side in one run with a naive baseline that issues the
// pg_tileserv-style SQL per tile (ST_AsMVT(ST_AsMVTGeom(...,
// ST_TileEnvelope(z,x,y))), LIMIT 10000, 4 connections) and, when -peer
// is given, with a peer tile server. It reports tiles/s, p50/p99 and
// bytes/tile per layer and zoom.
//
//	DATABASE_URL=$(bin/wangge db url) go run ./bench/tiles
//	go run ./bench/tiles -peer 'http://127.0.0.1:7800/public.{layer}/{z}/{x}/{y}.pbf'
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/tiles"
)

type tileID struct{ z, x, y int }

type job struct {
	layer string
	zooms []int
}

// The DESIGN.md §4 figures: grids z8–z14 and buildings z12–z14, plus the
// composite the wall loads.
var jobs = []job{
	{"grids", []int{10, 11, 12, 14}}, // the grids source starts at z10: below, a core tile exceeds 500 KB
	{"buildings", []int{13, 14}},     // DESIGN.md §4: z12–z14; the source starts at z13
	{"onemap", []int{8, 11, 14, 16}},
}

// centres: the dense core (Yuzhong/Jiangbei) and outskirts (Wanzhou,
// Chengkou) — a fixed list, the same every run.
var centres = [][2]float64{{106.5700, 29.5550}, {106.5300, 29.6000}, {108.4000, 30.8000}, {108.6650, 31.9480}}

func tileList(z int) []tileID {
	seen := map[tileID]bool{}
	var out []tileID
	n := 1 << z
	for _, c := range centres {
		fx := (c[0] + 180) / 360 * float64(n)
		r := c[1] * math.Pi / 180
		fy := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * float64(n)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				t := tileID{z, int(fx) + dx, int(fy) + dy}
				if !seen[t] {
					seen[t] = true
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// baselineSQL is what pg_tileserv issues for a table layer.
var baselineSQL = map[string]string{
	"grids": `SELECT ST_AsMVT(mvtgeom, 'grids', 4096, 'geom') FROM (
		SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.geom, 4096, 256, true) AS geom, t.id, t.code, t.name, t.version
		FROM grids t, (SELECT ST_TileEnvelope($1, $2, $3) AS geom) bounds
		WHERE ST_Intersects(t.geom, ST_Transform(bounds.geom, 4326)) LIMIT 10000) mvtgeom`,
	"buildings": `SELECT ST_AsMVT(mvtgeom, 'buildings', 4096, 'geom') FROM (
		SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.geom, 4096, 256, true) AS geom, t.id, t.grid_code, t.use, t.floors, t.households, t.residents, t.tagged
		FROM buildings t, (SELECT ST_TileEnvelope($1, $2, $3) AS geom) bounds
		WHERE ST_Intersects(t.geom, ST_Transform(bounds.geom, 4326)) LIMIT 10000) mvtgeom`,
}

type result struct {
	lat   []time.Duration
	bytes int64
	wall  time.Duration
	errs  int
}

func (r result) row() string {
	if len(r.lat) == 0 {
		return fmt.Sprintf("%9s %8s %8s %9s", "-", "-", "-", "-")
	}
	q := func(p float64) time.Duration { return benchkit.Pct(r.lat, p) }
	return fmt.Sprintf("%9.1f %8s %8s %9d", r.rate(), q(0.5).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), r.bytes/int64(len(r.lat)))
}

func (r result) rate() float64 { return float64(len(r.lat)) / r.wall.Seconds() }

// run fetches every tile rounds times with conc workers.
func run(ts []tileID, rounds, conc int, fetch func(tileID) (int, error)) result {
	work := make(chan tileID)
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				t0 := time.Now()
				n, err := fetch(t)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if res.errs == 0 {
						fmt.Println("  first error:", err)
					}
					res.errs++
				} else {
					res.lat = append(res.lat, d)
					res.bytes += int64(n)
				}
				mu.Unlock()
			}
		}()
	}
	for range rounds {
		for _, t := range ts {
			work <- t
		}
	}
	close(work)
	wg.Wait()
	res.wall = time.Since(start)
	return res
}

func main() {
	peer := flag.String("peer", "", "peer tile URL template with {layer} {z} {x} {y}, e.g. a pg_tileserv")
	rounds := flag.Int("rounds", 5, "passes over the tile list for the baseline")
	warmRounds := flag.Int("warm-rounds", 100, "passes over the tile list for the warm (cached) measurement: enough for a steady rate, not a 20 ms burst")
	only := flag.String("only", "", "comma-separated layers to run (default: all)")
	conc := flag.Int("c", 4, "concurrent requests (the baseline uses as many connections)")
	flag.Parse()
	ctx := context.Background()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "bench/tiles: set DATABASE_URL to a seeded database (DATABASE_URL=$(bin/wangge db url))")
		os.Exit(2)
	}
	db, err := postgis.Open(ctx, url, 16, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	cfg, _ := pgxpool.ParseConfig(url)
	cfg.MaxConns = int32(*conc)
	base, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer base.Close()
	// New backends pay their catalogue and PROJ set-up on the first tile:
	// warm every connection either side will use, so neither side's first
	// row measures connection start-up.
	for _, p := range []*pgxpool.Pool{db.Pool, base} {
		if err := warmPool(ctx, p, *conc); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	fmt.Printf("wangge tile benchmark: %d workers, %d baseline rounds, %d warm rounds; baseline = pg_tileserv-style SQL per tile (raw bytes); wangge over HTTP (gzip bytes); %s\n", *conc, *rounds, *warmRounds, time.Now().Format(time.RFC3339))
	fmt.Printf("%-9s %3s %5s | %-38s | %-38s | %-38s | %7s %7s\n", "layer", "z", "tiles",
		"baseline  tiles/s      p50      p99  bytes", "wangge cold tiles/s    p50      p99  bytes", "wangge warm tiles/s    p50      p99  bytes", "x cold", "x warm")
	// Tiles are read as a wall does: with a viewer's bearer token.
	if err := benchkit.Login(ctx, db, wangge.RoleViewer); err != nil {
		fmt.Fprintln(os.Stderr, "bench/tiles:", err)
		os.Exit(1)
	}
	access := benchkit.Access(ctx, db, quiet)
	for _, j := range jobs {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), j.layer) {
			continue
		}
		for _, z := range j.zooms {
			ts := tileList(z)
			// A fresh server per row: the cold pass starts from an empty cache.
			svc := tiles.NewService(tiles.NewCatalogue(), db, 512<<20, quiet)
			srv := api.New(api.Deps{Log: quiet, Health: db, MaxBodyBytes: 1 << 20, Tiles: svc, Access: access})
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			hs := &http.Server{Handler: srv.Handler()}
			go hs.Serve(ln)
			conns := newRawPool(ln.Addr().String(), *conc)
			reqs := map[tileID][]byte{}
			for _, t := range ts {
				reqs[t] = benchkit.GetRequest(ln.Addr().String(), fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", j.layer, t.z, t.x, t.y),
					"Accept-Encoding: gzip")
			}
			ours := func(t tileID) (int, error) { return conns.fetch(reqs[t]) }
			var b result
			if q, ok := baselineSQL[j.layer]; ok {
				b = run(ts, *rounds, *conc, func(t tileID) (int, error) {
					var out []byte
					err := base.QueryRow(ctx, q, t.z, t.x, t.y).Scan(&out)
					return len(out), err
				})
			}
			cold := run(ts, 1, *conc, ours)
			warm := run(ts, *warmRounds, *conc, ours)
			xc, xw := "-", "-"
			if len(b.lat) > 0 {
				xc, xw = fmt.Sprintf("%.1f", cold.rate()/b.rate()), fmt.Sprintf("%.1f", warm.rate()/b.rate())
			}
			fmt.Printf("%-9s %3d %5d | %s | %s | %s | %7s %7s\n", j.layer, z, len(ts), b.row(), cold.row(), warm.row(), xc, xw)
			if *peer != "" {
				p := run(ts, *rounds, *conc, func(t tileID) (int, error) {
					u := strings.NewReplacer("{layer}", j.layer, "{z}", fmt.Sprint(t.z), "{x}", fmt.Sprint(t.x), "{y}", fmt.Sprint(t.y)).Replace(*peer)
					return get(client, u)
				})
				fmt.Printf("%-9s %3d %5d | peer %s | wangge warm / peer = %.1f\n", j.layer, z, len(ts), p.row(), warm.rate()/p.rate())
			}
			for _, r := range []result{b, cold, warm} {
				if r.errs > 0 {
					fmt.Printf("  (%d errors)\n", r.errs)
				}
			}
			conns.close()
			_ = hs.Close()
		}
	}
}

// rawPool keeps up to n keep-alive connections to one server for the
// workers of run (benchkit.RawConn: a client cheap enough not to hide the
// server's cached path behind its own cost on a shared 2-core machine).
type rawPool struct {
	addr string
	free chan *benchkit.RawConn
}

func newRawPool(addr string, n int) *rawPool {
	return &rawPool{addr: addr, free: make(chan *benchkit.RawConn, n)}
}

// fetch sends a prepared tile request; 200 and 204 (empty tile) count.
func (p *rawPool) fetch(req []byte) (int, error) {
	var rc *benchkit.RawConn
	select {
	case rc = <-p.free:
	default:
		var err error
		if rc, err = benchkit.DialRaw(p.addr); err != nil {
			return 0, err
		}
	}
	status, n, err := rc.Do(req)
	if err != nil {
		rc.Close()
		return 0, err
	}
	select {
	case p.free <- rc:
	default:
		rc.Close()
	}
	if status != 200 && status != 204 {
		return 0, fmt.Errorf("tile answered %d", status)
	}
	return n, nil
}

func (p *rawPool) close() {
	for {
		select {
		case rc := <-p.free:
			rc.Close()
		default:
			return
		}
	}
}

// warmPool holds n connections of p at once and has each transform a tile
// envelope.
func warmPool(ctx context.Context, p *pgxpool.Pool, n int) error {
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := p.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
		conns = append(conns, c)
		if _, err := c.Exec(ctx, `SELECT ST_Transform(ST_TileEnvelope(10, 815, 423), 4326)`); err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
	}
	return nil
}

func get(c *http.Client, url string) (int, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return int(n), err
}
