package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// Units of the small city's event tests: a grid worker owning grid 001 and
// a patrol based at the police post.
const evUnits = `
INSERT INTO units (id, kind, name, grid_code, post_id, status, position_at, geom) VALUES
 (9001, 'grid_worker', '网格员甲', '500103001001001', NULL, 'available', now() - interval '1 hour', ST_SetSRID(ST_MakePoint(106.562, 29.552), 4326)),
 (9002, 'patrol', '巡逻一组', NULL, 501, 'available', now() - interval '1 hour', ST_SetSRID(ST_MakePoint(106.565, 29.558), 4326));`

// evCity is a migrated database with the small city and its units.
func evCity(t *testing.T) (*postgis.DB, string) {
	t.Helper()
	db, url := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	if _, err := db.Pool.Exec(context.Background(), evUnits); err != nil {
		t.Fatal(err)
	}
	return db, url
}

// evUser creates an account (role, region, unit) in db and returns its
// name, which the event log shows, and a bearer token.
func evUser(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) (name, tok string) {
	t.Helper()
	return pgtest.User(t, db, role, region, unit)
}

// evAs sends tok with every request that carries no Authorization of its
// own (apitest.As, which internal tests cannot import).
func evAs(h http.Handler, tok string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		h.ServeHTTP(w, r)
	})
}

// evCommander is the name of the city commander evServer's requests
// authenticate as unless they carry a token of their own.
const evCommander = "city-command"

