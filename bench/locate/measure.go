package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/postgis"
)

// queryPoints is n points, fixed seed: 70% within ~300 m of a random
// building (where people report from), 30% anywhere in the districts'
// extent grown by 5% (outskirts, rivers, outside the city).
func queryPoints(ctx context.Context, db *postgis.DB, n int) ([]orb.Point, error) {
	var ext orb.Bound
	if err := db.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(geom) AS e FROM regions WHERE level = 'district') r`).
		Scan(&ext.Min[0], &ext.Min[1], &ext.Max[0], &ext.Max[1]); err != nil {
		return nil, fmt.Errorf("extent: %w", err)
	}
	ext = ext.Pad(0.05 * (ext.Max[0] - ext.Min[0]))
	rows, err := db.Pool.Query(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) AS c FROM buildings
		ORDER BY hashint8(id) LIMIT 20000) b`)
	if err != nil {
		return nil, fmt.Errorf("buildings: %w", err)
	}
	var near []orb.Point
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		near = append(near, p)
	}
	rows.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	pts := make([]orb.Point, n)
	for i := range pts {
		if len(near) > 0 && rng.IntN(10) < 7 {
			p := near[rng.IntN(len(near))]
			pts[i] = orb.Point{p[0] + rng.NormFloat64()*0.003, p[1] + rng.NormFloat64()*0.003}
		} else {
			pts[i] = orb.Point{ext.Min[0] + rng.Float64()*(ext.Max[0]-ext.Min[0]), ext.Min[1] + rng.Float64()*(ext.Max[1]-ext.Min[1])}
		}
	}
	return pts, nil
}

// sqlLocate is the PostGIS answer for many points in one statement: the
// lowest active grid code covering each, "" for none.
const sqlLocate = `SELECT coalesce((SELECT code FROM grids
	WHERE status = 'active' AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(x, y), 4326)) ORDER BY code LIMIT 1), '')
	FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) ORDER BY i`

