package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/ssetest"
)

// TestEventJurisdiction: reads, transitions and reports inside and outside
// the caller's jurisdiction, the reporter's visibility per role, a
// responder held to its own unit's events, and a live stream client of
// another street that hears nothing of this one.
func TestEventJurisdiction(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, true)
	_, street := evUser(t, db, wangge.RoleCommander, "500103001", nil)
	_, other := evUser(t, db, wangge.RoleCommander, "500103002", nil)
	_, worker := evUser(t, db, wangge.RoleGridWorker, "500103001001001", nil)
	_, viewer := evUser(t, db, wangge.RoleViewer, "500103001", nil)
	unit, otherUnit := int64(9002), int64(9001)
	_, responder := evUser(t, db, wangge.RoleResponder, "500103", &unit)
	_, otherResponder := evUser(t, db, wangge.RoleResponder, "500103", &otherUnit)
	as := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	// The other street's wall connects before anything happens.
	otherWall := ssetest.Dial(t, hs.URL+"/api/v1/stream", as(other)...)
	ownWall := ssetest.Dial(t, hs.URL+"/api/v1/stream", as(street)...)

	// A hotline report relayed by the street's commander: the caller's
	// contact is personal data.
	code, ev, _ := evPost(t, hs.URL+"/api/v1/events", evBody("noise", 106.561, 29.551, "", "深夜施工"), as(street)...)
	if code != 201 || ev["reporter"] != "张三" {
		t.Fatalf("report: %d %v", code, ev)
	}
	id := fmt.Sprint(ev["id"])
	one := hs.URL + "/api/v1/events/" + id

	// The street's wall hears it, the other street's does not.
	ssetest.Wait(t, ownWall, 2*time.Second, func(m ssetest.Msg) bool { return m.Event == "event.created" && fmt.Sprint(eventID(m)) == id })
	select {
	case m := <-otherWall:
		if m.Event == "event.created" {
			t.Errorf("the other street's stream got %s %v", m.Event, m.Data)
		}
	case <-time.After(300 * time.Millisecond):
	}
	if c, b := evGet(t, hs.URL+"/api/v1/stream?region=500103001", other); c != http.StatusNotFound {
		t.Errorf("stream of a foreign region: %d %v", c, b)
	}

	// Who sees the reporter: the handling commander and the grid's worker;
	// not a viewer of the same street, not a responder. The other street's
	// commander does not see the event at all.
	for _, r := range []struct {
		name, tok string
		code      int
		reporter  any
	}{{"street commander", street, 200, "张三"}, {"grid worker", worker, 200, "张三"}, {"viewer", viewer, 200, nil},
		{"responder", responder, 200, nil}, {"other street's commander", other, 404, nil}} {
		c, b := evGet(t, one, r.tok)
		if c != r.code || (c == 200 && b["reporter"] != r.reporter) {
			t.Errorf("%s GET: %d reporter %v; want %d %v", r.name, c, b["reporter"], r.code, r.reporter)
		}
		c, l := evGet(t, hs.URL+"/api/v1/events", r.tok)
		n := 0
		if es, ok := l["events"].([]any); ok {
			n = len(es)
			for _, e := range es {
				if e.(map[string]any)["reporter"] != r.reporter {
					t.Errorf("%s list: reporter %v", r.name, e.(map[string]any)["reporter"])
				}
			}
		}
		if want := map[bool]int{true: 1, false: 0}[r.code == 200]; c != 200 || n != want {
			t.Errorf("%s list: %d, %d events; want %d", r.name, c, n, want)
		}
	}

	// Writes outside the jurisdiction: not found, nothing written.
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"note","note":"x"}`, as(other)...); c != 404 {
		t.Errorf("other street's transition: %d %v", c, b)
	}
	// A report of a point in this street by the other street's commander,
	// or by a grid worker outside its grid (grid 002): refused with reason.
	for _, tok := range []string{other, worker} {
		c, b, _ := evPost(t, hs.URL+"/api/v1/events", evBody("noise", 106.575, 29.555, "", "x"), as(tok)...)
		if c != 404 || b["error"] == nil {
			t.Errorf("report outside jurisdiction: %d %v", c, b)
		}
	}
	// A grid worker's own report names the worker, never the body.
	if c, b, _ := evPost(t, hs.URL+"/api/v1/events", `{"category":"noise","location":{"lon":106.561,"lat":29.551},
		"description":"x","reporter":"someone else","source":"grid_worker"}`, as(worker)...); c != 400 {
		t.Errorf("worker reporting as someone else: %d %v", c, b)
	}

	// The responder: another unit's event is not found; its own (after
	// dispatch) it may arrive at and note, not close.
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"note","note":"x"}`, as(responder)...); c != 404 {
		t.Errorf("responder on an event not dispatched to it: %d %v", c, b)
	}
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"dispatch","unit_id":9002}`, as(street)...); c != 200 {
		t.Fatalf("dispatch: %d %v", c, b)
	}
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"arrive"}`, as(otherResponder)...); c != 404 {
		t.Errorf("another unit's responder: %d %v", c, b)
	}
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"arrive"}`, as(responder)...); c != 200 || b["reporter"] != nil {
		t.Errorf("responder arrives: %d %v", c, b)
	}
	if c, b, _ := evPost(t, one+"/transitions", `{"action":"dispatch","unit_id":9002}`, as(responder)...); c != 403 {
		t.Errorf("responder dispatching: %d %v", c, b)
	}
}
