// Command abuse is issue #18's "must show": 16 clients on the most
// expensive reads while a reporter posts an incident every 100 ms, against
// a real `wangge serve` (with its limits, then with -limits=false in the
// same run). It reports intake and health latency and the server's RSS.
//
//	DATABASE_URL=$(bin/wangge db url) go run ./bench/abuse [-bin bin/wangge] [-dur 30s] [-clients 16]
//
// It seeds a throwaway city (-scale, -districts) or uses -database-url's
// seeded one, creates its own accounts, and only talks to 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

type options struct {
	bin, dbURL, districts string
	scale                 float64
	dur                   time.Duration
	clients               int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/wangge", "the wangge binary to serve with")
	flag.StringVar(&o.dbURL, "database-url", "", "a seeded database to use instead of a throwaway one")
	flag.StringVar(&o.districts, "districts", "500103,500105", "districts to seed (throwaway city)")
	flag.Float64Var(&o.scale, "scale", 0.1, "seed scale (throwaway city)")
	flag.DurationVar(&o.dur, "dur", 30*time.Second, "abuse per run")
	flag.IntVar(&o.clients, "clients", 16, "abusive clients (one address, one token)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/abuse:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var db *postgis.DB
	dbURL := o.dbURL
	if dbURL == "" {
		var cleanup func()
		var err error
		db, dbURL, cleanup, err = benchkit.Throwaway(ctx, "wangge_bench_abuse", 8, false, log)
		if err != nil {
			return err
		}
		defer cleanup()
		t0 := time.Now()
		if _, err := data.Seed(ctx, db, data.Options{Scale: o.scale, Seed: 1, Districts: strings.Split(o.districts, ","), Now: time.Now()}, log); err != nil {
			return err
		}
		fmt.Printf("seeded %s at scale %v in %v\n", o.districts, o.scale, time.Since(t0).Round(time.Second))
	} else {
		var err error
		if db, err = postgis.Open(ctx, dbURL, 4, 10*time.Second); err != nil {
			return err
		}
		defer db.Close()
	}
	reader, err := benchkit.Token(ctx, db, wangge.RoleCommander, nil)
	if err != nil {
		return err
	}
	reporter, err := benchkit.Token(ctx, db, wangge.RoleCommander, nil)
	if err != nil {
		return err
	}
	var district string
	var lon, lat float64
	if err := db.Pool.QueryRow(ctx, `SELECT substr(code, 1, 6), ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
		FROM grids WHERE status = 'active' ORDER BY code LIMIT 1`).Scan(&district, &lon, &lat); err != nil {
		return fmt.Errorf("a grid to report in: %w", err)
	}
	expensive := []string{"/api/v1/search?q=a", "/api/v1/search?q=" + url.QueryEscape("街道"),
		"/api/v1/collections/events/items?limit=1", "/api/v1/collections/events/items?limit=1000",
		"/api/v1/kpi", "/api/v1/regions/" + district, "/api/v1/stats?level=grid&metric=closure_rate",
		"/api/v1/collections/residents/items", "/api/v1/events?limit=1000"}
	fmt.Printf("%d clients × %v on %d costly reads, a report every 100 ms, 1 health check every 50 ms\n\n",
		o.clients, o.dur, len(expensive))
	fmt.Println("run            intake n  p50      p99      max      failed | health p50  p99     | reads/s  429s   | RSS max")
	for _, limits := range []bool{true, false} {
		r, err := abuse(ctx, o, dbURL, limits, reader, reporter, expensive, lon, lat)
		if err != nil {
			return err
		}
		name := "limits on "
		if !limits {
			name = "limits off"
		}
		fmt.Printf("%-14s %8d  %-8s %-8s %-8s %6d | %-10s %-7s | %7.0f  %6d | %d MiB\n", name, len(r.intake),
			ms(benchkit.Pct(r.intake, 0.5)), ms(benchkit.Pct(r.intake, 0.99)), ms(benchkit.Pct(r.intake, 1)), r.intakeFailed,
			ms(benchkit.Pct(r.health, 0.5)), ms(benchkit.Pct(r.health, 0.99)), float64(r.reads)/o.dur.Seconds(), r.limited, r.rssMax>>20)
	}
	fmt.Println("\ntargets (DESIGN.md §4): intake p99 < 250 ms, health p99 < 50 ms with the limits on")
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

type result struct {
	intake, health []time.Duration
	intakeFailed   int
	reads, limited int64
	rssMax         int64
}

var servingRE = regexp.MustCompile(`msg=serving url=(http://\S+)`)

// serve starts the binary on a free port and returns its URL and pid.
func serve(o options, dbURL string, limits bool) (string, *exec.Cmd, error) {
	cmd := exec.Command(o.bin, "serve", "-addr", "127.0.0.1:0", "-tile-warm-zoom", "-1", "-limits="+strconv.FormatBool(limits))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "WANGGE_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", o.bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u, cmd, nil
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return "", nil, fmt.Errorf("server did not start in 60 s")
	}
}

func abuse(ctx context.Context, o options, dbURL string, limits bool, reader, reporter string, expensive []string, lon, lat float64) (result, error) {
	var r result
	base, cmd, err := serve(o, dbURL, limits)
	if err != nil {
		return r, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ctx, cancel := context.WithTimeout(ctx, o.dur)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients + 4}, Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	var reads, limited atomic.Int64
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; ctx.Err() == nil; j++ {
				st, _ := do(ctx, hc, "GET", base+expensive[j%len(expensive)], "", reader)
				if st == http.StatusTooManyRequests {
					limited.Add(1)
					time.Sleep(100 * time.Millisecond) // a careless client still backs off a little
				} else if st != 0 {
					reads.Add(1)
				}
			}
		}()
	}
	var mu sync.Mutex
	wg.Add(3)
	go func() { // the reporter: one incident every 100 ms
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			body := fmt.Sprintf(`{"category":"noise","location":{"lon":%v,"lat":%v},"description":"bench %d","source":"patrol"}`, lon, lat, n)
			start := time.Now()
			st, err := do(context.Background(), hc, "POST", base+"/api/v1/events", body, reporter)
			d := time.Since(start)
			mu.Lock()
			if err != nil || st != http.StatusCreated {
				r.intakeFailed++
			} else {
				r.intake = append(r.intake, d)
			}
			mu.Unlock()
		}
	}()
	go func() { // health, as a load balancer checks it
		defer wg.Done()
		for ctx.Err() == nil {
			start := time.Now()
			if st, _ := do(context.Background(), hc, "GET", base+"/healthz", "", ""); st == 200 {
				mu.Lock()
				r.health = append(r.health, time.Since(start))
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	go func() { // the server's resident memory
		defer wg.Done()
		for ctx.Err() == nil {
			if rss := rssOf(cmd.Process.Pid); rss > r.rssMax {
				mu.Lock()
				r.rssMax = rss
				mu.Unlock()
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	wg.Wait()
	r.reads, r.limited = reads.Load(), limited.Load()
	slices.Sort(r.intake)
	slices.Sort(r.health)
	return r, nil
}

// do sends one request with a token ("" none) and drains the answer.
func do(ctx context.Context, hc *http.Client, method, u, body, tok string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// rssOf reads VmRSS of a process from /proc, in bytes.
func rssOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
