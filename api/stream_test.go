package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/ssetest"
	"github.com/wangge/wangge/postgis"
)

func eventID(m ssetest.Msg) any {
	d, _ := m.Data["data"].(map[string]any)
	return d["id"]
}

// TestEventOnOneReplicaStreamsFromAnother: two servers, each with its own
// pool and LISTEN connection; an event posted to A reaches a client of B's
// stream within a second, with the same sequence number a client of A
// sees; a unit dispatched through A shows on B too.
func TestEventOnOneReplicaStreamsFromAnother(t *testing.T) {
	db, url := evCity(t)
	a, _ := evServer(t, url, true)
	b, _ := evServer(t, url, true)
	onB := ssetest.Dial(t, b.URL+"/api/v1/stream?region=500103001")
	onA := ssetest.Dial(t, a.URL+"/api/v1/stream")
	elsewhere := ssetest.Dial(t, b.URL+"/api/v1/stream?bbox=107,30,107.1,30.1&kinds=event")

	start := time.Now()
	code, ev, _ := evPost(t, a.URL+"/api/v1/events", evBody("fire_alarm", 106.5655, 29.5545, "", "三楼冒烟"))
	if code != 201 {
		t.Fatalf("post to A: %d %v", code, ev)
	}
	mb := ssetest.Wait(t, onB, time.Second, func(m ssetest.Msg) bool { return m.Event == "event.created" && eventID(m) == ev["id"] })
	t.Logf("POST on A → SSE on B in %v (seq %s)", time.Since(start), mb.ID)
	ma := ssetest.Wait(t, onA, time.Second, func(m ssetest.Msg) bool { return m.Event == "event.created" && eventID(m) == ev["id"] })
	if ma.ID != mb.ID || mb.ID == "" {
		t.Errorf("replicas numbered the message %q and %q", ma.ID, mb.ID)
	}
	if d := mb.Data["data"].(map[string]any); d["grid_code"] != "500103001001001" || d["status"] != "accepted" {
		t.Errorf("message data %v", d)
	}

	// Dispatch through A: B's clients see the event updated and the unit move.
	body := `{"action":"dispatch","unit_id":9002}`
	if c, r, _ := evPost(t, fmt.Sprintf("%s/api/v1/events/%v/transitions", a.URL, ev["id"]), body); c != 200 {
		t.Fatalf("dispatch: %d %v", c, r)
	}
	var updated, unit bool
	ssetest.Wait(t, onB, time.Second, func(m ssetest.Msg) bool {
		d, _ := m.Data["data"].(map[string]any)
		updated = updated || m.Event == "event.updated" && d["id"] == ev["id"] && d["status"] == "dispatched"
		unit = unit || m.Event == "unit.changed" && d["id"].(float64) == 9002 && d["status"] == "en_route"
		return updated && unit
	})

	// A grid redrawn by anyone reaches the walls as grid.changed.
	if _, err := db.Pool.Exec(context.Background(),
		`UPDATE grids SET version = version + 1, updated_by = 'planner' WHERE code = '500103001001002'`); err != nil {
		t.Fatal(err)
	}
	mg := ssetest.Wait(t, onB, time.Second, func(m ssetest.Msg) bool { return m.Event == "grid.changed" })
	if d := mg.Data["data"].(map[string]any); d["code"] != "500103001001002" || d["version"].(float64) != 2 {
		t.Errorf("grid message %v", d)
	}

	// A client that reconnects with Last-Event-ID gets what came after it.
	again := ssetest.Dial(t, b.URL+"/api/v1/stream", "Last-Event-ID", mb.ID)
	first := ssetest.Wait(t, again, time.Second, func(ssetest.Msg) bool { return true })
	if first.ID != fmt.Sprint(mb.Data["seq"].(float64)+1) {
		t.Errorf("first replayed message %s after %s", first.ID, mb.ID)
	}
	ssetest.Wait(t, again, time.Second, func(m ssetest.Msg) bool { return m.Event == "event.updated" })

	// Nothing reached the client watching another place.
	select {
	case m := <-elsewhere:
		t.Errorf("bbox-filtered client got %s %v", m.Event, m.Data)
	default:
	}
}

