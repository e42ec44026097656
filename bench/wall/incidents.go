package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The incident load: reports at a fixed rate, and a share of them worked
// through accept → dispatch → resolve → close a few seconds apart, so the
// open, overdue and closure figures the walls show keep moving.
const (
	reportWorkers = 8   // reports in flight at most; a tick finding all busy is missed
	workedShare   = 0.5 // of the reports, those the centre works to closure
	stepMin       = time.Second
	stepSpread    = 2 * time.Second
)

// sources: a hotline call the centre relays (reported) and a patrol's
// own report (accepted at once, its grid's worker assigned).
var sources = []string{"hotline_12345", "patrol"}

// incidents is the reporter and the handlers, each with tokens enough to
// stay under the server's per-credential limits (intake 100/s, other
// writes 5/s and 2 at once).
type incidents struct {
	base      string
	reporters []string
	handlers  []string
	rate      float64
	c         *city
	hc        *http.Client
	turn      atomic.Uint64 // the next handler's
}

// reporterTokens and handlerTokens are how many credentials the load
// needs at rate: intake at half its limit each, transitions (four per
// worked report) at 2/s each, taken in turn, so that a burst rarely finds
// one credential with two in flight.
func reporterTokens(rate float64) int { return max(1, int(rate/50)+1) }
func handlerTokens(rate float64) int  { return max(1, int(rate*workedShare*4/2)+1) }

func newIncidents(base string, reporters, handlers []string, rate float64, c *city) *incidents {
	return &incidents{base: base, reporters: reporters, handlers: handlers, rate: rate, c: c,
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}}
}

// run reports at the rate until ctx ends and waits for the work it began
// (workflows stop at their next step).
func (in *incidents) run(ctx context.Context, p *phase) {
	ticks := make(chan int64)
	var wg sync.WaitGroup
	for w := range reportWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 29))
			for n := range ticks {
				in.report(ctx, r, n, p, &wg)
			}
		}()
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / in.rate))
	defer t.Stop()
	var n int64
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
			select {
			case ticks <- n:
				n++
			default:
				p.mu.Lock()
				p.missed++
				p.mu.Unlock()
			}
		}
	}
	close(ticks)
	wg.Wait()
	in.hc.CloseIdleConnections()
}

// report posts one incident at a point inside a real grid.
func (in *incidents) report(ctx context.Context, r *rand.Rand, n int64, p *phase, wg *sync.WaitGroup) {
	pt := in.c.points[r.IntN(len(in.c.points))]
	cat := in.c.categories[r.IntN(len(in.c.categories))]
	source := sources[r.IntN(len(sources))]
	body := fmt.Sprintf(`{"category":%q,"location":{"lon":%.7f,"lat":%.7f},"description":"wall bench %d","source":%q}`,
		cat, pt.lon, pt.lat, n, source)
	tok := in.reporters[int(n)%len(in.reporters)]
	start := time.Now()
	// Not ctx: a report sent is answered even if the phase ends meanwhile.
	status, out, err := in.post(context.Background(), "/api/v1/events", body, tok)
	d := time.Since(start)
	if err != nil || status != http.StatusCreated {
		p.fail("intake", status)
		return
	}
	p.add(&p.intake, d)
	var e struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	if json.Unmarshal(out, &e) != nil || e.ID == 0 || r.Float64() >= workedShare {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.work(ctx, e.ID, e.Status == "reported", p, rand.New(rand.NewPCG(uint64(n), 31)))
	}()
}

// work takes one event to closure, a few seconds per step, stopping at
// the first refusal or when ctx ends. A report needs accepting first; a
// staff member's own report comes in accepted.
func (in *incidents) work(ctx context.Context, id int64, reported bool, p *phase, r *rand.Rand) {
	steps := []string{"", "", `{"action":"resolve"}`, `{"action":"close"}`}
	if reported {
		steps[0] = `{"action":"accept"}`
	}
	if len(in.c.units) > 0 {
		steps[1] = fmt.Sprintf(`{"action":"dispatch","unit_id":%d}`, in.c.units[r.IntN(len(in.c.units))])
	}
	for _, body := range steps {
		if body == "" {
			continue
		}
		if !sleep(ctx, stepMin+time.Duration(r.Int64N(int64(stepSpread)))) {
			return
		}
		tok := in.handlers[in.turn.Add(1)%uint64(len(in.handlers))]
		start := time.Now()
		status, _, err := in.post(context.Background(), fmt.Sprintf("/api/v1/events/%d/transitions", id), body, tok)
		if err != nil || status != http.StatusOK {
			p.fail("transition", status)
			return
		}
		p.add(&p.transitions, time.Since(start))
	}
}

// post sends a JSON body with a token and returns the status and body.
func (in *incidents) post(ctx context.Context, path, body, tok string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := in.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}
