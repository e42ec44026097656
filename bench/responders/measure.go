package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// inProcess reports single-goroutine latency percentiles and the
// all-cores throughput of Index.Nearest, unfiltered and filtered.
func inProcess(ix *geo.Index, qs []geo.Query, n int) {
	variants := []struct {
		name string
		edit func(*geo.Query)
	}{
		{"k=5", func(*geo.Query) {}},
		{"k=5 kind=fire (rare)", func(q *geo.Query) { q.Kinds = []geo.Kind{geo.KindFire} }},
		{"k=5 available patrol", func(q *geo.Query) {
			q.Kinds, q.Statuses = []geo.Kind{geo.KindPatrol}, []geo.Status{geo.StatusAvailable}
		}},
	}
	for _, v := range variants {
		ds := make([]time.Duration, n)
		start := time.Now()
		for i := range ds {
			q := qs[i%len(qs)]
			v.edit(&q)
			t := time.Now()
			_, _, _ = ix.Nearest(q)
			ds[i] = time.Since(t)
		}
		qps := float64(n) / time.Since(start).Seconds()
		par := benchkit.Parallel(n, func(i int) {
			q := qs[i%len(qs)]
			v.edit(&q)
			_, _, _ = ix.Nearest(q)
		})
		fmt.Printf("in-process %-22s p50 %6.1f µs  p99 %6.1f µs  max %7.1f µs  %8.0f q/s (1 goroutine)  %8.0f q/s (%d cores)\n",
			v.name, us(benchkit.Pct(ds, .5)), us(benchkit.Pct(ds, .99)), us(benchkit.Pct(ds, 1)), qps, par, runtime.GOMAXPROCS(0))
	}
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// moves reports position updates per second through Live.MoveUnit (index
// check and apply, enqueue for the batched writer), all cores.
func moves(live *postgis.Live, rs []geo.Responder, n int) {
	var units []geo.Responder
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			units = append(units, r)
		}
	}
	rate := benchkit.Parallel(n, func(i int) {
		u := units[i%len(units)]
		at := u.PositionAt.Add(time.Duration(i+1) * time.Millisecond)
		_, _ = live.MoveUnit(context.Background(), wangge.CityScope(), u.Key.ID, u.Lon+float64(i%100)*1e-5, u.Lat, "", at)
	})
	fmt.Printf("in-process position updates: %.0f/s over %d units (%d cores)\n", rate, len(units), runtime.GOMAXPROCS(0))
}

// httpRun drives GET /api/v1/responders/nearest with clients concurrent
// clients for dur and returns the throughput.
func httpRun(base, engine string, qs []geo.Query, clients int, dur time.Duration) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	benchkit.Authorize(hc, benchkit.AuthToken)
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var ds []time.Duration
			for i := c; time.Now().Before(deadline); i += clients {
				q := qs[i%len(qs)]
				u := fmt.Sprintf("%s/api/v1/responders/nearest?lon=%v&lat=%v&k=%d&engine=%s", base, q.Lon, q.Lat, q.K, engine)
				t := time.Now()
				res, err := hc.Get(u)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				ds = append(ds, time.Since(t))
			}
			mu.Lock()
			all = append(all, ds...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	qps := float64(len(all)) / time.Since(start).Seconds()
	if len(all) == 0 {
		fmt.Printf("HTTP %-8s no successful request (%d errors)\n", engine, errs.Load())
		return 1
	}
	fmt.Printf("HTTP %-8s %8.0f q/s  p50 %7.2f ms  p99 %7.2f ms  (%d requests, %d errors, %d clients, %v)\n",
		engine, qps, us(benchkit.Pct(all, .5))/1000, us(benchkit.Pct(all, .99))/1000, len(all), errs.Load(), clients, dur)
	return qps
}
