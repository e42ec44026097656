package api_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
)

// piiRule says who may see a planted string, and where.
type piiRule struct {
	text   string
	grant  wangge.Permission
	routes []string // path prefixes where the grant shows it
}

var piiRules = []piiRule{
	{piiName1, wangge.PermResidentsFull, []string{"/api/v1/buildings/"}},
	{piiName2, wangge.PermResidentsFull, []string{"/api/v1/buildings/"}},
	{piiID1, wangge.PermResidentsFull, []string{"/api/v1/buildings/"}},
	{piiID2, wangge.PermResidentsFull, []string{"/api/v1/buildings/"}},
	{piiPhone, wangge.PermResidentsFull, []string{"/api/v1/buildings/"}},
	{piiReporter, wangge.PermReporterRead, []string{"/api/v1/events"}},
	{piiWorker, wangge.PermStaffContacts, []string{"/api/v1/"}},
}

// shownTo records the planted strings that did appear where the policy
// grants them: proof the scan reads answers that carry data at all.
var shownTo = map[string]bool{}

// checkPII fails when an answer carries a planted string the role may not
// see on that route.
func checkPII(t *testing.T, role wangge.Role, where, path, body string) {
	t.Helper()
	for _, r := range piiRules {
		if !strings.Contains(body, r.text) {
			continue
		}
		ok := where != "outside" && wangge.RoleMay(role, r.grant)
		if ok {
			ok = false
			for _, p := range r.routes {
				ok = ok || strings.HasPrefix(path, p)
			}
		}
		if !ok {
			t.Errorf("%s (%s) sees %q in %s %s", role, where, r.text, path, short(body))
		} else {
			shownTo[r.text] = true
		}
	}
}

// TestPIIScan plants known personal data (two residents, a reporter, a
// grid worker's phone) and reads every route, tiles of the area and the
// live stream as every role, inside and outside the district: each string
// appears only where the policy grants it.
func TestPIIScan(t *testing.T) {
	c := newCity(t)
	clear(shownTo)
	exs := c.examples()
	c.fillVictims(t, exs)
	tilesToo := []string{"/tiles/onemap/14/13041/6783.mvt", "/tiles/buildings/15/26083/13567.mvt", "/tiles/buildings/16/52166/27134.mvt",
		"/tiles/grids/14/13041/6783.mvt", "/tiles/events/10/815/423.mvt", "/tiles/events/14/13041/6783.mvt", "/tiles/objects/15/26083/13567.mvt"}
	for _, role := range wangge.Roles {
		for side, tok := range map[string]string{"inside": c.inside[role], "outside": c.outside[role]} {
			for key, ex := range exs {
				if ex.method != "GET" && !strings.HasPrefix(key, "POST /api/v1/locate") {
					continue // writes are not replayed per role here; their answers are checked below
				}
				_, body := c.call(t, ex, tok)
				checkPII(t, role, side, ex.path, body)
			}
			for _, p := range tilesToo {
				_, body := c.call(t, example{method: "GET", path: p}, tok)
				checkPII(t, role, side, p, body)
			}
			// Unknown ids and bad input: error texts carry no personal data either.
			for _, p := range []string{"/api/v1/buildings/999999", "/api/v1/events/999999", "/api/v1/regions/500103999",
				"/api/v1/locate?lon=1&lat=1", "/api/v1/buildings/abc"} {
				_, body := c.call(t, example{method: "GET", path: p}, tok)
				checkPII(t, role, side, p, body)
			}
		}
	}
	// The scan would pass on refusals alone; each planted string must have
	// reached those the policy grants it to.
	for _, r := range piiRules {
		if !shownTo[r.text] {
			t.Errorf("%q never reached a role granted %s: the scan saw no data", r.text, r.grant)
		}
	}
	t.Run("stream", func(t *testing.T) { streamPII(t, c) })
	t.Run("write answers", func(t *testing.T) {
		// A transition answers the event: the reporter only to those who may see it.
		for _, role := range []wangge.Role{wangge.RoleCommander, wangge.RoleGridWorker} {
			ex := example{method: "POST", path: "/api/v1/events/" + c.id(c.eventID) + "/transitions", body: `{"action":"note","note":"复核"}`}
			_, body := c.call(t, ex, c.inside[role])
			checkPII(t, role, "inside", ex.path, body)
		}
	})
}

// streamPII connects every role to the live stream, reports an event with
// a reporter and reads what arrives for a moment.
func streamPII(t *testing.T, c *city) {
	type got struct {
		role wangge.Role
		body string
	}
	results := make(chan got, len(wangge.Roles))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	started := 0
	for _, role := range wangge.Roles {
		if !wangge.RoleMay(role, wangge.PermEventsRead) {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", c.url+"/api/v1/stream", nil)
		req.Header.Set("Authorization", "Bearer "+c.inside[role])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		started++
		go func(role wangge.Role) {
			defer res.Body.Close()
			var b strings.Builder
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				b.WriteString(sc.Text() + "\n")
			}
			results <- got{role, b.String()}
		}(role)
	}
	time.Sleep(200 * time.Millisecond)
	c.create(t, wangge.RoleCommander, "/api/v1/events", `{"category":"noise","location":{"lon":106.5614,"lat":29.5514},
		"description":"噪音","reporter":"`+piiReporter+`","source":"hotline_12345"}`)
	seen := 0
	for range started {
		g := <-results
		checkPII(t, g.role, "stream", "/api/v1/stream", g.body)
		if strings.Contains(g.body, "event") {
			seen++
		}
	}
	if seen == 0 {
		t.Error("no role received the new event on the stream: the scan saw nothing")
	}
}
