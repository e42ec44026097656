package data

import (
	"context"

	"github.com/wangge/wangge/postgis"
)

// events loads a year of events and their trails, district by district,
// in two passes over the same generator (events, then event_log), so
// that memory holds one grid's events at a time.
func (s *seeder) events(ctx context.Context) error {
	cats, err := s.db.EventCategories(ctx)
	if err != nil {
		return err
	}
	cum := make([]float64, len(cats))
	total := 0.0
	for i, c := range cats {
		w, ok := categoryWeight[c.Code]
		if !ok {
			w = 1
		}
		total += w
		cum[i] = total
	}
	return s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		if err := s.copyEvents(ctx, p, cats, cum); err != nil {
			return err
		}
		err := s.copyEventLog(ctx, p, cats, cum)
		p.Links = nil // both passes are done with them
		return err
	})
}

// eventWalker yields a district's events grid by grid.
type eventWalker struct {
	s    *seeder
	p    *plan
	gi   int
	buf  []event
	k    int
	next int64
	cats []postgis.Category
	cum  []float64
}

func (w *eventWalker) event() (*event, bool) {
	for w.k == len(w.buf) {
		if w.gi == len(w.p.Grids) {
			return nil, false
		}
		if w.next == 0 {
			w.next = 1
		}
		w.buf, w.k = w.s.gridEvents(w.p, w.gi, w.cats, w.cum, &w.next), 0
		w.gi++
	}
	w.k++
	return &w.buf[w.k-1], true
}

func (w *eventWalker) grid() *gridPlan { return &w.p.Grids[w.gi-1] }

func (s *seeder) copyEvents(ctx context.Context, p *plan, cats []postgis.Category, cum []float64) error {
	w := &eventWalker{s: s, p: p, cats: cats, cum: cum}
	return s.copy(ctx, p, "events", []string{"id", "category_code", "status", "tier", "source", "priority", "grid_code",
		"description", "address", "reporter", "unit_id", "duplicate_of", "object_id", "reported_at", "deadline_at", "dispatched_at",
		"resolved_at", "closed_at", "satisfaction", "version", "updated_at", "geom"}, func() ([]any, bool) {
		e, ok := w.event()
		if !ok {
			return nil, false
		}
		return []any{e.ID, e.Cat.Code, e.Status, e.Tier, e.Source, e.Cat.Priority, w.grid().Code, e.Desc, e.Address,
			e.Reporter, e.UnitID, e.DupOf, e.ObjectID, e.Reported, e.Deadline, e.Dispatched, e.Resolved, e.Closed, e.Satisfaction,
			int32(len(e.Log)), e.Log[len(e.Log)-1].At, wkb(e.Pt)}, true
	})
}

func (s *seeder) copyEventLog(ctx context.Context, p *plan, cats []postgis.Category, cum []float64) error {
	w := &eventWalker{s: s, p: p, cats: cats, cum: cum}
	var e *event
	k := 0
	var id int64
	return s.copy(ctx, p, "event_log", []string{"id", "event_id", "at", "actor", "action", "from_status", "to_status",
		"from_tier", "to_tier", "note"}, func() ([]any, bool) {
		for e == nil || k == len(e.Log) {
			var ok bool
			if e, ok = w.event(); !ok {
				return nil, false
			}
			k = 0
		}
		l := e.Log[k]
		k++
		id++
		return []any{p.Idx*rowSpan + id, e.ID, l.At, l.Actor, l.Action, nullable(l.From), l.To, nullable(l.FromTier),
			l.ToTier, l.Note}, true
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
