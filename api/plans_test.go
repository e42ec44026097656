package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

var planCity = data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103"},
	Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}

type planEnv struct {
	db        *postgis.DB
	base      string
	loc       *postgis.Locator
	community string
	// Four eyes: the planner of the community's street drafts, the
	// approver of its district (the street's parent) applies.
	planner, approver         string // tokens
	plannerName, approverName string
}

// planServer seeds the core district and serves the plan routes, with a
// grid locate index that follows tile changes as `wangge serve` runs it.
func planServer(t *testing.T) *planEnv {
	t.Helper()
	db, _ := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := data.Seed(ctx, db, planCity, log); err != nil {
		t.Fatalf("seed: %v", err)
	}
	loc, err := db.StartLocator(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); loc.Wait() })
	hs := httptest.NewServer(New(Deps{Log: log, Health: db, MaxBodyBytes: 8 << 20, Plans: &Plans{Store: db},
		Access: testAccess(t, db)}).Handler())
	t.Cleanup(hs.Close)
	e := &planEnv{db: db, base: hs.URL + "/api/v1", loc: loc}
	if err := db.Pool.QueryRow(ctx, `SELECT community_code FROM grids GROUP BY 1 HAVING count(*) >= 4
		ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&e.community); err != nil {
		t.Fatal(err)
	}
	e.planner = testToken(t, db, wangge.RolePlanner, e.community[:9], nil)
	e.approver = testToken(t, db, wangge.RoleApprover, e.community[:6], nil)
	e.plannerName, e.approverName = e.whoami(t, e.planner), e.whoami(t, e.approver)
	return e
}

// whoami is the name of a token's user, as GET /session tells it.
func (e *planEnv) whoami(t *testing.T, tok string) string {
	t.Helper()
	code, body := callTok(t, tok, "GET", e.base+"/session", "")
	name, _ := body["name"].(string)
	if code != 200 || name == "" {
		t.Fatalf("session: %d %v", code, body)
	}
	return name
}

func (e *planEnv) scalar(t *testing.T, dst any, q string, args ...any) {
	t.Helper()
	if err := e.db.Pool.QueryRow(context.Background(), q, args...).Scan(dst); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func reassignBody(parcel int64, to string) string {
	return fmt.Sprintf(`{"by":"planner","reason":"move the boundary","operations":[{"op":"reassign","parcels":[%d],"to":"%s"}]}`, parcel, to)
}

// draft finds a parcel on the edge of two grids that can move and plans it.
func (e *planEnv) draft(t *testing.T, skip ...string) (id float64, parcel int64, from, to string) {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT p.id, p.grid_code, g.code FROM parcels p JOIN grids g
		ON g.community_code = p.community_code AND g.code <> p.grid_code AND g.status = 'active'
		WHERE p.community_code = $1 AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 1
		ORDER BY p.id, g.code`, e.community)
	if err != nil {
		t.Fatal(err)
	}
	type cand struct {
		id       int64
		from, to string
	}
	var cs []cand
	for rows.Next() {
		var c cand
		_ = rows.Scan(&c.id, &c.from, &c.to)
		cs = append(cs, c)
	}
	for _, c := range cs {
		if strings.Contains(strings.Join(skip, ","), c.from) || strings.Contains(strings.Join(skip, ","), c.to) {
			continue
		}
		code, body := callTok(t, e.planner, "POST", e.base+"/plans", reassignBody(c.id, c.to))
		if code == 201 {
			return body["plan_id"].(float64), c.id, c.from, c.to
		}
	}
	t.Fatal("no parcel could be reassigned")
	return
}

