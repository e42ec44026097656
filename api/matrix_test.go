package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/apitest"
)

// example is a valid request for one route, aimed at the small city
// (district 500103). Inside it every role the policy allows must pass the
// policy and the scope; outside it, a targeted request (one item, a write)
// must answer 404 (or 403 for a write naming a place), and a list must
// carry nothing of the district.
type example struct {
	method, path, body, form string
	list                     bool                // outside: 200 with nothing of 500103
	inside                   map[wangge.Role]int // role → expected status inside; default: through policy and scope (passed)
	skipOutside              bool                // the target is the caller itself (session)
	fresh                    bool                // spends its credential: each call gets a new one
}

func (c *city) examples() map[string]example {
	ev, plan := c.id(c.eventID), c.id(c.planID)
	return map[string]example{
		"GET /healthz":     {method: "GET", path: "/healthz", list: true},
		"GET /readyz":      {method: "GET", path: "/readyz", list: true},
		"GET /version":     {method: "GET", path: "/version", list: true},
		"GET /":            {method: "GET", path: "/", list: true},
		"HEAD /":           {method: "HEAD", path: "/", list: true},
		"GET /index.html":  {method: "GET", path: "/index.html", list: true},
		"HEAD /index.html": {method: "HEAD", path: "/index.html", list: true},

		"POST /api/v1/session":             {method: "POST", path: "/api/v1/session", body: `{"name":"LOGINUSER","password":"` + apitest.Password + `"}`, list: true},
		"GET /api/v1/session":              {method: "GET", path: "/api/v1/session", skipOutside: true},
		"DELETE /api/v1/session":           {method: "DELETE", path: "/api/v1/session", skipOutside: true, fresh: true},
		"GET /api/v1/users":                {method: "GET", path: "/api/v1/users", list: true},
		"POST /api/v1/users":               {method: "POST", path: "/api/v1/users", body: `{"name":"NAME","role":"viewer","region":"500103001","password":"a good long password"}`},
		"POST /api/v1/users/:name/disable": {method: "POST", path: "/api/v1/users/VICTIM/disable"},
		"GET /api/v1/tokens":               {method: "GET", path: "/api/v1/tokens", list: true},
		"POST /api/v1/tokens":              {method: "POST", path: "/api/v1/tokens", body: `{"user":"VICTIM2","ttl":"1h"}`},
		"DELETE /api/v1/tokens/:id":        {method: "DELETE", path: "/api/v1/tokens/VICTIMTOKEN"},
		"GET /api/v1/audit":                {method: "GET", path: "/api/v1/audit?limit=50", list: true},

		"GET /tiles":                               {method: "GET", path: "/tiles", list: true},
		"GET /tiles/:source":                       {method: "GET", path: "/tiles/onemap.json", list: true},
		"GET /tiles/:source/:z/:x/:y":              {method: "GET", path: "/tiles/events/14/13041/6783.mvt", list: true},
		"GET /api/v1/locate":                       {method: "GET", path: "/api/v1/locate?lon=106.5612&lat=29.5512"},
		"POST /api/v1/locate":                      {method: "POST", path: "/api/v1/locate", body: `{"points":[[106.5612,29.5512],[106.5712,29.5512]]}`, list: true},
		"GET /api/v1/regions":                      {method: "GET", path: "/api/v1/regions", list: true},
		"GET /api/v1/regions/:code":                {method: "GET", path: "/api/v1/regions/500103001001001"},
		"GET /api/v1/stats":                        {method: "GET", path: "/api/v1/stats?level=grid&metric=households", list: true},
		"GET /api/v1/search":                       {method: "GET", path: "/api/v1/search?q=" + url.QueryEscape("测试"), list: true},
		"GET /api/v1/collections":                  {method: "GET", path: "/api/v1/collections", list: true},
		"GET /api/v1":                              {method: "GET", path: "/api/v1", list: true},
		"GET /api/v1/conformance":                  {method: "GET", path: "/api/v1/conformance", list: true},
		"GET /api/v1/api":                          {method: "GET", path: "/api/v1/api", list: true},
		"GET /metrics":                             {method: "GET", path: "/metrics", list: true},
		"GET /debug/pprof/":                        {method: "GET", path: "/debug/pprof/", list: true},
		"GET /debug/pprof/:profile":                {method: "GET", path: "/debug/pprof/goroutine?debug=1", list: true},
		"GET /api/v1/collections/:layer":           {method: "GET", path: "/api/v1/collections/grids", list: true},
		"GET /api/v1/collections/:layer/items":     {method: "GET", path: "/api/v1/collections/buildings/items", list: true},
		"GET /api/v1/collections/:layer/items/:id": {method: "GET", path: "/api/v1/collections/grids/items/500103001001001"},
		"GET /api/v1/buildings/:id":                {method: "GET", path: "/api/v1/buildings/101"},

		"POST /api/v1/events": {method: "POST", path: "/api/v1/events",
			body: `{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"深夜施工","source":"patrol"}`},
		"GET /api/v1/events":     {method: "GET", path: "/api/v1/events", list: true},
		"GET /api/v1/events/:id": {method: "GET", path: "/api/v1/events/" + ev},
		"POST /api/v1/events/:id/transitions": {method: "POST", path: "/api/v1/events/" + ev + "/transitions", body: `{"action":"note","note":"到场核实"}`,
			inside: map[wangge.Role]int{wangge.RoleResponder: 404}}, // not dispatched to its unit
		"POST /api/v1/alarms":               {method: "POST", path: "/api/v1/alarms", body: `{"device_id":"SMK-0001","note":"烟雾"}`},
		"GET /api/v1/kpi":                   {method: "GET", path: "/api/v1/kpi", list: true},
		"GET /api/v1/stream":                {method: "GET", path: "/api/v1/stream", list: true},
		"GET /api/v1/responders/nearest":    {method: "GET", path: "/api/v1/responders/nearest?lon=106.5612&lat=29.5512&k=3", list: true},
		"GET /api/v1/events/:id/responders": {method: "GET", path: "/api/v1/events/" + ev + "/responders?k=3"},
		"PUT /api/v1/units/:id/position":    {method: "PUT", path: "/api/v1/units/9002/position", body: `{"lon":106.566,"lat":29.557}`},
		"PUT /api/v1/units/:id/status":      {method: "PUT", path: "/api/v1/units/9002/status", body: `{"status":"available"}`},

		"POST /api/v1/plans":                 {method: "POST", path: "/api/v1/plans", body: `{"reason":"matrix","operations":[{"op":"reassign","parcels":[11],"to":"500103001001002"}]}`},
		"GET /api/v1/plans/:id":              {method: "GET", path: "/api/v1/plans/" + plan},
		"POST /api/v1/plans/:id/apply":       {method: "POST", path: "/api/v1/plans/" + plan + "/apply", body: `{}`},
		"GET /api/v1/grids/:code/history":    {method: "GET", path: "/api/v1/grids/500103001001001/history"},
		"GET /api/v1/grids/:code/neighbours": {method: "GET", path: "/api/v1/grids/500103001001001/neighbours"},
		"POST /api/v1/grids/:code/revert":    {method: "POST", path: "/api/v1/grids/500103001001002/revert", body: `{"version":1,"reason":"matrix"}`},

		"GET /open311/v2/:doc":           {method: "GET", path: "/open311/v2/requests.json", list: true},
		"POST /open311/v2/:doc":          {method: "POST", path: "/open311/v2/requests.json", form: "service_code=noise&lat=29.5513&long=106.5613&description=" + url.QueryEscape("噪音扰民")},
		"GET /open311/v2/services/:code": {method: "GET", path: "/open311/v2/services/noise.json", list: true},
		"GET /open311/v2/requests/:id":   {method: "GET", path: "/open311/v2/requests/" + ev + ".json"},
		"GET /open311/v2/tokens/:token":  {method: "GET", path: "/open311/v2/tokens/ev-" + ev + ".json"},
	}
}

