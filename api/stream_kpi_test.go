package api

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/ssetest"
	"github.com/wangge/wangge/postgis"
)

// The walls get their KPIs pushed: after an incident, every wall whose
// jurisdiction holds it receives kpi.changed with the new figures (the
// same answer GET /api/v1/kpi gives), no more than once a second; other
// jurisdictions and clients that did not ask for kpi get nothing.
func TestKPIChangedPushed(t *testing.T) {
	db, _ := evCity(t)
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := db.NewEventWriter(log, 2, 64)
	st := NewStream(StreamOptions{Heartbeat: 200 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.Run(ctx) }()
	ready := make(chan struct{})
	go func() { defer wg.Done(); st.Follow(ctx, db, log, ready) }()
	<-ready
	hs := httptest.NewServer(evAs(New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: testAccess(t, db),
		Events: &Events{Store: postgis.BatchedEvents{DB: db, Writer: w}, Locate: db, KPI: db}, Stream: st}).Handler(),
		evToken(t, db, evCommander)))
	t.Cleanup(func() { st.Close(); cancel(); hs.Close(); wg.Wait() })

	_, before := evGet(t, hs.URL+"/api/v1/kpi", evToken(t, db, evCommander))
	reported := func(k map[string]any) float64 {
		return k["today"].(map[string]any)["all"].(map[string]any)["reported"].(float64)
	}
	city := ssetest.Dial(t, hs.URL+"/api/v1/stream")
	_, streetTok := evUser(t, db, wangge.RoleCommander, "500103001", nil)
	street := ssetest.Dial(t, hs.URL+"/api/v1/stream", "Authorization", "Bearer "+streetTok)
	_, otherTok := evUser(t, db, wangge.RoleCommander, "500103002", nil)
	other := ssetest.Dial(t, hs.URL+"/api/v1/stream", "Authorization", "Bearer "+otherTok)
	eventsOnly := ssetest.Dial(t, hs.URL+"/api/v1/stream?kinds=event")

	for range 3 { // three incidents within a second: one or two pushes, not three
		if code, ev, _ := evPost(t, hs.URL+"/api/v1/events", evBody("fire_alarm", 106.5655, 29.5545, "", "三楼冒烟")); code != 201 {
			t.Fatalf("post: %d %v", code, ev)
		}
	}
	isKPI := func(m ssetest.Msg) bool { return m.Event == "kpi.changed" }
	var got ssetest.Msg
	for { // the pushes may split the three
		got = ssetest.Wait(t, city, 3*time.Second, isKPI)
		if got.ID != "" || got.Data["region"] != "" || got.Data["window_days"].(float64) != kpiDays {
			t.Fatalf("city push: id %q, %v", got.ID, got.Data)
		}
		if reported(got.Data) >= reported(before)+3 {
			break
		}
	}
	for { // the street's walls too, as the three land
		s := ssetest.Wait(t, street, 3*time.Second, isKPI)
		if s.Data["region"] != "500103001" {
			t.Fatalf("street push: %v", s.Data)
		}
		if reported(s.Data) >= 3 {
			break
		}
	}
	_, after := evGet(t, hs.URL+"/api/v1/kpi", evToken(t, db, evCommander))
	if reported(after) != reported(got.Data) {
		t.Errorf("GET says %v reported today, the push %v", reported(after), reported(got.Data))
	}
	time.Sleep(kpiEvery + 200*time.Millisecond)
	for name, ch := range map[string]<-chan ssetest.Msg{"other street": other, "kinds=event": eventsOnly} {
		for len(ch) > 0 {
			if m := <-ch; isKPI(m) {
				t.Errorf("%s got %v", name, m.Data)
			}
		}
	}
	// Nothing changed since: no more pushes.
	for len(city) > 0 {
		<-city
	}
	time.Sleep(2 * kpiEvery)
	for len(city) > 0 {
		if m := <-city; isKPI(m) {
			t.Errorf("a push without a change: %v", m.Data)
		}
	}
}
