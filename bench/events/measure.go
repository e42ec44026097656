package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge/bench/internal/benchkit"
)

func numCPU() int { return runtime.GOMAXPROCS(0) }

// result is one phase's figures.
type result struct {
	subs               int
	events, errors     int
	elapsed            time.Duration
	posts, delays      []time.Duration // raw samples, for merging rounds
	rate               float64
	postP50, postP99   time.Duration
	delivered, missing int64
	delayP50, delayP99 time.Duration
	delayMax           time.Duration
	cutOff             int
}

// starts[n] is when POST n began (unix ns); the message's description
// carries n, so a client can time its delivery without decoding JSON.
var (
	starts  = make([]atomic.Int64, 1<<22)
	counter atomic.Int64
)

var categories = []string{"sanitation", "noise", "illegal_parking", "street_light", "road_damage", "fire_alarm"}

func intake(rs []replica, pts [][2]float64, c config, subs int) result {
	res := result{subs: subs}
	var (
		wg      sync.WaitGroup
		clients []*client
	)
	for i := range subs {
		cl := &client{}
		clients = append(clients, cl)
		wg.Add(1)
		go func() { defer wg.Done(); cl.run(rs[i%len(rs)].url + "/api/v1/stream?kinds=event") }()
	}
	for deadline := time.Now().Add(10 * time.Second); connected(rs) < subs && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	first := counter.Load() + 1

	tr := &http.Transport{MaxIdleConnsPerHost: c.posters, MaxConnsPerHost: c.posters}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	benchkit.Authorize(hc, benchkit.AuthToken)
	lat := make([][]time.Duration, c.posters)
	errs := make([]int, c.posters)
	var pw sync.WaitGroup
	start := time.Now()
	stop := start.Add(c.dur)
	for p := range c.posters {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for time.Now().Before(stop) {
				n := counter.Add(1)
				pt := pts[int(n)%len(pts)]
				body := fmt.Sprintf(`{"category":%q,"location":{"lon":%v,"lat":%v},"description":"~bench %d","source":"staff"}`,
					categories[int(n)%len(categories)], pt[0], pt[1], n)
				t0 := time.Now()
				starts[n%int64(len(starts))].Store(t0.UnixNano())
				resp, err := hc.Post(rs[int(n)%len(rs)].url+"/api/v1/events", "application/json", strings.NewReader(body))
				if err != nil {
					errs[p]++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs[p]++
					continue
				}
				lat[p] = append(lat[p], time.Since(t0))
			}
		}()
	}
	pw.Wait()
	elapsed := time.Since(start)
	last := counter.Load()
	tr.CloseIdleConnections()

	var all []time.Duration
	for p := range lat {
		all = append(all, lat[p]...)
		res.errors += errs[p]
	}
	res.events, res.elapsed, res.posts = len(all), elapsed, all

	// Let the last messages arrive, then stop the clients.
	want := int64(res.events)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		done := true
		for _, cl := range clients {
			if cl.count(first, last) < want {
				done = false
				break
			}
		}
		if done {
			break
		}
	}
	var delays []time.Duration
	for _, cl := range clients {
		cl.close()
	}
	wg.Wait()
	for _, cl := range clients {
		got := cl.count(first, last)
		res.delivered += got
		res.missing += max(0, want-got)
		if cl.cut {
			res.cutOff++
		}
		delays = append(delays, cl.delays...)
	}
	res.delays = delays
	return res
}

// merge adds up rounds of one phase and computes its figures.
func merge(rounds []result) result {
	var m result
	for _, r := range rounds {
		m.subs = r.subs
		m.events += r.events
		m.errors += r.errors
		m.elapsed += r.elapsed
		m.posts = append(m.posts, r.posts...)
		m.delays = append(m.delays, r.delays...)
		m.delivered += r.delivered
		m.missing += r.missing
		m.cutOff += r.cutOff
	}
	m.rate = float64(m.events) / m.elapsed.Seconds()
	m.postP50, m.postP99 = benchkit.Pct(m.posts, 0.50), benchkit.Pct(m.posts, 0.99)
	m.delayP50, m.delayP99 = benchkit.Pct(m.delays, 0.50), benchkit.Pct(m.delays, 0.99)
	if len(m.delays) > 0 {
		m.delayMax = slices.Max(m.delays)
	}
	return m
}

