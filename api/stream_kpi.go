package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/wangge/wangge"
)

// kpiEvery is how often at most a jurisdiction's walls get kpi.changed.
const kpiEvery = time.Second

// kpiCompute gives a jurisdiction's wall KPI as JSON (kpiAnswers.changed).
type kpiCompute func(ctx context.Context, sc wangge.Scope) ([]byte, error)

// wantsKPI: a client that filters kinds asks for kpi explicitly.
func (sub *subscriber) wantsKPI() bool {
	if len(sub.kinds) == 0 {
		return true
	}
	for _, k := range sub.kinds {
		if k == "kpi." {
			return true
		}
	}
	return false
}

// startKPI pushes kpi.changed to the walls of every jurisdiction where an
// event was written, at most once per kpiEvery and jurisdiction, instead
// of a hundred walls asking after every incident: one computation per
// jurisdiction, shared by all its walls, the figures in the message.
// It runs until Close; a second call does nothing.
func (s *Stream) startKPI(compute kpiCompute, log *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kpiOn || s.closed {
		return
	}
	s.kpiOn = true
	stop := make(chan struct{})
	s.stop = stop
	go func() {
		t := time.NewTicker(kpiEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.pushKPI(compute, log)
			}
		}
	}()
}

// pushKPI sends one round of kpi.changed: for each jurisdiction of a
// connected wall that covers an event written since the last round.
func (s *Stream) pushKPI(compute kpiCompute, log *slog.Logger) {
	s.mu.Lock()
	dirty := s.kpiDirty
	s.kpiDirty = nil
	scopes := map[string]wangge.Scope{}
	for sub := range s.subs {
		if sub.wantsKPI() {
			scopes[sub.scope.String()] = sub.scope
		}
	}
	s.mu.Unlock()
	if len(dirty) == 0 {
		return
	}
	for key, sc := range scopes {
		touched := false
		for code := range dirty {
			if sc.Covers(code) {
				touched = true
				break
			}
		}
		if !touched {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		body, err := compute(ctx, sc)
		cancel()
		if err != nil {
			log.Warn("kpi.changed not computed", "scope", key, "err", err)
			continue
		}
		frame := make([]byte, 0, len(body)+40)
		frame = append(frame, "event: kpi.changed\ndata: "...)
		frame = append(append(frame, body...), "\n\n"...)
		s.mu.Lock()
		for sub := range s.subs {
			if sub.scope.String() != key || !sub.wantsKPI() {
				continue
			}
			s.offer(sub, frame)
		}
		s.mu.Unlock()
	}
}