func msgs(from, to int64) []postgis.StreamMessage {
	var out []postgis.StreamMessage
	for s := from; s <= to; s++ {
		out = append(out, postgis.StreamMessage{Seq: s, Kind: "event.created", Region: "500103001001001",
			BBox: &[4]float64{106.56, 29.55, 106.56, 29.55}, Data: json.RawMessage(`{}`)})
	}
	return out
}

func TestStreamReplayResyncAndCutOff(t *testing.T) {
	s := NewStream(StreamOptions{Replay: 4, ClientBuffer: 2})
	s.Publish(msgs(1, 6)) // 1 and 2 fall out of the ring
	s.Publish(msgs(5, 6)) // duplicates are ignored

	sub := &subscriber{scope: wangge.CityScope(), ch: make(chan []byte, 2), gone: make(chan struct{})}
	replay, resync, newest := s.subscribe(sub, 3)
	if resync || len(replay) != 3 || newest != 6 {
		t.Errorf("after 3: replay %d resync %v newest %d", len(replay), resync, newest)
	}
	s.unsubscribe(sub)
	// 8 committed before 7: a client that saw 8 (but not 7) gets 7 back.
	s.Publish(msgs(8, 8))
	s.Publish(msgs(7, 7))
	if replay, _, _ := s.subscribe(sub, 8); len(replay) != 1 || !strings.HasPrefix(string(replay[0]), "id: 7\n") {
		t.Errorf("after 8: replay %q", replay)
	}
	s.unsubscribe(sub)
	if _, resync, _ := s.subscribe(sub, 1); !resync {
		t.Error("id 1 is no longer held but no resync")
	}
	s.unsubscribe(sub)

	slow := &subscriber{scope: wangge.CityScope(), ch: make(chan []byte, 2), gone: make(chan struct{})}
	fast := &subscriber{scope: wangge.CityScope(), ch: make(chan []byte, 100), gone: make(chan struct{})}
	other := &subscriber{scope: wangge.CityScope(), region: "500104", ch: make(chan []byte, 1), gone: make(chan struct{})}
	s.subscribe(slow, -1)
	s.subscribe(fast, -1)
	s.subscribe(other, -1)
	// A client scoped to another street hears nothing of this one's grid,
	// even without a region of its own; one scoped to the street hears it.
	outside := &subscriber{scope: wangge.ScopeOf("500103002"), ch: make(chan []byte, 100), gone: make(chan struct{})}
	inside := &subscriber{scope: wangge.ScopeOf("500103001"), ch: make(chan []byte, 100), gone: make(chan struct{})}
	s.subscribe(outside, -1)
	s.subscribe(inside, -1)
	s.Publish(msgs(9, 12))
	if len(outside.ch) != 0 || len(inside.ch) != 4 {
		t.Errorf("street 002 got %d of street 001's messages, street 001 got %d of 4", len(outside.ch), len(inside.ch))
	}
	if replay, _, _ := s.subscribe(outside, 8); len(replay) != 0 {
		t.Errorf("street 002 replayed %d of street 001's messages", len(replay))
	}
	s.unsubscribe(outside)
	s.unsubscribe(inside)
	select {
	case <-slow.gone:
	default:
		t.Error("slow client not cut off")
	}
	if len(fast.ch) != 4 || len(other.ch) != 0 {
		t.Errorf("fast got %d, other region got %d", len(fast.ch), len(other.ch))
	}
	if s.Dropped() != 1 || s.Clients() != 2 {
		t.Errorf("dropped %d clients %d", s.Dropped(), s.Clients())
	}
	// A wall without staff.contacts hears events, not unit positions.
	wall := &subscriber{scope: wangge.CityScope(), noUnit: true, ch: make(chan []byte, 10), gone: make(chan struct{})}
	s.subscribe(wall, -1)
	s.Publish([]postgis.StreamMessage{{Seq: 20, Kind: "unit.changed", Region: "500103001001001", Data: json.RawMessage(`{}`)},
		{Seq: 21, Kind: "event.updated", Region: "500103001001001", Data: json.RawMessage(`{}`)}})
	if len(wall.ch) != 1 || !strings.Contains(string(<-wall.ch), "event.updated") {
		t.Error("a wall without staff.contacts got a unit position")
	}
	s.unsubscribe(wall)
}