// evServer is one replica serving the event routes (and the stream when
// withStream) with a pool of its own; requests without a token of their
// own are the city commander's (evCommander).
func evServer(t *testing.T, url string, withStream bool) (*httptest.Server, *postgis.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := postgis.Open(ctx, url, 16, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var out io.Writer = io.Discard
	if testing.Verbose() {
		out = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Intake through the group-commit writer, as served: concurrent
	// requests (the idempotency test's retries) share batches.
	w := db.NewEventWriter(log, 2, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	d := Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: testAccess(t, db),
		Events: &Events{Store: postgis.BatchedEvents{DB: db, Writer: w}, Locate: db}}
	if withStream {
		d.Stream = NewStream(StreamOptions{Heartbeat: 200 * time.Millisecond})
		ready := make(chan struct{})
		wg.Add(1)
		go func() { defer wg.Done(); d.Stream.Follow(ctx, db, log, ready) }()
		<-ready
	}
	hs := httptest.NewServer(evAs(New(d).Handler(), evToken(t, db, evCommander)))
	t.Cleanup(func() { cancel(); hs.Close(); wg.Wait(); db.Close() })
	return hs, db
}

// evToken is a token of the city commander called name (created once per
// database).
func evToken(t *testing.T, db *postgis.DB, name string) string {
	t.Helper()
	ctx := context.Background()
	// A second replica of the same database finds the account made.
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: wangge.RoleCommander}); err != nil && !errors.Is(err, wangge.ErrConflict) {
		t.Fatalf("commander: %v", err)
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func evPost(t *testing.T, url, body string, header ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, res.Header
}

// evGet sends GET as tok and decodes the JSON answer.
func evGet(t *testing.T, url, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func evBody(category string, lon, lat float64, crs, desc string) string {
	b, _ := json.Marshal(map[string]any{"category": category, "location": map[string]any{"lon": lon, "lat": lat, "crs": crs},
		"description": desc, "reporter": "张三", "source": "hotline_12345"})
	return string(b)
}

func evCount(t *testing.T, db *postgis.DB) (events, logs int) {
	t.Helper()
	err := db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_log)`).Scan(&events, &logs)
	if err != nil {
		t.Fatal(err)
	}
	return events, logs
}

func TestEventIntake(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, false)
	// A phone map's GCJ-02 point of a place in grid 001 is stored as WGS-84.
	wlon, wlat := 106.5655, 29.5545
	glon, glat := geo.FromWGS84(geo.GCJ02, wlon, wlat)
	code, ev, h := evPost(t, hs.URL+"/api/v1/events", evBody("fire_alarm", glon, glat, "gcj02", "三楼冒烟"))
	if code != 201 {
		t.Fatalf("status %d: %v", code, ev)
	}
	// 201 means committed: another connection sees the row and its log.
	var status, grid string
	var unit int64
	var logs int
	err := db.Pool.QueryRow(context.Background(), `SELECT status, grid_code, unit_id,
		(SELECT count(*) FROM event_log WHERE event_id = e.id) FROM events e WHERE id = $1`, int64(ev["id"].(float64))).
		Scan(&status, &grid, &unit, &logs)
	if err != nil {
		t.Fatalf("event not committed: %v", err)
	}
	if status != "accepted" || grid != "500103001001001" || unit != 9001 || logs != 2 {
		t.Errorf("stored %s %s unit %d logs %d", status, grid, unit, logs)
	}
	if math.Abs(ev["lon"].(float64)-wlon) > 1e-6 || math.Abs(ev["lat"].(float64)-wlat) > 1e-6 {
		t.Errorf("stored at %v,%v; want %v,%v", ev["lon"], ev["lat"], wlon, wlat)
	}
	rep, _ := time.Parse(time.RFC3339, ev["reported_at"].(string))
	dl, _ := time.Parse(time.RFC3339, ev["deadline_at"].(string))
	if ev["tier"] != "grid" || ev["priority"].(float64) != 1 || dl.Sub(rep) != 30*time.Minute {
		t.Errorf("tier %v priority %v deadline after %v", ev["tier"], ev["priority"], dl.Sub(rep))
	}
	if h.Get("Location") == "" || h.Get("ETag") != `"1"` {
		t.Errorf("headers %v", h)
	}
	// GET returns it with its log.
	c, got := call(t, "GET", fmt.Sprintf("%s/api/v1/events/%v", hs.URL, ev["id"]), "")
	if c != 200 || len(got["log"].([]any)) != 2 {
		t.Errorf("GET %d %v", c, got)
	}
	// A street-tier category in grid 002 has nobody assigned (no worker there).
	code, ev2, _ := evPost(t, hs.URL+"/api/v1/events", evBody("gas_leak", 106.575, 29.555, "", "闻到燃气味"))
	if code != 201 || ev2["tier"] != "street" || ev2["unit_id"] != nil || ev2["grid_code"] != "500103001001002" {
		t.Errorf("gas leak: %d %v", code, ev2)
	}
	c, list := call(t, "GET", hs.URL+"/api/v1/events?region=500103001001002&status=accepted&bbox=106.5,29.5,106.6,29.6", "")
	if c != 200 || list["count"].(float64) != 1 {
		t.Errorf("list: %d %v", c, list)
	}
}

func TestEventIdempotency(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, false)
	body := evBody("noise", 106.561, 29.551, "wgs84", "深夜施工噪音")
	c1, e1, _ := evPost(t, hs.URL+"/api/v1/events", body, "Idempotency-Key", "k-1")
	c2, e2, h2 := evPost(t, hs.URL+"/api/v1/events", body, "Idempotency-Key", "k-1")
	if c1 != 201 || c2 != 200 || e1["id"] != e2["id"] || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d %v, second %d %v", c1, e1["id"], c2, e2["id"])
	}
	// The key used for a different request is refused.
	c3, e3, _ := evPost(t, hs.URL+"/api/v1/events", evBody("noise", 106.561, 29.551, "wgs84", "别的事"), "Idempotency-Key", "k-1")
	if c3 != 409 {
		t.Errorf("reused key: %d %v", c3, e3)
	}
	// Eight simultaneous retries of one request make one event.
	var wg sync.WaitGroup
	ids := make([]any, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, e, _ := evPost(t, hs.URL+"/api/v1/events", body, "Idempotency-Key", "k-2")
			ids[i] = e["id"]
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == nil || id != ids[0] {
			t.Fatalf("concurrent retries answered ids %v", ids)
		}
	}
	if n, _ := evCount(t, db); n != 2 {
		t.Errorf("%d events stored; want 2", n)
	}
}

func TestEventBadInput(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, false)
	code, ev, _ := evPost(t, hs.URL+"/api/v1/events", evBody("sanitation", 106.561, 29.551, "", "垃圾堆积"))
	if code != 201 {
		t.Fatalf("setup: %d %v", code, ev)
	}
	id := ev["id"]
	ok := evBody("sanitation", 106.561, 29.551, "", "垃圾")
	_, sensor := evUser(t, db, wangge.RoleSensor, "", nil)
	tests := []struct {
		name, path, body string
		header           []string
		want             int
	}{
		{"unknown category", "/events", evBody("ufo", 106.561, 29.551, "", "x"), nil, 400},
		{"outside the city", "/events", evBody("noise", 116.4, 39.9, "", "x"), nil, 400},
		{"description too long", "/events", evBody("noise", 106.561, 29.551, "", strings.Repeat("吵", 4001)), nil, 400},
		{"empty description", "/events", evBody("noise", 106.561, 29.551, "", ""), nil, 400},
		{"html in description", "/events", evBody("noise", 106.561, 29.551, "", `<script>alert(1)</script>`), nil, 400},
		{"bad crs", "/events", evBody("noise", 106.561, 29.551, "epsg:3857", "x"), nil, 400},
		{"latitude out of range", "/events", evBody("noise", 106.561, 129.551, "", "x"), nil, 400},
		{"no location", "/events", `{"category":"noise","description":"x","source":"staff"}`, nil, 400},
		{"unknown source", "/events", strings.Replace(ok, "hotline_12345", "pigeon", 1), nil, 400},
		{"unknown field", "/events", strings.Replace(ok, `"source"`, `"sauce":1,"source"`, 1), nil, 400},
		{"malformed JSON", "/events", `{"category":`, nil, 400},
		{"bad idempotency key", "/events", ok, []string{"Idempotency-Key", "ключ"}, 400},
		{"illegal transition", fmt.Sprintf("/events/%v/transitions", id), `{"action":"close"}`, nil, 409},
		{"unknown action", fmt.Sprintf("/events/%v/transitions", id), `{"action":"fly"}`, nil, 400},
		{"actor in the body", fmt.Sprintf("/events/%v/transitions", id), `{"action":"resolve","actor":"someone else"}`, nil, 400},
		{"stale version", fmt.Sprintf("/events/%v/transitions", id), `{"action":"resolve","version":7}`, nil, 412},
		{"stale If-Match", fmt.Sprintf("/events/%v/transitions", id), `{"action":"resolve"}`, []string{"If-Match", `"9"`}, 412},
		{"stale actor tier", fmt.Sprintf("/events/%v/transitions", id), `{"action":"resolve","tier":"street"}`, nil, 409},
		{"stale actor unit", fmt.Sprintf("/events/%v/transitions", id), `{"action":"resolve","unit_id":9002}`, nil, 409},
		{"html note", fmt.Sprintf("/events/%v/transitions", id), `{"action":"note","note":"<b>x</b>"}`, nil, 400},
		{"dispatch unknown unit", fmt.Sprintf("/events/%v/transitions", id), `{"action":"dispatch","unit_id":424242}`, nil, 400},
		{"duplicate of nothing", fmt.Sprintf("/events/%v/transitions", id), `{"action":"mark_duplicate","duplicate_of":424242}`, nil, 400},
		{"score 9", fmt.Sprintf("/events/%v/transitions", id), `{"action":"evaluate","score":9}`, nil, 409},
		{"unknown event", "/events/424242/transitions", `{"action":"resolve"}`, nil, 404},
		{"alarm unknown device", "/alarms", `{"device_id":"NOPE"}`, []string{"Authorization", "Bearer " + sensor}, 404},
		{"alarm by a commander", "/alarms", `{"device_id":"SMK-0001"}`, nil, 403},
	}
	e0, l0 := evCount(t, db)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := evPost(t, hs.URL+"/api/v1"+tt.path, tt.body, tt.header...)
			wantAnswer(t, code, tt.want, body)
			if code == 409 && strings.Contains(tt.name, "illegal") && body["allowed"] == nil {
				t.Errorf("409 without the allowed actions: %v", body)
			}
		})
	}
	if e, l := evCount(t, db); e != e0 || l != l0 {
		t.Errorf("bad input stored something: events %d→%d, log %d→%d", e0, e, l0, l)
	}
	var status string
	var unitEvent *int64
	_ = db.Pool.QueryRow(context.Background(), `SELECT status, event_id FROM units WHERE id = 9002`).Scan(&status, &unitEvent)
	if status != "available" || unitEvent != nil {
		t.Errorf("a refused dispatch moved unit 9002: %s %v", status, unitEvent)
	}
}

// TestEventFullLife: reported by a worker, escalated grid → street by its
// deadline, street → district on request, dispatched, on site, resolved,
// closed and evaluated; every step in event_log.
func TestEventFullLife(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, false)
	ctx := context.Background()
	code, ev, _ := evPost(t, hs.URL+"/api/v1/events", evBody("manhole_cover", 106.562, 29.553, "", "井盖缺失"))
	if code != 201 {
		t.Fatalf("create: %d %v", code, ev)
	}
	id := int64(ev["id"].(float64))
	base := fmt.Sprintf("%s/api/v1/events/%d", hs.URL, id)
	deadline, _ := time.Parse(time.RFC3339, ev["deadline_at"].(string))

	// Before the deadline nothing happens; after it the ticker's pass
	// escalates once, and the street tier gets a fresh deadline.
	if n, ran, err := db.EscalateOverdue(ctx, deadline.Add(-time.Second), 100); err != nil || !ran || n != 0 {
		t.Fatalf("early pass: %d %v %v", n, ran, err)
	}
	if n, _, err := db.EscalateOverdue(ctx, deadline.Add(time.Second), 100); err != nil || n != 1 {
		t.Fatalf("pass after deadline: %d %v", n, err)
	}
	if n, _, _ := db.EscalateOverdue(ctx, deadline.Add(2*time.Second), 100); n != 0 {
		t.Fatalf("escalated twice for one deadline")
	}
	_, got := call(t, "GET", base, "")
	if got["tier"] != "street" || got["version"].(float64) != 2 {
		t.Fatalf("after deadline: %v", got)
	}
	// The grid worker's view is now stale.
	if c, b, _ := evPost(t, base+"/transitions", `{"action":"resolve","tier":"grid"}`); c != 409 {
		t.Fatalf("grid tier acted after escalation: %d %v", c, b)
	}
	// The street escalates, the district dispatches and closes, the patrol
	// (a responder of unit 9002) arrives and resolves, the grid worker of
	// the grid scores: the log names each credential.
	unit := int64(9002)
	street, streetTok := evUser(t, db, wangge.RoleCommander, "500103001", nil)
	district, districtTok := evUser(t, db, wangge.RoleCommander, "500103", nil)
	patrol, patrolTok := evUser(t, db, wangge.RoleResponder, "500103", &unit)
	worker, workerTok := evUser(t, db, wangge.RoleGridWorker, "500103001001001", nil)
	steps := []struct{ tok, body, status, tier string }{
		{streetTok, `{"action":"escalate","note":"需要区级协调","version":2}`, "accepted", "district"},
		{districtTok, `{"action":"dispatch","unit_id":9002,"tier":"district"}`, "dispatched", "district"},
		{patrolTok, `{"action":"arrive","unit_id":9002}`, "on_site", "district"},
		{patrolTok, `{"action":"resolve","unit_id":9002,"note":"已加盖"}`, "resolved", "district"},
		{districtTok, `{"action":"close"}`, "closed", "district"},
		{workerTok, `{"action":"evaluate","score":5}`, "evaluated", "district"},
	}
	unitStatus := map[string]string{"dispatched": "en_route", "on_site": "on_scene", "resolved": "available"}
	for _, s := range steps {
		c, b, _ := evPost(t, base+"/transitions", s.body, "Authorization", "Bearer "+s.tok)
		if c != 200 || b["status"] != s.status || b["tier"] != s.tier {
			t.Fatalf("%s: %d %v", s.body, c, b)
		}
		if want, ok := unitStatus[s.status]; ok {
			var st string
			_ = db.Pool.QueryRow(ctx, `SELECT status FROM units WHERE id = 9002`).Scan(&st)
			if st != want {
				t.Errorf("after %s unit 9002 is %s; want %s", s.status, st, want)
			}
		}
	}
	if c, b, _ := evPost(t, base+"/transitions", `{"action":"escalate"}`); c != 409 {
		t.Errorf("escalated an evaluated event: %d %v", c, b)
	}
	_, got = call(t, "GET", base, "")
	var trail []string
	for _, l := range got["log"].([]any) {
		m := l.(map[string]any)
		trail = append(trail, fmt.Sprintf("%s %s:%v→%s:%s", m["actor"], m["action"], m["from_status"], m["to_status"], m["to_tier"]))
	}
	want := []string{
		evCommander + " report:<nil>→reported:grid", "system accept:reported→accepted:grid",
		"system escalate:accepted→accepted:street", street + " escalate:accepted→accepted:district",
		district + " dispatch:accepted→dispatched:district", patrol + " arrive:dispatched→on_site:district",
		patrol + " resolve:on_site→resolved:district", district + " close:resolved→closed:district",
		worker + " evaluate:closed→evaluated:district",
	}
	if diff := cmp.Diff(want, trail); diff != "" {
		t.Errorf("event_log (-want +got)\n%s", diff)
	}
	if got["satisfaction"].(float64) != 5 || got["closed_at"] == nil || got["resolved_at"] == nil {
		t.Errorf("final event %v", got)
	}
}

func TestAlarms(t *testing.T) {
	db, url := evCity(t)
	hs, _ := evServer(t, url, false)
	hub, sensor := evUser(t, db, wangge.RoleSensor, "500103001", nil)
	_, elsewhere := evUser(t, db, wangge.RoleSensor, "500103002", nil)
	as := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	// A hub of another street cannot raise this street's device: 404, and
	// the object is left alone.
	if c, b, _ := evPost(t, hs.URL+"/api/v1/alarms", `{"device_id":"SMK-0001"}`, as(elsewhere)...); c != 404 {
		t.Fatalf("alarm from another street's hub: %d %v", c, b)
	}
	var objStatus string
	_ = db.Pool.QueryRow(context.Background(), `SELECT status FROM objects WHERE id = 1002`).Scan(&objStatus)
	if objStatus == "alarm" {
		t.Fatal("a refused alarm set the object's status")
	}
	c1, e1, _ := evPost(t, hs.URL+"/api/v1/alarms", `{"device_id":"SMK-0001","note":"烟雾浓度 0.12"}`, as(sensor)...)
	c2, e2, h2 := evPost(t, hs.URL+"/api/v1/alarms", `{"device_id":"SMK-0001"}`, as(sensor)...)
	if c1 != 201 || c2 != 200 || e1["id"] != e2["id"] || h2.Get("Alarm-Joined") != "true" {
		t.Fatalf("first %d %v; repeat %d %v", c1, e1, c2, e2)
	}
	if e1["category"] != "fire_alarm" || e1["priority"].(float64) != 1 || e1["source"] != "sensor" ||
		e1["object_id"].(float64) != 1002 || e1["grid_code"] != "500103001001002" || e1["reporter"] != nil {
		t.Errorf("alarm event %v", e1)
	}
	_ = db.Pool.QueryRow(context.Background(), `SELECT status FROM objects WHERE id = 1002`).Scan(&objStatus)
	if objStatus != "alarm" {
		t.Errorf("object status %s", objStatus)
	}
	// The log names the hub's credential for the report and the repeat.
	var actors []string
	rows, _ := db.Pool.Query(context.Background(), `SELECT actor FROM event_log WHERE event_id = $1 AND action <> 'accept' ORDER BY id`, e1["id"])
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actors = append(actors, a)
	}
	rows.Close()
	if diff := cmp.Diff([]string{hub, hub}, actors); diff != "" {
		t.Errorf("alarm log actors (-want +got)\n%s", diff)
	}
	// Once the event is resolved, the next alarm opens a new one.
	if c, b, _ := evPost(t, fmt.Sprintf("%s/api/v1/events/%v/transitions", hs.URL, e1["id"]), `{"action":"resolve"}`); c != 200 {
		t.Fatalf("resolve: %d %v", c, b)
	}
	c3, e3, _ := evPost(t, hs.URL+"/api/v1/alarms", `{"device_id":"SMK-0001"}`, as(sensor)...)
	if c3 != 201 || e3["id"] == e1["id"] {
		t.Errorf("alarm after resolve: %d %v", c3, e3)
	}
}