func TestPlansHTTP(t *testing.T) {
	e := planServer(t)
	ctx := context.Background()
	var tilesBefore, seqBefore int64
	e.scalar(t, &tilesBefore, `SELECT version FROM tile_versions WHERE layer = 'grids'`)
	e.scalar(t, &seqBefore, `SELECT coalesce(max(seq), 0) FROM stream_outbox`)

	id, parcel, from, to := e.draft(t)
	var pt [2]float64
	e.scalar(t, &pt, `SELECT ARRAY[ST_X(c), ST_Y(c)] FROM parcels, ST_PointOnSurface(geom) c WHERE id = $1`, parcel)
	if got, _ := e.loc.Locate(pt[0], pt[1]); got.Grid.Code != from {
		t.Fatalf("before apply the parcel locates to %q, want %s", got.Grid.Code, from)
	}
	code, got := callTok(t, e.planner, "GET", fmt.Sprintf("%s/plans/%v", e.base, id), "")
	if code != 200 || got["status"] != "draft" || got["by"] != e.plannerName {
		t.Fatalf("GET plan: %d %v", code, got)
	}
	// A body's by is no one's word: the applier is the credential's user.
	code, applied := callTok(t, e.approver, "POST", fmt.Sprintf("%s/plans/%v/apply", e.base, id), `{"by":"chief"}`)
	if code != 200 || applied["status"] != "applied" || applied["applied_by"] != e.approverName || applied["by"] != e.plannerName {
		t.Fatalf("apply: %d %v", code, applied)
	}
	for _, g := range applied["grids"].([]any) {
		g := g.(map[string]any)
		var h float64
		e.scalar(t, &h, `SELECT households::float8 FROM grids WHERE code = $1`, g["code"])
		if want := g["households"].(map[string]any)["after"].(float64); h != want {
			t.Errorf("grid %v: %v households after apply, preview %v", g["code"], h, want)
		}
	}
	// Effects: tiles invalidated, grid.changed on the stream, the locate
	// index follows.
	var tilesAfter int64
	var streamed int
	e.scalar(t, &tilesAfter, `SELECT version FROM tile_versions WHERE layer = 'grids'`)
	e.scalar(t, &streamed, `SELECT count(*) FROM stream_outbox WHERE seq > $1 AND kind = 'grid.changed' AND region IN ($2, $3)`,
		seqBefore, from, to)
	if tilesAfter <= tilesBefore || streamed != 2 {
		t.Errorf("grids tile version %d → %d, %d grid.changed messages; want a bump and 2", tilesBefore, tilesAfter, streamed)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, _ := e.loc.Locate(pt[0], pt[1])
		if got.Grid.Code == to {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("locate index still answers %q for the moved parcel, want %s", got.Grid.Code, to)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, b := callTok(t, e.approver, "POST", fmt.Sprintf("%s/plans/%v/apply", e.base, id), ""); code != 409 {
		t.Errorf("second apply: %d %v, want 409", code, b)
	}

	// Two drafts on the same grid: the second to apply is stale.
	a, _, _, ato := e.draft(t, from, to)
	var b float64
	code, mb := callTok(t, e.planner, "POST", e.base+"/plans", fmt.Sprintf(`{"by":"other","operations":[{"op":"split","grid":"%s","line":%s}]}`,
		ato, lineAcross(t, e, ato)))
	if code != 201 || mb["by"] != e.plannerName {
		t.Fatalf("split plan: %d %v", code, mb)
	}
	b = mb["plan_id"].(float64)
	if code, body := callTok(t, e.approver, "POST", fmt.Sprintf("%s/plans/%v/apply", e.base, a), ""); code != 200 {
		t.Fatalf("apply: %d %v", code, body)
	}
	code, stale := callTok(t, e.approver, "POST", fmt.Sprintf("%s/plans/%v/apply", e.base, b), "")
	changed, _ := stale["changed"].([]any)
	if code != 412 || len(changed) != 1 || changed[0].(map[string]any)["code"] != ato {
		t.Errorf("stale apply: %d %v, want 412 naming %s", code, stale, ato)
	}

	// History and revert: the versions name the applier (changed_by)
	// and the drafter (planned_by), never a name from a body.
	code, hist := callTok(t, e.planner, "GET", e.base+"/grids/"+to+"/history", "")
	vs, _ := hist["versions"].([]any)
	byBoth := false
	for _, v := range vs {
		v := v.(map[string]any)
		byBoth = byBoth || v["changed_by"] == e.approverName && v["planned_by"] == e.plannerName
		if v["changed_by"] == "chief" {
			t.Errorf("history trusts a body's by: %v", v)
		}
	}
	if code != 200 || len(vs) < 2 || !byBoth || vs[0].(map[string]any)["current"] != true {
		t.Fatalf("history: %d %v", code, hist)
	}
	var version int
	e.scalar(t, &version, `SELECT version FROM grids WHERE code = $1`, to)
	code, rv := callTok(t, e.approver, "POST", e.base+"/grids/"+to+"/revert", `{"version":1,"by":"chief","reason":"undo"}`)
	if code != 200 || rv["status"] != "applied" || rv["applied_by"] != e.approverName || rv["by"] != e.approverName {
		t.Fatalf("revert: %d %v", code, rv)
	}
	var owner string
	e.scalar(t, &owner, `SELECT grid_code FROM parcels WHERE id = $1`, parcel)
	if owner != from {
		t.Errorf("after revert parcel %d is in %s, want %s", parcel, owner, from)
	}
	_ = ctx
}

// lineAcross is a JSON line crossing grid code west to east through its middle.
func lineAcross(t *testing.T, e *planEnv, code string) string {
	t.Helper()
	var b [4]float64
	e.scalar(t, &b, `SELECT ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)] FROM grids WHERE code = $1`, code)
	y := b[1] + (b[3]-b[1])*0.43
	return fmt.Sprintf(`[[%f,%f],[%f,%f]]`, b[0]-1e-4, y, b[2]+1e-4, y)
}

func TestPlansRefused(t *testing.T) {
	e := planServer(t)
	var foreign, island int64
	var a, b, far1, far2 string
	// A parcel of another community of the planner's street; one outside
	// the street is unknown to the planner (TestPlanRefused in postgis).
	e.scalar(t, &foreign, `SELECT id FROM parcels WHERE community_code <> $1 AND community_code LIKE $2 ORDER BY id LIMIT 1`,
		e.community, e.community[:9]+"%")
	e.scalar(t, &a, `SELECT min(code) FROM grids WHERE community_code = $1`, e.community)
	// Two grids of the community that do not touch, and a parcel of the
	// first: given to the second it would be an exclave.
	err := e.db.Pool.QueryRow(context.Background(), `SELECT x.code, y.code, p.id FROM grids x JOIN grids y
		ON x.community_code = y.community_code AND x.code < y.code AND NOT ST_Intersects(x.geom, y.geom)
		JOIN parcels p ON p.grid_code = x.code
		WHERE x.community_code = $1 ORDER BY 1, 2, 3 LIMIT 1`, e.community).Scan(&far1, &far2, &island)
	if err != nil {
		t.Fatal(err)
	}
	line := lineAcross(t, e, a)
	var x0, y0 float64
	fmt.Sscanf(line, "[[%f,%f]", &x0, &y0)
	bow := fmt.Sprintf(`[[%f,%f],[%f,%f],[%f,%f],[%f,%f]]`, x0, y0, x0+0.003, y0, x0+0.003, y0+0.001, x0+0.0015, y0-0.001)
	_ = b
	tests := []struct {
		name, body string
		status     int
		want       string // in the error
	}{
		{"disconnected", reassignBody(island, far2), 422, "would be split in 2 pieces near "},
		{"parcel outside the community", reassignBody(foreign, a), 422, "outside community " + e.community + " near "},
		{"merge of non-adjacent grids", fmt.Sprintf(`{"by":"p","operations":[{"op":"merge","from":"%s","to":"%s"}]}`, far2, far1), 422, "not adjacent"},
		{"self-intersecting line", fmt.Sprintf(`{"by":"p","operations":[{"op":"split","grid":"%s","line":%s}]}`, a, bow), 422, "intersects itself near "},
		{"coordinates out of range", fmt.Sprintf(`{"by":"p","operations":[{"op":"split","grid":"%s","line":[[106.5,29.5],[206.5,29.5]]}]}`, a), 422, "longitude 206.5 is outside"},
		{"boundary elsewhere", fmt.Sprintf(`{"by":"p","operations":[{"op":"draw","grid":"%s","boundary":[[100.5,29.5],[100.6,29.5],[100.6,29.6],[100.5,29.5]]}]}`, a), 422, "does not overlap"},
		{"open boundary", fmt.Sprintf(`{"by":"p","operations":[{"op":"draw","grid":"%s","boundary":[[100.5,29.5],[100.6,29.5],[100.6,29.6]]}]}`, a), 422, "must end where it starts"},
		{"no operations", `{"by":"p","operations":[]}`, 422, "at least one operation"},
		{"unknown op", fmt.Sprintf(`{"by":"p","operations":[{"op":"paint","grid":"%s"}]}`, a), 422, "unknown op"},
		{"malformed", `{"by":"p","operations":[`, 400, "malformed JSON"},
		{"unknown field", `{"by":"p","operations":[],"colour":"red"}`, 400, "unknown field"},
		// by is the credential's, not the body's: a plan without one is
		// judged on its operations alone.
		{"no by", reassignBody(island, far2)[len(`{"by":"planner",`)-1:], 422, "would be split in 2 pieces near "},
		{"bad crs", `{"by":"p","crs":"mars","operations":[]}`, 400, "crs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.name == "no by" {
				body = "{" + body[1:]
			}
			code, got := callTok(t, e.planner, "POST", e.base+"/plans", body)
			msg, _ := got["error"].(string)
			if code != tt.status || !strings.Contains(msg, tt.want) {
				t.Fatalf("%d %v, want %d with %q", code, got, tt.status, tt.want)
			}
			if code == 422 {
				if ps, _ := got["problems"].([]any); len(ps) == 0 {
					t.Errorf("no problems listed: %v", got)
				}
			}
		})
	}
	var plans int
	e.scalar(t, &plans, `SELECT count(*) FROM grid_plans`)
	if plans != 0 {
		t.Errorf("%d refused plans were stored", plans)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/plans/abc", "", 400},
		{"GET", "/plans/99999", "", 404},
		{"POST", "/plans/99999/apply", "", 404},
		{"GET", "/grids/12/history", "", 400},
		{"GET", "/grids/" + e.community + "998/history", "", 404},
		{"POST", "/grids/" + a + "/revert", `{"by":"p"}`, 400},
		{"POST", "/grids/" + a + "/revert", `{"by":"p","version":7}`, 404},
		{"POST", "/grids/" + a + "/revert", `{"by":"p","version":1}`, 409},
	} {
		tok := e.approver
		if c.method == "GET" {
			tok = e.planner
		}
		if code, got := callTok(t, tok, c.method, e.base+c.path, c.body); code != c.status {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, got, c.status)
		}
	}
}