// call sends one example with a token ("" anonymous) and returns the
// status and body; the live stream is read only up to its headers.
func (c *city) call(t *testing.T, ex example, token string) (int, string) {
	t.Helper()
	ex.body = strings.ReplaceAll(ex.body, "NAME", "made-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var body *strings.Reader
	switch {
	case ex.form != "":
		body = strings.NewReader(ex.form)
	default:
		body = strings.NewReader(ex.body)
	}
	req, err := http.NewRequestWithContext(ctx, ex.method, c.url+ex.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case ex.form != "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case ex.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res.StatusCode, ""
	}
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, b.String()
}

func passed(status int) bool {
	return status >= 200 && status < 300 || status == 409 || status == 412 || status == 422
}

// TestPolicyMatrix walks every registered route × every role × inside and
// outside the jurisdiction and holds each answer to the policy table: no
// credential 401 (public routes aside), a role without the permission 403,
// inside the jurisdiction through, outside it 404 or nothing of the
// district. A route without an example here fails the test.
func TestPolicyMatrix(t *testing.T) {
	c := newCity(t)
	policy := c.server.Policy()
	exs := c.examples()
	c.fillVictims(t, exs)
	keys := make([]string, 0, len(policy))
	for k := range policy {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		ex, ok := exs[key]
		if !ok {
			t.Errorf("route %s has no example in the matrix: add one", key)
			continue
		}
		rule := policy[key]
		perm := rule.Perm
		for param, p := range rule.ByParam {
			if strings.Contains(ex.path, "/"+param+"/") || strings.Contains(ex.path, "/"+param+".") {
				perm = p
			}
		}
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			st, body := c.call(t, ex, "")
			if anon := wangge.May(wangge.RoleAnonymous, perm, true); anon && st == 401 || !anon && st != 401 {
				t.Errorf("anonymous: %d %s", st, short(body))
			}
			for _, role := range wangge.Roles {
				allowed := wangge.May(role, perm, true)
				tok := c.inside[role]
				if ex.fresh {
					tok = c.token(t, role, insideRegion[role])
				}
				st, body := c.call(t, ex, tok)
				want, override := ex.inside[role]
				switch {
				case !allowed && st != 403:
					t.Errorf("%s inside: %d, want 403 (the role lacks %s): %s", role, st, perm, short(body))
				case allowed && override && st != want:
					t.Errorf("%s inside: %d, want %d: %s", role, st, want, short(body))
				case allowed && !override && !passed(st):
					t.Errorf("%s inside: %d, want it through policy and scope: %s", role, st, short(body))
				}
				if ex.skipOutside || !allowed || perm == wangge.PermPublic {
					continue
				}
				st, body = c.call(t, ex, c.outside[role])
				switch {
				case ex.list && (!passed(st) && st != 204 || strings.Contains(body, "500103")):
					t.Errorf("%s outside: %d, want the list without district 500103: %s", role, st, short(body))
				case !ex.list && st != 404 && !(ex.method != "GET" && st == 403):
					t.Errorf("%s outside: %d, want 404: %s", role, st, short(body))
				}
			}
		})
	}
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// token is a new principal's token (responders get the patrol unit).
func (c *city) token(t *testing.T, role wangge.Role, region string) string {
	var unit *int64
	if role == wangge.RoleResponder {
		u := int64(9002)
		unit = &u
	}
	return apitest.Token(t, c.db, role, region, unit)
}

// fillVictims makes the accounts the admin examples act on: inside the
// district, so an admin outside it must not reach them.
func (c *city) fillVictims(t *testing.T, exs map[string]example) {
	t.Helper()
	victim, _ := apitest.User(t, c.db, wangge.RoleViewer, "500103001", nil)
	victim2, _ := apitest.User(t, c.db, wangge.RoleViewer, "500103001", nil)
	victim3, _ := apitest.User(t, c.db, wangge.RoleViewer, "500103001", nil)
	var tokID int64
	if err := c.db.Pool.QueryRow(context.Background(), `SELECT c.id FROM credentials c JOIN users u ON u.id = c.user_id
		WHERE u.name = $1`, victim3).Scan(&tokID); err != nil {
		t.Fatal(err)
	}
	login, _ := apitest.User(t, c.db, wangge.RoleViewer, "500103001", nil)
	for k, ex := range exs {
		r := strings.NewReplacer("LOGINUSER", login, "VICTIMTOKEN", strconv.FormatInt(tokID, 10), "VICTIM2", victim2, "VICTIM", victim)
		ex.path, ex.body = r.Replace(ex.path), r.Replace(ex.body)
		exs[k] = ex
	}
}
