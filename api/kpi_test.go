package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/wangge/wangge"
)

// Two older events: one closed and evaluated 2/5 after an hour's work
// three days ago, one reported two days ago and still open past its deadline.
const kpiHistory = `
INSERT INTO events (category_code, status, tier, source, priority, grid_code, description, reported_at, deadline_at,
	resolved_at, closed_at, satisfaction, geom) VALUES
 ('noise', 'evaluated', 'grid', 'hotline_12345', 4, '500103001001001', '旧事', now() - interval '3 days',
	now() - interval '2 days', now() - interval '3 days' + interval '60 minutes', now() - interval '3 days' + interval '2 hours', 2,
	ST_SetSRID(ST_MakePoint(106.562, 29.552), 4326)),
 ('road_damage', 'accepted', 'street', 'patrol', 3, '500103001001002', '路面塌陷', now() - interval '2 days',
	now() - interval '1 day', NULL, NULL, NULL, ST_SetSRID(ST_MakePoint(106.575, 29.555), 4326));`

func TestKPI(t *testing.T) {
	db, _ := evCity(t)
	if _, err := db.Pool.Exec(context.Background(), kpiHistory); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := httptest.NewServer(evAs(New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: testAccess(t, db),
		Events: &Events{Store: db, Locate: db, KPI: db}}).Handler(), evToken(t, db, evCommander)))
	t.Cleanup(hs.Close)
	ids := map[string]any{}
	for _, c := range []struct {
		cat string
		lon float64
	}{{"fire_alarm", 106.561}, {"noise", 106.562}, {"gas_leak", 106.575}, {"sanitation", 106.563}} {
		code, ev, _ := evPost(t, hs.URL+"/api/v1/events", evBody(c.cat, c.lon, 29.555, "", "x"))
		if code != 201 {
			t.Fatalf("%s: %d %v", c.cat, code, ev)
		}
		ids[c.cat] = ev["id"]
	}
	for _, s := range []struct{ cat, body string }{
		{"noise", `{"action":"resolve"}`}, {"noise", `{"action":"close"}`},
		{"noise", `{"action":"evaluate","score":4}`}, {"sanitation", `{"action":"resolve"}`},
	} {
		if code, b, _ := evPost(t, fmt.Sprintf("%s/api/v1/events/%v/transitions", hs.URL, ids[s.cat]), s.body); code != 200 {
			t.Fatalf("%s %s: %d %v", s.cat, s.body, code, b)
		}
	}
	code, k := call(t, "GET", hs.URL+"/api/v1/kpi?window=7d", "")
	if code != 200 {
		t.Fatalf("kpi: %d %v", code, k)
	}
	fig := func(period, part, key string) map[string]any {
		p := k[period].(map[string]any)
		if part == "all" {
			return p["all"].(map[string]any)
		}
		return p[part].(map[string]any)[key].(map[string]any)
	}
	checks := []struct {
		name string
		got  any
		want float64
	}{
		{"today reported", fig("today", "all", "")["reported"], 4},
		{"today closed", fig("today", "all", "")["closed"], 1},
		{"today resolved", fig("today", "all", "")["resolved"], 2},
		{"today closure rate", fig("today", "all", "")["closure_rate"], 0.25},
		{"window reported", fig("window", "all", "")["reported"], 6},
		{"window closed", fig("window", "all", "")["closed"], 2},
		{"window overdue", fig("window", "all", "")["overdue"], 1},
		{"window open", fig("window", "all", "")["open"], 3},
		{"window satisfaction", fig("window", "all", "")["satisfaction"], 3},
		{"window evaluated", fig("window", "all", "")["evaluated"], 2},
		{"street tier reported", fig("window", "by_tier", "street")["reported"], 2},
		{"street tier overdue", fig("window", "by_tier", "street")["overdue"], 1},
		{"noise reported", fig("window", "by_category", "noise")["reported"], 2},
		{"noise closed", fig("window", "by_category", "noise")["closed"], 2},
	}
	for _, c := range checks {
		if v, _ := c.got.(float64); v != c.want {
			t.Errorf("%s: %v; want %v", c.name, c.got, c.want)
		}
	}
	// Handling times: two resolved within seconds today, one in 60 minutes.
	if m := fig("window", "all", "")["median_handling_minutes"].(float64); m > 1 {
		t.Errorf("median handling %v minutes", m)
	}
	// The city's median comes from the rollups' histogram: the mean of a
	// few seconds and 60 minutes, each known to its bucket (a bucket spans 1.4×).
	if m := fig("window", "by_category", "noise")["median_handling_minutes"].(float64); m < 24 || m > 36 {
		t.Errorf("noise median handling %v minutes; want ~30", m)
	}
	code, k = call(t, "GET", hs.URL+"/api/v1/kpi?region=500103001001002&window=30d", "")
	if code != 200 || fig("window", "all", "")["reported"].(float64) != 2 || k["window_days"].(float64) != 30 {
		t.Errorf("grid 002: %d %v", code, k)
	}
	// Jurisdiction: a street's commander gets its street by default and
	// the grids inside it; another street's commander gets its own
	// (nothing here) and 404 for this one.
	_, streetTok := evUser(t, db, wangge.RoleCommander, "500103001", nil)
	_, otherTok := evUser(t, db, wangge.RoleCommander, "500103002", nil)
	if code, k = evGet(t, hs.URL+"/api/v1/kpi?region=500103001001002", streetTok); code != 200 || fig("window", "all", "")["reported"].(float64) != 2 {
		t.Errorf("street commander, grid 002: %d %v", code, k)
	}
	if code, k = evGet(t, hs.URL+"/api/v1/kpi", streetTok); code != 200 || k["region"] != "500103001" || fig("window", "all", "")["reported"].(float64) != 6 {
		t.Errorf("street commander, default region: %d %v", code, k)
	}
	if code, k = evGet(t, hs.URL+"/api/v1/kpi", otherTok); code != 200 || k["region"] != "500103002" || fig("window", "all", "")["reported"].(float64) != 0 {
		t.Errorf("other street's commander, default region: %d %v", code, k)
	}
	for _, q := range []string{"?region=500103001", "?region=500103001001002", "?region=500103"} {
		code, b := evGet(t, hs.URL+"/api/v1/kpi"+q, otherTok)
		wantAnswer(t, code, 404, b)
	}
	for _, q := range []string{"?region=abc", "?window=0d", "?window=7", "?window=400d"} {
		code, b := call(t, "GET", hs.URL+"/api/v1/kpi"+q, "")
		wantAnswer(t, code, 400, b)
	}
}
