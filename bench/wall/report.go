package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wangge/wangge/bench/internal/benchkit"
)

// Answer kinds, in the table's order.
var kinds = []string{"drill-down", "stats", "kpi"}

// Targets for a server row (issue #17).
const (
	targetP95 = 100 * time.Millisecond
	targetP99 = 250 * time.Millisecond
)

type key struct {
	kind string
	tier int
}

// phase records one measured run: the wall's answers (baseline or a
// server), the incident load beside them and the live stream.
type phase struct {
	name    string
	clients int
	dur     time.Duration

	mu          sync.Mutex
	lat         map[key][]time.Duration // answered 200
	failed      map[key]int
	errs        map[string]int // "kpi 503", "intake transport", ...
	intake      []time.Duration
	transitions []time.Duration
	missed      int // incident ticks dropped: every reporter was busy
	kpiFrames   int
	kpiLag      []time.Duration
	frames      int
	reconnects  int
}

func newPhase(name string, clients int, dur time.Duration) *phase {
	return &phase{name: name, clients: clients, dur: dur, lat: map[key][]time.Duration{}, failed: map[key]int{},
		errs: map[string]int{}}
}

// answer records one wall answer; status 0 is a transport error (or, in
// the baseline, a failed query).
func (p *phase) answer(kind string, tier, status int, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := key{kind, tier}
	if status == 200 {
		p.lat[k] = append(p.lat[k], d)
		return
	}
	p.failed[k]++
	p.errs[kind+" "+statusName(status)]++
}

// fail counts a failure outside the answers table (intake, transitions,
// the stream).
func (p *phase) fail(what string, status int) {
	p.mu.Lock()
	p.errs[what+" "+statusName(status)]++
	p.mu.Unlock()
}

func statusName(status int) string {
	if status == 0 {
		return "transport"
	}
	return fmt.Sprint(status)
}

func (p *phase) add(into *[]time.Duration, d time.Duration) {
	p.mu.Lock()
	*into = append(*into, d)
	p.mu.Unlock()
}

func (p *phase) answers() int {
	n := 0
	for _, ds := range p.lat {
		n += len(ds)
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// cells are n, p50, p95, p99, max of ds ("–" when empty).
func cells(ds []time.Duration) []string {
	if len(ds) == 0 {
		return []string{"0", "–", "–", "–", "–"}
	}
	return []string{fmt.Sprint(len(ds)), ms(benchkit.Pct(ds, 0.5)), ms(benchkit.Pct(ds, 0.95)),
		ms(benchkit.Pct(ds, 0.99)), ms(benchkit.Pct(ds, 1))}
}

// table prints a server's (or the peer's) answers beside the baseline's.
func table(s, base *phase) {
	fmt.Printf("\n### %s: %d walls × %v, against the baseline (%d clients on today's SQL, pgx)\n\n", s.name, s.clients, s.dur, base.clients)
	fmt.Println("| answer | tier | n | p50 ms | p95 ms | p99 ms | max ms | failed | target | base n | base p50 | base p95 | base p99 | base max | p95 base/server |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, kind := range kinds {
		for t := range tiers {
			k := key{kind, t}
			sd, bd := s.lat[k], base.lat[k]
			if len(sd) == 0 && len(bd) == 0 && s.failed[k] == 0 {
				continue
			}
			verdict := "–"
			if len(sd) > 0 {
				verdict = "PASS"
				if benchkit.Pct(sd, 0.95) >= targetP95 || benchkit.Pct(sd, 0.99) >= targetP99 ||
					s.failed[k]*100 > len(sd)+s.failed[k] {
					verdict = "FAIL"
				}
			}
			ratio := "–"
			if len(sd) > 0 && len(bd) > 0 {
				ratio = fmt.Sprintf("%.1f×", float64(benchkit.Pct(bd, 0.95))/float64(max(benchkit.Pct(sd, 0.95), time.Microsecond)))
			}
			row := append([]string{kind, tiers[t]}, cells(sd)...)
			row = append(row, fmt.Sprint(s.failed[k]), verdict)
			row = append(row, cells(bd)...)
			row = append(row, ratio)
			fmt.Println("| " + strings.Join(row, " | ") + " |")
		}
	}
	fmt.Printf("\ntarget: p95 < %v, p99 < %v and under 1%% failed per server row; latency counts answers 200, "+
		"failures apart; stats rows are by the level coloured (the one below the drill-down's tier, grids at a grid); "+
		"the baseline's times are SQL alone (no HTTP, JSON or access control)\n", targetP95, targetP99)
}

// summary prints a phase's throughput, incident load and stream figures.
func summary(p *phase) {
	secs := p.dur.Seconds()
	fmt.Printf("\n%s: %d answers, %.1f/s by %d clients; incidents %.1f/s achieved (%d ticks missed), intake p50 %s p95 %s p99 %s ms; %d transitions, p95 %s ms\n",
		p.name, p.answers(), float64(p.answers())/secs, p.clients, float64(len(p.intake))/secs, p.missed,
		ms(benchkit.Pct(p.intake, 0.5)), ms(benchkit.Pct(p.intake, 0.95)), ms(benchkit.Pct(p.intake, 0.99)),
		len(p.transitions), ms(benchkit.Pct(p.transitions, 0.95)))
	if p.name != "baseline" {
		perWallMin := func(n int) float64 { return float64(n) / float64(max(p.clients, 1)) / (secs / 60) }
		lag := "none received"
		if p.kpiFrames > 0 {
			lag = "lag p50 " + ms(benchkit.Pct(p.kpiLag, 0.5)) + " p95 " + ms(benchkit.Pct(p.kpiLag, 0.95)) + " ms"
		}
		fmt.Printf("  stream: %.1f frames per wall per minute, %d reconnects; kpi.changed %.1f per wall per minute, %s\n",
			perWallMin(p.frames), p.reconnects, perWallMin(p.kpiFrames), lag)
	}
	if len(p.errs) > 0 {
		var es []string
		for _, k := range slices.Sorted(maps.Keys(p.errs)) {
			es = append(es, fmt.Sprintf("%s × %d", k, p.errs[k]))
		}
		fmt.Printf("  errors: %s\n", strings.Join(es, ", "))
	}
}
