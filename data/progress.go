package data

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge/postgis"
)

// progress is what the running phase has done so far, logged every
// postgis.ProgressEvery: counts of units of work (districts, rebuild
// steps) and the rows each COPY stream has taken, with their rate.
// Statements that run long inside PostgreSQL log their own progress.
type progress struct {
	mu       sync.Mutex
	counters []*counter
	streams  []*postgis.CopyStream
}

// counter is done units of total; fn, when set, reads both.
type counter struct {
	name        string
	done, total atomic.Int64
	fn          func() (done, total int)
}

// reset starts a phase's progress afresh.
func (pr *progress) reset() {
	pr.mu.Lock()
	pr.counters, pr.streams = nil, nil
	pr.mu.Unlock()
}

// count registers a counter of total units.
func (pr *progress) count(name string, total int) *counter {
	c := &counter{name: name}
	c.total.Store(int64(total))
	pr.mu.Lock()
	pr.counters = append(pr.counters, c)
	pr.mu.Unlock()
	return c
}

// countFunc registers a counter that fn reads.
func (pr *progress) countFunc(name string, fn func() (done, total int)) {
	pr.mu.Lock()
	pr.counters = append(pr.counters, &counter{name: name, fn: fn})
	pr.mu.Unlock()
}

// track adds a COPY stream's rows to the report.
func (pr *progress) track(c *postgis.CopyStream) {
	pr.mu.Lock()
	pr.streams = append(pr.streams, c)
	pr.mu.Unlock()
}

// watch logs the phase's progress until stop is closed.
func (pr *progress) watch(log *slog.Logger, phase string, stop <-chan struct{}) {
	t0 := time.Now()
	t := time.NewTicker(postgis.ProgressEvery)
	defer t.Stop()
	last, lastAt := int64(0), t0
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			attrs := []any{"phase", phase, "elapsed", now.Sub(t0).Round(time.Second)}
			pr.mu.Lock()
			for _, c := range pr.counters {
				done, total := c.done.Load(), c.total.Load()
				if c.fn != nil {
					d, n := c.fn()
					done, total = int64(d), int64(n)
				}
				attrs = append(attrs, c.name, fmtShare(done, total))
			}
			var rows int64
			for _, s := range pr.streams {
				n := s.Rows()
				rows += n
				attrs = append(attrs, s.Table, n)
			}
			pr.mu.Unlock()
			if rows > 0 {
				attrs = append(attrs, "rows", rows, "rows_per_s", int64(float64(rows-last)/now.Sub(lastAt).Seconds()))
			}
			last, lastAt = rows, now
			log.Info("seed: progress", attrs...)
		}
	}
}

func fmtShare(done, total int64) string {
	if total <= 0 {
		return strconv.FormatInt(done, 10)
	}
	return strconv.FormatInt(done, 10) + "/" + strconv.FormatInt(total, 10)
}
