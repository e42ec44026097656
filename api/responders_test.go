package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// replica is one wangge server with its own pool, index and listener.
type replica struct {
	srv  *httptest.Server
	live *postgis.Live
}

// startReplica serves the responder routes over its own pool, with the
// real access control; tok is sent by requests that carry no credential.
func startReplica(t *testing.T, ctx context.Context, url, tok string) replica {
	t.Helper()
	db, err := postgis.Open(ctx, url, 8, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lctx, cancel := context.WithCancel(ctx)
	live, err := db.StartLive(lctx, log)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: testAccess(t, db),
		Responders: &Responders{Index: live, SQL: db, Events: db, Units: live}})
	hs := httptest.NewServer(bearerHandler(s.Handler(), tok))
	t.Cleanup(func() { hs.Close(); cancel(); live.Wait(); db.Close() })
	return replica{srv: hs, live: live}
}

// fixture is a migrated database with synthetic responders and one event.
func fixture(t *testing.T, n int) (db *postgis.DB, url string, rs []geo.Responder, eventID int64) {
	t.Helper()
	db, url = pgtest.New(t)
	rs = geo.SyntheticResponders(9, n)
	ctx := context.Background()
	if err := db.SeedSyntheticResponders(ctx, rs); err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	err := db.Pool.QueryRow(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
		description, reported_at, deadline_at, geom) VALUES ('fire_alarm', 'accepted', 'grid', 'sensor', 1, $1,
		'smoke', now(), now() + interval '30 min', ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
		r.Street+"001001", r.Lon+0.001, r.Lat).Scan(&eventID)
	if err != nil {
		t.Fatal(err)
	}
	return db, url, rs, eventID
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	return callTok(t, "", method, url, body)
}

// callTok is call with a bearer token ("": none, or the server's default).
func callTok(t *testing.T, tok, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tok != "" {
		bearer(req, tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// wantAnswer fails unless the status is want and, for an error status,
// the body carries what every error answer has: a reason and a code.
func wantAnswer(t *testing.T, code, want int, body map[string]any) {
	t.Helper()
	if code != want {
		t.Fatalf("status %d; want %d; body %v", code, want, body)
	}
	if msg, _ := body["error"].(string); code >= 400 && (msg == "" || body["code"] == nil) {
		t.Fatalf("error answer without a reason and a code: %v", body)
	}
}

// bearerHandler sends tok with every request that carries no credential
// of its own, as a program holding it would (apitest.As, which internal
// tests cannot import).
func bearerHandler(h http.Handler, tok string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			bearer(r, tok)
		}
		h.ServeHTTP(w, r)
	})
}

func ids(body map[string]any) []string {
	var out []string
	list, _ := body["responders"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out = append(out, fmt.Sprintf("%v/%v", m["type"], m["id"]))
	}
	return out
}

func firstUnitOf(rs []geo.Responder) geo.Responder {
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			return r
		}
	}
	panic("no unit")
}

func secondUnitOf(rs []geo.Responder) geo.Responder {
	first := firstUnitOf(rs)
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit && r.Key != first.Key {
			return r
		}
	}
	panic("one unit only")
}