// Two planners apply plans on the same grid at the same moment: one gets
// 200, the other 412 naming the grid, however the race goes.
func TestPlansConcurrentApplyHTTP(t *testing.T) {
	e := planServer(t)
	for round := 0; round < 3; round++ {
		a, _, _, to := e.draft(t)
		code, mb := callTok(t, e.planner, "POST", e.base+"/plans", fmt.Sprintf(`{"by":"other","operations":[{"op":"split","grid":"%s","line":%s}]}`,
			to, lineAcross(t, e, to)))
		if code != 201 {
			t.Fatalf("split plan: %d %v", code, mb)
		}
		ids := []float64{a, mb["plan_id"].(float64)}
		codes := make(chan int, 2)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := callTok(t, e.approver, "POST", fmt.Sprintf("%s/plans/%v/apply", e.base, id), "")
				codes <- code
			}()
		}
		wg.Wait()
		close(codes)
		got := map[int]int{}
		for c := range codes {
			got[c]++
		}
		if got[200] != 1 || got[412] != 1 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, got)
		}
	}
}

func TestGridNeighboursHTTP(t *testing.T) {
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	hs := httptest.NewServer(bearerHandler(New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: db,
		MaxBodyBytes: 1 << 20, Plans: &Plans{Store: db}, Access: testAccess(t, db)}).Handler(),
		testToken(t, db, wangge.RolePlanner, "500103001", nil)))
	t.Cleanup(hs.Close)
	base := hs.URL + "/api/v1/grids/"
	code, body := call(t, "GET", base+"500103001001002/neighbours", "")
	ns, _ := body["neighbours"].([]any)
	if code != 200 || body["code"] != "500103001001002" || len(ns) != 1 {
		t.Fatalf("neighbours: %d %v", code, body)
	}
	n := ns[0].(map[string]any)
	if n["code"] != "500103001001001" || n["same_community"] != true || n["community_code"] != "500103001001" || n["shared_m"].(float64) < 1000 {
		t.Fatalf("neighbour %v", n)
	}
	for _, c := range []struct {
		path   string
		status int
	}{{"5001/neighbours", 400}, {"50010300100100x/neighbours", 400}, {"500103001001999/neighbours", 404}} {
		code, body := call(t, "GET", base+c.path, "")
		wantAnswer(t, code, c.status, body)
	}
	// Outside the caller's jurisdiction the grid is unknown; without a
	// credential nothing answers.
	code, body = callTok(t, testToken(t, db, wangge.RolePlanner, "500104001", nil), "GET", base+"500103001001002/neighbours", "")
	wantAnswer(t, code, 404, body)
	req, _ := http.NewRequest("GET", base+"500103001001002/neighbours", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("a bad token: %d, want 401", res.StatusCode)
	}
}