func connected(rs []replica) int {
	n := 0
	for _, r := range rs {
		n += r.stream.Clients()
	}
	return n
}

// client is one SSE wall: it reads frames and times each bench message.
type client struct {
	mu     sync.Mutex
	body   io.Closer
	seen   []int64
	delays []time.Duration
	cut    bool
}

var marker = []byte("~bench ")

func (cl *client) run(u string) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	cl.mu.Lock()
	cl.body = resp.Body
	cl.mu.Unlock()
	// Read whole chunks and find the markers in them: what arrives in one
	// read was delivered at one instant, so one clock reading times it all.
	buf := make([]byte, 256<<10)
	var carry []byte
	for {
		k, err := resp.Body.Read(buf)
		if k > 0 {
			now := time.Now().UnixNano()
			chunk := append(carry, buf[:k]...)
			used := cl.scan(chunk, now)
			carry = append(carry[:0], chunk[used:]...)
		}
		if err != nil {
			return
		}
	}
}

// scan records every complete bench message in b and returns how many
// bytes it consumed (a message cut at the end waits for the next read).
// The description starts with '~', rare in the JSON, so finding it is one
// vectorised byte search per message.
func (cl *client) scan(b []byte, now int64) int {
	used := bytes.LastIndex(b, []byte("\n\n"))
	if used < 0 {
		return 0
	}
	used += 2
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if bytes.Contains(b[max(0, used-256):used], []byte("event: cutoff")) {
		cl.cut = true
	}
	for pos := 0; pos < used; {
		i := bytes.Index(b[pos:used], marker)
		if i < 0 {
			break
		}
		rest := b[pos+i+len(marker) : used]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			break
		}
		pos += i + len(marker) + j
		n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		if err != nil {
			continue
		}
		cl.seen = append(cl.seen, n)
		cl.delays = append(cl.delays, time.Duration(now-starts[n%int64(len(starts))].Load()))
	}
	return used
}

// count is how many distinct bench messages in [first, last] arrived.
func (cl *client) count(first, last int64) int64 {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var n int64
	for _, s := range cl.seen {
		if s >= first && s <= last {
			n++
		}
	}
	return n
}

func (cl *client) close() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.body != nil {
		cl.body.Close()
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func printTable(c config, base, load result) {
	fmt.Printf("%-26s %8s %10s %10s %10s %12s %8s %10s %10s %10s %7s\n", "phase", "events", "events/s",
		"POST p50", "POST p99", "deliveries", "missing", "delay p50", "delay p99", "delay max", "cut off")
	for _, r := range []result{base, load} {
		name := fmt.Sprintf("intake, %d SSE clients", r.subs)
		fmt.Printf("%-26s %8d %10.0f %10s %10s %12d %8d %10s %10s %10s %7d\n", name, r.events, r.rate,
			ms(r.postP50), ms(r.postP99), r.delivered, r.missing, ms(r.delayP50), ms(r.delayP99), ms(r.delayMax), r.cutOff)
	}
	if base.errors+load.errors > 0 {
		fmt.Printf("POST errors: %d without clients, %d with\n", base.errors, load.errors)
	}
	ratio := 0.0
	if base.rate > 0 {
		ratio = load.rate / base.rate
	}
	fmt.Printf("\nintake with %d clients / without: %.2f×\n", c.subs, ratio)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("target ≥ 2,000 events/s with %d clients: %.0f/s — %s\n", c.subs, load.rate, verdict(load.rate >= 2000))
	fmt.Printf("target p99 POST→delivery < 1 s: %s — %s\n", ms(load.delayP99), verdict(load.delayP99 < time.Second && load.missing == 0))
}
