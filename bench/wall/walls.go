package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge/bench/internal/benchkit"
)

// Wall timing: a drill-down every 2–5 s; the KPI polled when neither a
// kpi.changed frame nor a poll has brought it for 30 s (the fallback for
// a stream that does not push it).
const (
	thinkMin     = 2 * time.Second
	thinkSpread  = 3 * time.Second
	kpiFallback  = 30 * time.Second
	startSpread  = 3 * time.Second // the walls of a centre are not switched on in one instant
	answerBudget = 60 * time.Second
)

// wall is one map wall: a commander's token over the city or a district.
type wall struct {
	base, host string // http://127.0.0.1:port and its host:port
	token      string
	district   string // "" a city wall
	c          *city
	p          *phase
	r          *rand.Rand
	conn       *benchkit.RawConn
	kpiAt      atomic.Int64 // unix ns of the last KPI the wall got: polled or pushed
}

// runWalls drives the walls against base until ctx ends.
func runWalls(ctx context.Context, base string, walls []wallAccount, c *city, p *phase) {
	sse := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: -1,
		ResponseHeaderTimeout: 30 * time.Second}}
	var wg sync.WaitGroup
	for i, a := range walls {
		w := &wall{base: base, host: hostOf(base), token: a.token, district: a.district, c: c, p: p,
			r: rand.New(rand.NewPCG(uint64(i), 17))}
		wg.Add(2)
		go func() { defer wg.Done(); w.stream(ctx, sse) }()
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	wg.Wait()
	sse.CloseIdleConnections()
}

// run: the KPI at start, then drill-downs, and the fallback poll.
func (w *wall) run(ctx context.Context) {
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	if !sleep(ctx, time.Duration(w.r.Int64N(int64(startSpread)))) {
		return
	}
	own := tierOf(w.district)
	w.get("kpi", own, "/api/v1/kpi")
	w.kpiAt.Store(time.Now().UnixNano())
	for sleep(ctx, thinkMin+time.Duration(w.r.Int64N(int64(thinkSpread)))) {
		if time.Since(time.Unix(0, w.kpiAt.Load())) > kpiFallback {
			w.get("kpi", own, "/api/v1/kpi")
			w.kpiAt.Store(time.Now().UnixNano())
		}
		w.drill()
	}
}

// drill opens a region at a random tier, colours the level below it with
// a random metric and reads the region's KPI, one after the other as a
// wall's panel fills.
func (w *wall) drill() {
	tier, code := w.c.pick(w.r, w.district)
	metric := metrics[w.r.IntN(len(metrics))]
	level := statLevel(tier)
	if tier == tCity {
		w.get("drill-down", tier, "/api/v1/regions")
		w.get("stats", level, "/api/v1/stats?level="+tiers[level]+"&metric="+metric)
		w.get("kpi", tier, "/api/v1/kpi")
		return
	}
	w.get("drill-down", tier, "/api/v1/regions/"+code)
	w.get("stats", level, "/api/v1/stats?level="+tiers[level]+"&metric="+metric)
	w.get("kpi", tier, "/api/v1/kpi?region="+code)
}

// get sends one GET on the wall's connection, redialled after a failure,
// and records its latency.
func (w *wall) get(kind string, tier int, target string) {
	req := benchkit.GetRequest(w.host, target, "Authorization: Bearer "+w.token, "Accept-Encoding: gzip")
	start := time.Now()
	status, err := w.do(req)
	if err != nil {
		status = 0
	}
	w.p.answer(kind, tier, status, time.Since(start))
}

func (w *wall) do(req []byte) (int, error) {
	if w.conn == nil {
		c, err := benchkit.DialRaw(w.host)
		if err != nil {
			return 0, err
		}
		w.conn = c
	}
	_ = w.conn.SetDeadline(time.Now().Add(answerBudget))
	status, _, err := w.conn.Do(req)
	if err != nil {
		w.conn.Close()
		w.conn = nil
	}
	return status, err
}

// stream keeps the wall's live stream open, reconnecting with the last id
// seen as a browser's EventSource does.
func (w *wall) stream(ctx context.Context, hc *http.Client) {
	var last string
	for {
		w.readStream(ctx, hc, &last)
		if ctx.Err() != nil {
			return
		}
		w.p.mu.Lock()
		w.p.reconnects++
		w.p.mu.Unlock()
		if !sleep(ctx, 2*time.Second) { // the server's retry: 2000
			return
		}
	}
}

var (
	fieldEvent = []byte("event: ")
	fieldData  = []byte("data: ")
	fieldID    = []byte("id: ")
	kpiChanged = []byte("kpi.changed")
)

// readStream reads frames until the stream ends, subscribed as the wall
// subscribes (events, grids, KPIs: no unit positions). It blocks in Read
// between frames (no CPU) and decodes only kpi.changed data.
func (w *wall) readStream(ctx context.Context, hc *http.Client, last *string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"/api/v1/stream?kinds=event,grid,kpi", nil)
	if err != nil {
		w.p.fail("stream", 0)
		return
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Accept", "text/event-stream")
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.p.fail("stream", 0)
		}
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		w.p.fail("stream", res.StatusCode)
		return
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var ev, data []byte
	fields := false // the frame so far has a field (comments and retry: none)
	frames, kpis := 0, 0
	var lags []time.Duration
	flush := func() { // counts go to the phase in batches: no lock per frame
		w.p.mu.Lock()
		w.p.frames += frames
		w.p.kpiFrames += kpis
		w.p.kpiLag = append(w.p.kpiLag, lags...)
		w.p.mu.Unlock()
		frames, kpis, lags = 0, 0, lags[:0]
	}
	defer flush()
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // end of a frame
			if !fields {
				continue
			}
			frames++
			if bytes.Equal(ev, kpiChanged) {
				kpis++
				w.kpiAt.Store(time.Now().UnixNano()) // applied without asking
				var body struct {
					GeneratedAt time.Time `json:"generated_at"`
				}
				if json.Unmarshal(data, &body) == nil && !body.GeneratedAt.IsZero() {
					lags = append(lags, time.Since(body.GeneratedAt))
				}
			}
			ev, data, fields = ev[:0], data[:0], false
			if frames >= 100 {
				flush()
			}
		case bytes.HasPrefix(line, fieldEvent):
			ev, fields = append(ev[:0], line[len(fieldEvent):]...), true
		case bytes.HasPrefix(line, fieldData):
			data, fields = append(data[:0], line[len(fieldData):]...), true
		case bytes.HasPrefix(line, fieldID):
			*last, fields = string(line[len(fieldID):]), true
		}
	}
	if sc.Err() != nil && ctx.Err() == nil {
		w.p.fail("stream read", 0)
	}
}

// sleep waits d or until ctx ends; false when it ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// hostOf is the host:port of a base URL (http://host:port).
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Host
}
