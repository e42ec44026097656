package data

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Feed draws synthetic incident reports in the seeded category and channel
// mix, at points inside active grids, so that a demo wall (make run) sees
// events arrive as a command centre would; a real deployment runs without.
type Feed struct {
	rng    *rand.Rand
	points []postgis.GridPoint
	cats   []string
	cum    []float64
}

// feedPoints is how many places the feed reports from.
const feedPoints = 2000

// NewFeed samples the places reports come from.
func NewFeed(ctx context.Context, db *postgis.DB, seed uint64) (*Feed, error) {
	pts, err := db.SampleGridPoints(ctx, feedPoints)
	if err != nil {
		return nil, fmt.Errorf("data: feed: %w", err)
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("data: feed: no active grids")
	}
	f := &Feed{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), points: pts}
	for c := range categoryWeight {
		f.cats = append(f.cats, c)
	}
	slices.Sort(f.cats)
	total := 0.0
	for _, c := range f.cats {
		total += categoryWeight[c]
		f.cum = append(f.cum, total)
	}
	return f, nil
}

// Next is the next report, at time at.
func (f *Feed) Next(at time.Time) postgis.NewEvent {
	r := f.rng.Float64() * f.cum[len(f.cum)-1]
	ci, _ := slices.BinarySearch(f.cum, r)
	cat := f.cats[min(ci, len(f.cats)-1)]
	p := f.points[f.rng.IntN(len(f.points))]
	src, reporter := source(cat, f.rng)
	d := details[cat]
	if len(d) == 0 {
		d = details["other"]
	}
	return postgis.NewEvent{Category: cat, Source: wangge.Source(src), GridCode: p.GridCode, Lon: p.Lon, Lat: p.Lat,
		Description: d[f.rng.IntN(len(d))], Reporter: reporter, At: at}
}

// RunFeed reports one event every `every` through create until ctx ends;
// a failed report is logged and the feed goes on. It is the system's own
// report: the whole city, logged as "demo feed".
func RunFeed(ctx context.Context, f *Feed, every time.Duration,
	create func(context.Context, wangge.Scope, postgis.NewEvent) (wangge.Event, bool, error), log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := f.Next(now)
			n.Actor = "demo feed"
			if e, _, err := create(ctx, wangge.CityScope(), n); err != nil {
				if ctx.Err() == nil {
					log.Warn("demo feed: report refused", "err", err)
				}
			} else {
				log.Debug("demo feed: reported", "event", e.ID, "category", e.Category)
			}
		}
	}
}
