package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wangge/wangge"
)

// TestBadTextIsRefused: NUL and invalid UTF-8 in JSON bodies and Open311
// forms answer 400 with the reason, and nothing is stored.
func TestBadTextIsRefused(t *testing.T) {
	c := newCity(t)
	cmd := c.inside[wangge.RoleCommander]
	for name, body := range map[string]string{
		"NUL escape in a JSON string": `{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"a\u0000b","source":"patrol"}`,
		"invalid UTF-8 in JSON":       "{\"category\":\"noise\",\"location\":{\"lon\":106.5613,\"lat\":29.5513},\"description\":\"\xff\xfe\",\"source\":\"patrol\"}",
	} {
		t.Run(name, func(t *testing.T) {
			send(t, "POST", c.url+"/api/v1/events", body, "Authorization", "Bearer "+cmd).want(t, 400, "")
		})
	}
	form := url.Values{"service_code": {"noise\x00"}, "lat": {"29.5513"}, "long": {"106.5613"}, "description": {"x"}}
	st, body := c.call(t, example{method: "POST", path: "/open311/v2/requests.json", form: form.Encode()}, c.inside[wangge.RoleGateway])
	if st != 400 {
		t.Errorf("Open311 form with a NUL: %d %s", st, short(body))
	}
	var n int
	if err := c.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d events stored, want only the fixture's one (%v)", n, err)
	}
}

// TestErrorTextsNameNoInternals: refusals give the caller a reason without
// our package or constraint names.
func TestErrorTextsNameNoInternals(t *testing.T) {
	c := newCity(t)
	cmd := c.inside[wangge.RoleCommander]
	for _, ex := range []example{
		{method: "GET", path: "/api/v1/events/999999"},
		{method: "GET", path: "/api/v1/buildings/999999"},
		{method: "GET", path: "/api/v1/regions/500103999"},
		{method: "POST", path: "/api/v1/events/" + c.id(c.eventID) + "/transitions", body: `{"action":"evaluate","score":9}`},
		{method: "POST", path: "/api/v1/events", body: `{"category":"nope","location":{"lon":106.5613,"lat":29.5513},"description":"x","source":"patrol"}`},
	} {
		st, body := c.call(t, ex, cmd)
		if st < 400 || st >= 500 {
			t.Errorf("%s %s: %d", ex.method, ex.path, st)
		}
		for _, internal := range []string{"postgis", "geo:", "pgx", "_check", "_fkey", "constraint", "SQLSTATE"} {
			if strings.Contains(body, internal) {
				t.Errorf("%s %s answers %q, naming %q", ex.method, ex.path, body, internal)
			}
		}
	}
}

// TestEventListPages: the event list pages newest first by keyset
// (next_before), every event once.
func TestEventListPages(t *testing.T) {
	c := newCity(t)
	cmd := []string{"Authorization", "Bearer " + c.inside[wangge.RoleCommander]}
	for i := range 4 {
		send(t, "POST", c.url+"/api/v1/events", `{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"page `+strings.Repeat("x", i+1)+`","source":"patrol"}`, cmd...).want(t, 201, "")
	}
	seen, next, pages := map[float64]bool{}, "/api/v1/events?limit=2", 0
	last := 1e18
	for next != "" && pages < 10 {
		a := send(t, "GET", c.url+next, "", cmd...)
		a.want(t, 200, "")
		for _, e := range a.body["events"].([]any) {
			id := e.(map[string]any)["id"].(float64)
			if seen[id] || id >= last {
				t.Fatalf("event %v twice or out of order", id)
			}
			seen[id], last = true, id
		}
		next, pages = "", pages+1
		if nb, ok := a.body["next_before"].(float64); ok {
			next = "/api/v1/events?limit=2&before=" + c.id(int64(nb))
		}
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("%d events in %d pages, want the 5 in 3", len(seen), pages)
	}
	send(t, "GET", c.url+"/api/v1/events?before=x", "", cmd...).want(t, 400, "before")
}