func locateSQL(ctx context.Context, db *postgis.DB, pts []orb.Point) ([]string, error) {
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := db.Pool.Query(ctx, sqlLocate, xs, ys)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// checkSame fails unless the index and PostGIS agree on every point.
func checkSame(ctx context.Context, db *postgis.DB, loc *postgis.Locator, pts []orb.Point) error {
	want, err := locateSQL(ctx, db, pts)
	if err != nil {
		return err
	}
	got := loc.LocateBatch(pts)
	in := 0
	for i := range pts {
		g := ""
		if got[i] != nil {
			g = got[i].Grid.Code
			in++
		}
		if g != want[i] {
			return fmt.Errorf("point %v: index %q, PostGIS %q", pts[i], g, want[i])
		}
	}
	fmt.Printf("answers: index and PostGIS ST_Covers agree on all %d points (%d inside a grid, %d outside)\n",
		len(pts), in, len(pts)-in)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// inProcess reports Locate latency (one goroutine) and throughput (all
// cores), and LocateBatch over 10,000-point batches.
func inProcess(t *table, loc *postgis.Locator, pts []orb.Point) {
	ds := make([]time.Duration, len(pts))
	for i, p := range pts {
		s := time.Now()
		loc.Locate(p[0], p[1])
		ds[i] = time.Since(s)
	}
	qps := benchkit.Parallel(4*len(pts), func(i int) { p := pts[i%len(pts)]; loc.Locate(p[0], p[1]) })
	fmt.Printf("in-process Locate: p50 %.2f µs, p99 %.2f µs, %.0f/s on %d cores\n",
		ms(benchkit.Pct(ds, .5))*1000, ms(benchkit.Pct(ds, .99))*1000, qps, runtime.GOMAXPROCS(0))
	const size = 10_000
	nb := len(pts) / size
	bps := benchkit.Parallel(4*nb, func(i int) { loc.LocateBatch(pts[(i%nb)*size : (i%nb+1)*size]) }) * size
	fmt.Printf("in-process LocateBatch: %.0f points/s on %d cores\n", bps, runtime.GOMAXPROCS(0))
	t.add("lookup alone: in-process Locate vs SQL, q/s", qps, 0, 0)
	t.add("in-process LocateBatch, points/s", bps, 0, 0)
}

// phase is one timed run of one engine.
type phase struct {
	n, outside, errs int64
	ds               []time.Duration
	elapsed          time.Duration
}

func (p phase) qps() float64 { return float64(p.n) / p.elapsed.Seconds() }

// locateRequests are the GET requests of every point for one engine.
func locateRequests(addr, engine string, pts []orb.Point) [][]byte {
	reqs := make([][]byte, min(len(pts), 20_000))
	for i := range reqs {
		reqs[i] = benchkit.GetRequest(addr, fmt.Sprintf("/api/v1/locate?lon=%v&lat=%v&engine=%s", pts[i][0], pts[i][1], engine))
	}
	return reqs
}

// httpPhase drives GET /api/v1/locate with clients concurrent keep-alive
// connections (benchkit.RawConn) for dur, starting at request offset from.
func httpPhase(addr string, reqs [][]byte, from, clients int, dur time.Duration) phase {
	var (
		mu       sync.Mutex
		out      phase
		errs, nf atomic.Int64
		wg       sync.WaitGroup
		deadline = time.Now().Add(dur)
		start    = time.Now()
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rc, err := benchkit.DialRaw(addr)
			if err != nil {
				errs.Add(1)
				return
			}
			defer rc.Close()
			ds := make([]time.Duration, 0, 1<<12)
			for i := from + c; time.Now().Before(deadline); i += clients {
				s := time.Now()
				status, _, err := rc.Do(reqs[i%len(reqs)])
				if err != nil {
					errs.Add(1)
					return
				}
				switch status {
				case 200:
				case 404:
					nf.Add(1) // outside the city: an answer too
				default:
					errs.Add(1)
					continue
				}
				ds = append(ds, time.Since(s))
			}
			mu.Lock()
			out.ds = append(out.ds, ds...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	out.elapsed, out.n, out.outside, out.errs = time.Since(start), int64(len(out.ds)), nf.Load(), errs.Load()
	return out
}

// sqlRun is the lookup alone in PostGIS, without HTTP: one ST_Covers
// query per point from clients goroutines for dur; it returns queries/s.
func sqlRun(ctx context.Context, db *postgis.DB, pts []orb.Point, clients int, dur time.Duration) float64 {
	var n, errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i += clients {
				p := pts[i%len(pts)]
				var code string
				err := db.Pool.QueryRow(ctx, `SELECT code FROM grids WHERE status = 'active'
					AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1`, p[0], p[1]).Scan(&code)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					errs.Add(1)
					continue
				}
				n.Add(1)
			}
		}(c)
	}
	wg.Wait()
	qps := float64(n.Load()) / time.Since(start).Seconds()
	fmt.Printf("SQL direct:       %8.0f q/s (ST_Covers, %d clients, %v, %d errors)\n", qps, clients, dur, errs.Load())
	return qps
}

// batchHTTP posts 10,000-point batches from two clients and returns points/s.
func batchHTTP(base string, pts []orb.Point, batches int) float64 {
	const size = 10_000
	var bodies [][]byte
	for i := 0; i+size <= len(pts); i += size {
		pairs := make([][2]float64, size)
		for j := range pairs {
			pairs[j] = [2]float64{pts[i+j][0], pts[i+j][1]}
		}
		b, _ := json.Marshal(map[string]any{"points": pairs})
		bodies = append(bodies, b)
	}
	var errs atomic.Int64
	start := time.Now()
	rate := benchkit.Parallel(batches, func(i int) {
		res, err := http.Post(base+"/api/v1/locate", "application/json", bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			errs.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			errs.Add(1)
		}
	}) * size
	fmt.Printf("HTTP POST batch:  %d × 10,000 points in %v, %.0f points/s (%d errors)\n", batches,
		time.Since(start).Round(time.Millisecond), rate, errs.Load())
	return rate
}

// batchSQL locates 10,000-point batches with one statement each and
// returns points/s.
func batchSQL(ctx context.Context, db *postgis.DB, pts []orb.Point, batches int) (float64, error) {
	const size = 10_000
	var firstErr error
	var once sync.Once
	start := time.Now()
	rate := benchkit.Parallel(batches, func(i int) {
		j := (i * size) % (len(pts) - size + 1)
		if _, err := locateSQL(ctx, db, pts[j:j+size]); err != nil {
			once.Do(func() { firstErr = err })
		}
	}) * size
	fmt.Printf("SQL batch:        %d × 10,000 points in %v, %.0f points/s\n", batches, time.Since(start).Round(time.Millisecond), rate)
	return rate, firstErr
}

// table collects the summary rows.
type table struct{ rows []row }

type row struct {
	what           string
	index, postgis float64
	ratio          float64
}

func (t *table) add(what string, index, pg, ratio float64) {
	t.rows = append(t.rows, row{what, index, pg, ratio})
}

func (t *table) print() {
	fmt.Printf("\n| %-50s | %12s | %12s | %8s |\n", "measure", "index", "PostGIS", "ratio")
	fmt.Printf("|%s|%s|%s|%s|\n", dashes(52), dashes(14), dashes(14), dashes(10))
	for _, r := range t.rows {
		pg, ratio := "—", "—"
		if r.postgis > 0 {
			pg, ratio = num(r.postgis), fmt.Sprintf("%.1f×", r.ratio)
		}
		fmt.Printf("| %-50s | %12s | %12s | %8s |\n", r.what, num(r.index), pg, ratio)
	}
}

func num(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func dashes(n int) string { return string(bytes.Repeat([]byte("-"), n)) }