func TestResponderRoutes(t *testing.T) {
	db, url, rs, eventID := fixture(t, 400)
	u := firstUnitOf(rs)
	// The unit's own responder, city-wide: every route here is its to call.
	a := startReplica(t, context.Background(), url, testToken(t, db, wangge.RoleResponder, "", &u.Key.ID))
	base := a.srv.URL + "/api/v1"
	other := secondUnitOf(rs)
	at := func(d time.Duration) string { return u.PositionAt.Add(d).Format(time.RFC3339Nano) }
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"nearest", "GET", "/responders/nearest?lon=106.55&lat=29.56&k=5", "", 200},
		{"nearest gcj02 with filters", "GET", "/responders/nearest?lon=106.55&lat=29.56&k=3&kind=patrol,engine&status=available&crs=gcj02", "", 200},
		{"nearest by postgis", "GET", "/responders/nearest?lon=106.55&lat=29.56&engine=postgis", "", 200},
		{"k zero", "GET", "/responders/nearest?lon=106.55&lat=29.56&k=0", "", 400},
		{"k too big", "GET", "/responders/nearest?lon=106.55&lat=29.56&k=101", "", 400},
		{"unknown kind", "GET", "/responders/nearest?lon=106.55&lat=29.56&kind=tank", "", 400},
		{"unknown status", "GET", "/responders/nearest?lon=106.55&lat=29.56&status=asleep", "", 400},
		{"NaN latitude", "GET", "/responders/nearest?lon=106.55&lat=NaN", "", 400},
		{"longitude out of range", "GET", "/responders/nearest?lon=206.55&lat=29", "", 400},
		{"missing lat", "GET", "/responders/nearest?lon=106.55", "", 400},
		{"scope without code", "GET", "/responders/nearest?lon=106.55&lat=29.56&scope=street", "", 400},
		{"unknown engine", "GET", "/responders/nearest?lon=106.55&lat=29.56&engine=tile38", "", 400},
		{"event responders", "GET", fmt.Sprintf("/events/%d/responders?k=3&scope=district", eventID), "", 200},
		{"unknown event", "GET", "/events/987654/responders", "", 404},
		{"bad event id", "GET", "/events/x/responders", "", 400},
		{"move", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID), `{"lon":106.6,"lat":29.6,"at":"` + at(time.Minute) + `"}`, 200},
		{"older move", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID), `{"lon":1,"lat":1,"at":"` + at(0) + `"}`, 409},
		{"move unknown unit", "PUT", "/units/999999/position", `{"lon":106.6,"lat":29.6,"at":"` + at(time.Minute) + `"}`, 404},
		{"move malformed JSON", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID), `{"lon":106.6,`, 400},
		{"move without at: the server's clock", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID), `{"lon":106.6,"lat":29.6}`, 200},
		{"move from the future", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID),
			`{"lon":106.6,"lat":29.6,"at":"` + time.Now().Add(time.Minute).UTC().Format(time.RFC3339) + `"}`, 400},
		{"move another unit", "PUT", fmt.Sprintf("/units/%d/position", other.Key.ID), `{"lon":106.6,"lat":29.6,"at":"` + at(time.Minute) + `"}`, 404},
		{"move bad crs", "PUT", fmt.Sprintf("/units/%d/position", u.Key.ID), `{"lon":106.6,"lat":29.6,"crs":"x","at":"` + at(2*time.Minute) + `"}`, 400},
		{"dispatch", "PUT", fmt.Sprintf("/units/%d/status", u.Key.ID), fmt.Sprintf(`{"event_id":%d,"at":"%s"}`, eventID, at(time.Hour)), 200},
		{"dispatch but available", "PUT", fmt.Sprintf("/units/%d/status", u.Key.ID), fmt.Sprintf(`{"status":"available","event_id":%d,"at":"%s"}`, eventID, at(2*time.Hour)), 400},
		{"older status", "PUT", fmt.Sprintf("/units/%d/status", u.Key.ID), `{"status":"off_duty","at":"` + at(0) + `"}`, 409},
		{"status of unknown unit", "PUT", "/units/999999/status", `{"status":"off_duty","at":"` + at(0) + `"}`, 404},
		{"status of another unit", "PUT", fmt.Sprintf("/units/%d/status", other.Key.ID), `{"status":"off_duty","at":"` + at(time.Hour) + `"}`, 404},
		{"status from the future", "PUT", fmt.Sprintf("/units/%d/status", u.Key.ID),
			`{"status":"off_duty","at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, tt.method, base+tt.path, tt.body)
			wantAnswer(t, code, tt.want, body)
		})
	}
	// The dispatched unit is en_route at its new place, in both engines
	// (positions reach PostGIS behind, within the writer's ~100 ms).
	q := "/responders/nearest?lon=106.6&lat=29.6&k=4&status=en_route"
	_, h3Body := call(t, "GET", base+q, "")
	if got := ids(h3Body); len(got) == 0 || got[0] != fmt.Sprintf("unit/%d", u.Key.ID) {
		t.Errorf("dispatched unit not first: %v", got)
	}
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, sqlBody := call(t, "GET", base+q+"&engine=postgis", "")
		diff := cmp.Diff(ids(h3Body), ids(sqlBody))
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("h3 and postgis engines still differ after 1 s (-h3 +postgis)\n%s", diff)
		}
	}
}

// TestUnitMovedOnOneReplicaIsFoundOnAnother: two servers, two pools, two
// listeners on one database; a unit moved through A is found at its new
// place through B within one second.
func TestUnitMovedOnOneReplicaIsFoundOnAnother(t *testing.T) {
	db, url, rs, _ := fixture(t, 300)
	ctx := context.Background()
	u := firstUnitOf(rs)
	tok := testToken(t, db, wangge.RoleResponder, "", &u.Key.ID)
	a, b := startReplica(t, ctx, url, tok), startReplica(t, ctx, url, tok)
	start := time.Now()
	body := fmt.Sprintf(`{"lon":110.1,"lat":32.2,"crs":"wgs84","status":"available","at":"%s"}`,
		u.PositionAt.Add(time.Minute).Format(time.RFC3339))
	if code, res := call(t, "PUT", fmt.Sprintf("%s/api/v1/units/%d/position", a.srv.URL, u.Key.ID), body); code != 200 {
		t.Fatalf("move through A: %d %v", code, res)
	}
	want := fmt.Sprintf("unit/%d", u.Key.ID)
	for {
		_, res := call(t, "GET", b.srv.URL+"/api/v1/responders/nearest?lon=110.1&lat=32.2&k=1", "")
		if got := ids(res); len(got) == 1 && got[0] == want {
			t.Logf("found through replica B after %v", time.Since(start))
			return
		}
		if time.Since(start) > time.Second {
			t.Fatalf("replica B still answers %v after 1 s", ids(res))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
