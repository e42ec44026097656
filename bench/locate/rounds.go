package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/postgis"
)

// The machine is shared and its load drifts by the second, so the two
// engines run in alternating rounds and each round gives a ratio; the
// table reports totals and the median of the per-round ratios.

type engineTotals struct {
	n, outside, errs int64
	ds               []time.Duration
	elapsed          time.Duration
}

func (e *engineTotals) add(p phase) {
	e.n += p.n
	e.outside += p.outside
	e.errs += p.errs
	e.ds = append(e.ds, p.ds...)
	e.elapsed += p.elapsed
}

func (e *engineTotals) qps() float64 { return float64(e.n) / e.elapsed.Seconds() }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// httpRounds alternates GET /locate rounds of the two engines.
func httpRounds(t *table, addr, bareAddr string, pts []orb.Point, clients, rounds int, dur time.Duration) {
	reqs := map[string][][]byte{"index": locateRequests(addr, "index", pts), "postgis": locateRequests(addr, "postgis", pts)}
	// The floors: /healthz through the same server, middleware and
	// clients does no work of its own, so no route can be faster; a bare
	// gin server answering a fixed body is the floor of HTTP itself.
	// floor/postgis bounds the ratio any GET /locate could reach here.
	floorReq := [][]byte{benchkit.GetRequest(addr, "/healthz")}
	bareReq := [][]byte{benchkit.GetRequest(bareAddr, "/bare")}
	var idx, pg, floor, bare engineTotals
	var ratios, bounds, bareBounds []float64
	for r := 0; r < rounds; r++ {
		from := r * clients * 64
		a := httpPhase(addr, reqs["index"], from, clients, dur)
		b := httpPhase(addr, reqs["postgis"], from, clients, dur)
		f := httpPhase(addr, floorReq, 0, clients, dur/2)
		g := httpPhase(bareAddr, bareReq, 0, clients, dur/2)
		idx.add(a)
		pg.add(b)
		floor.add(f)
		bare.add(g)
		ratios, bounds, bareBounds = append(ratios, a.qps()/b.qps()), append(bounds, f.qps()/b.qps()), append(bareBounds, g.qps()/b.qps())
		fmt.Printf("round %d: GET index %6.0f q/s, postgis %6.0f q/s, ratio %.1f× (floor /healthz %6.0f q/s, bound %.1f×; bare gin %6.0f q/s, %.1f×)\n",
			r+1, a.qps(), b.qps(), a.qps()/b.qps(), f.qps(), f.qps()/b.qps(), g.qps(), g.qps()/b.qps())
	}
	t.add("bare gin, fixed body, no middleware: q/s (bound)", bare.qps(), pg.qps(), median(bareBounds))
	t.add("GET /healthz, the HTTP floor: q/s (bound on the ratio)", floor.qps(), pg.qps(), median(bounds))
	for _, e := range []struct {
		name string
		t    *engineTotals
	}{{"index", &idx}, {"postgis", &pg}} {
		fmt.Printf("HTTP GET  %-8s %8.0f q/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d outside, %d errors, %d clients, %d × %v)\n",
			e.name, e.t.qps(), ms(benchkit.Pct(e.t.ds, .5)), ms(benchkit.Pct(e.t.ds, .99)), e.t.n, e.t.outside, e.t.errs, clients, rounds, dur)
	}
	t.add("GET /locate, q/s (median round ratio)", idx.qps(), pg.qps(), median(ratios))
	i50, p50 := ms(benchkit.Pct(idx.ds, .5)), ms(benchkit.Pct(pg.ds, .5))
	i99, p99 := ms(benchkit.Pct(idx.ds, .99)), ms(benchkit.Pct(pg.ds, .99))
	t.add("GET /locate p50, ms", i50, p50, p50/i50)
	t.add("GET /locate p99, ms", i99, p99, p99/i99)
}

// batchRounds alternates 10,000-point batches over HTTP with one SQL
// statement locating the same points.
func batchRounds(ctx context.Context, t *table, base string, db *postgis.DB, pts []orb.Point, rounds, batches int) error {
	var hs, ss, ratios []float64
	for r := 0; r < rounds; r++ {
		h := batchHTTP(base, pts, batches)
		s, err := batchSQL(ctx, db, pts, max(batches/4, 2))
		if err != nil {
			return err
		}
		hs, ss, ratios = append(hs, h), append(ss, s), append(ratios, h/s)
	}
	t.add("batch of 10,000 via HTTP POST vs one SQL, points/s", median(hs), median(ss), median(ratios))
	return nil
}
