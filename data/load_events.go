package data

import (
	"context"
	"time"

	"github.com/wangge/wangge/postgis"
)

var (
	eventTables = []string{"events", "event_log"}
	eventCols   = []string{"id", "category_code", "status", "tier", "source", "priority", "grid_code",
		"description", "address", "reporter", "unit_id", "duplicate_of", "object_id", "reported_at", "deadline_at",
		"dispatched_at", "resolved_at", "closed_at", "satisfaction", "version", "updated_at", "geom"}
	eventLogCols = []string{"id", "event_id", "at", "actor", "action", "from_status", "to_status",
		"from_tier", "to_tier", "note"}
)

// events loads a year of events and their trails, district by district
// as the people pass hands them over (events are about the components it
// placed), each event generated once for both tables.
func (s *seeder) events(ctx context.Context, plans <-chan *plan, done *counter) error {
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
	ss, err := s.openStreams(ctx, eventTables, eventCols, eventLogCols)
	if err != nil {
		return err
	}
	for {
		var p *plan
		var ok bool
		select {
		case p, ok = <-plans:
		case <-ctx.Done():
			abortAll(ss)
			return ctx.Err()
		}
		if !ok {
			break
		}
		t0 := time.Now()
		before := rowsOf(ss)
		if err := s.districtEvents(ss[0], ss[1], p, cats, cum); err != nil {
			abortAll(ss)
			return err
		}
		p.Links = nil
		s.copied(ss, before, time.Since(t0), p)
		done.done.Add(1)
	}
	if ctx.Err() != nil { // the people pass gave up: nothing more will come
		abortAll(ss)
		return ctx.Err()
	}
	return s.closeStreams(ss)
}

func (s *seeder) districtEvents(ev, lg *postgis.CopyStream, p *plan, cats []postgis.Category, cum []float64) error {
	var next, logID int64 = 1, 0
	for gi := range p.Grids {
		g := &p.Grids[gi]
		for _, e := range s.gridEvents(p, gi, cats, cum, &next) {
			ev.Row(len(eventCols))
			ev.Int64(e.ID)
			ev.Text(e.Cat.Code)
			ev.Text(e.Status)
			ev.Text(e.Tier)
			ev.Text(e.Source)
			ev.Int16(e.Cat.Priority)
			ev.Text(g.Code)
			ev.Text(e.Desc)
			ev.Text(e.Address)
			ev.Text(e.Reporter)
			nullInt64(ev, e.UnitID)
			nullInt64(ev, e.DupOf)
			nullInt64(ev, e.ObjectID)
			ev.Timestamptz(e.Reported)
			ev.Timestamptz(e.Deadline)
			nullTime(ev, e.Dispatched)
			nullTime(ev, e.Resolved)
			nullTime(ev, e.Closed)
			if e.Satisfaction == nil {
				ev.Null()
			} else {
				ev.Int16(*e.Satisfaction)
			}
			ev.Int32(int32(len(e.Log)))
			ev.Timestamptz(e.Log[len(e.Log)-1].At)
			ev.Point(e.Pt[0], e.Pt[1])
			if err := ev.End(); err != nil {
				return err
			}
			for _, l := range e.Log {
				logID++
				lg.Row(len(eventLogCols))
				lg.Int64(p.Idx*rowSpan + logID)
				lg.Int64(e.ID)
				lg.Timestamptz(l.At)
				lg.Text(l.Actor)
				lg.Text(l.Action)
				nullText(lg, l.From)
				lg.Text(l.To)
				nullText(lg, l.FromTier)
				lg.Text(l.ToTier)
				lg.Text(l.Note)
				if err := lg.End(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func nullInt64(c *postgis.CopyStream, v *int64) {
	if v == nil {
		c.Null()
		return
	}
	c.Int64(*v)
}

func nullTime(c *postgis.CopyStream, t *time.Time) {
	if t == nil {
		c.Null()
		return
	}
	c.Timestamptz(*t)
}

// nullText writes "" as NULL.
func nullText(c *postgis.CopyStream, s string) {
	if s == "" {
		c.Null()
		return
	}
	c.Text(s)
}
