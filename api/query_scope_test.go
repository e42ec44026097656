package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// jurisdiction is the cast of the scope tests over the seeded city: a
// street S with a grid G that has a worker and a building B with
// residents, another grid G2 of S, another street S2 of the district.
type jurisdiction struct {
	db                      *postgis.DB
	base                    string
	district, street, grid  string
	grid2, street2, grid3   string // grid3 lies in street2
	building                int64
	streetCmd, otherCmd     string // commanders of S and S2
	worker, worker2, viewer string // grid workers of G and G2, a viewer of S
	cityCmd                 string
}

func newJurisdiction(t *testing.T) *jurisdiction {
	t.Helper()
	db, base := queryServer(t)
	j := &jurisdiction{db: db, base: base}
	ctx := context.Background()
	if err := db.Pool.QueryRow(ctx, `SELECT b.id, b.grid_code FROM buildings b
		WHERE EXISTS (SELECT 1 FROM residents r WHERE r.building_id = b.id AND r.phone IS NOT NULL)
		  AND EXISTS (SELECT 1 FROM units u WHERE u.kind = 'grid_worker' AND u.grid_code = b.grid_code)
		  AND (SELECT count(*) FROM grids g WHERE g.status = 'active' AND left(g.code, 9) = left(b.grid_code, 9)) > 1
		ORDER BY b.id LIMIT 1`).Scan(&j.building, &j.grid); err != nil {
		t.Fatalf("fixture building: %v", err)
	}
	j.street, j.district = j.grid[:9], j.grid[:6]
	if err := db.Pool.QueryRow(ctx, `SELECT min(code) FROM grids WHERE status = 'active' AND code LIKE $1 AND code <> $2`,
		j.street+"%", j.grid).Scan(&j.grid2); err != nil {
		t.Fatalf("fixture grid2: %v", err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT min(code) FROM grids WHERE status = 'active' AND left(code, 6) = $1 AND left(code, 9) <> $2`,
		j.district, j.street).Scan(&j.grid3); err != nil {
		t.Fatalf("fixture grid3: %v", err)
	}
	j.street2 = j.grid3[:9]
	j.streetCmd = testToken(t, db, wangge.RoleCommander, j.street, nil)
	j.otherCmd = testToken(t, db, wangge.RoleCommander, j.street2, nil)
	j.worker = testToken(t, db, wangge.RoleGridWorker, j.grid, nil)
	j.worker2 = testToken(t, db, wangge.RoleGridWorker, j.grid2, nil)
	j.viewer = testToken(t, db, wangge.RoleViewer, j.street, nil)
	j.cityCmd = testToken(t, db, wangge.RoleCommander, "", nil)
	return j
}

// get sends GET base+path as tok and decodes the answer into into (may be nil).
func (j *jurisdiction) get(t *testing.T, tok, path string, into any) (int, string) {
	t.Helper()
	return j.do(t, tok, "GET", path, "", into)
}

func (j *jurisdiction) do(t *testing.T, tok, method, path, body string, into any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, j.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw := readAll(t, res)
	if into != nil && res.StatusCode == 200 {
		if err := json.Unmarshal([]byte(raw), into); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return res.StatusCode, raw
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// sqlStrings runs a query of one text column.
func (j *jurisdiction) sqlStrings(t *testing.T, q string, args ...any) []string {
	t.Helper()
	rows, err := j.db.Pool.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func wantStatus(t *testing.T, what string, got, want int, body string) {
	t.Helper()
	if got != want {
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		t.Errorf("%s: %d, want %d: %s", what, got, want, body)
	}
}

// TestQueryJurisdiction holds every read route of the map to the caller's
// scope: a street commander and a grid worker inside and outside it.
func TestQueryJurisdiction(t *testing.T) {
	j := newJurisdiction(t)
	t.Logf("street %s, grid %s (building %d), grid2 %s, street2 %s", j.street, j.grid, j.building, j.grid2, j.street2)
	t.Run("regions", j.testRegions)
	t.Run("buildings", j.testBuildings)
	t.Run("stats", j.testStats)
	t.Run("search", j.testSearch)
	t.Run("features", j.testFeatures)
	t.Run("locate", j.testLocate)
	t.Run("refused", j.testRefused)
}

// testRefused: no credential 401, a role without the permission 403, and
// a building read from the store cannot be written out unredacted.
func (j *jurisdiction) testRefused(t *testing.T) {
	building := fmt.Sprintf("/buildings/%d", j.building)
	for _, path := range []string{"/regions", "/regions/" + j.street, building, "/stats?level=grid&metric=residents",
		"/search?q=" + j.street, "/collections/grids/items", "/locate?lon=106.5&lat=29.5"} {
		req, _ := http.NewRequest("GET", j.base+path, nil)
		req.Header.Set("Authorization", "Bearer ") // an empty credential: the server's default token is not added
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		wantStatus(t, "anonymous "+path, res.StatusCode, 401, "")
	}
	for _, role := range []wangge.Role{wangge.RolePlanner, wangge.RoleAuditor, wangge.RoleApprover, wangge.RoleAdmin} {
		st, body := j.get(t, testToken(t, j.db, role, j.street, nil), building, nil)
		wantStatus(t, string(role)+" "+building, st, 403, body)
	}
	b, err := j.db.Building(context.Background(), wangge.CityScope(), j.building)
	if err != nil || len(b.Households) == 0 {
		t.Fatalf("building: %v", err)
	}
	if js, err := json.Marshal(b); !errors.Is(err, wangge.ErrUnredacted) {
		t.Errorf("a stored building marshalled as it is: %.200s, %v", js, err)
	}
}

type regionAnswer struct {
	Code     string
	InScope  bool `json:"in_scope"`
	Counts   *postgis.Counts
	Geometry json.RawMessage
	Children []postgis.RegionNode
	Worker   *struct {
		Name  string
		Phone *string
	}
}

func codes(ns []postgis.RegionNode) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Code
	}
	return out
}

func (j *jurisdiction) testRegions(t *testing.T) {
	var top struct{ Children []postgis.RegionNode }
	for _, tok := range []string{j.streetCmd, j.worker} {
		if st, body := j.get(t, tok, "/regions", &top); st != 200 || !slices.Equal(codes(top.Children), []string{j.district}) {
			t.Errorf("/regions: %d %s, want only %s", st, body, j.district)
		}
	}
	if st, _ := j.get(t, j.cityCmd, "/regions", &top); st != 200 || len(top.Children) < 2 {
		t.Errorf("/regions for the city: %d %v", st, codes(top.Children))
	}

	// The street commander: its district named (no counts, no outline),
	// its own street in full, the rest of the district not found.
	var r regionAnswer
	st, body := j.get(t, j.streetCmd, "/regions/"+j.district+"?geometry=true", &r)
	if st != 200 || r.InScope || r.Counts != nil || len(r.Geometry) != 0 || !slices.Equal(codes(r.Children), []string{j.street}) {
		t.Errorf("district above the scope: %d %s", st, body)
	}
	r = regionAnswer{}
	if st, body := j.get(t, j.streetCmd, "/regions/"+j.street, &r); st != 200 || !r.InScope || r.Counts == nil {
		t.Errorf("own street: %d %s", st, body)
	} else if want := sqlCounts(t, j.db, j.street); r.Counts.Residents != want.Residents || r.Counts.OpenEvents != want.OpenEvents ||
		r.Counts.Buildings != want.Buildings {
		t.Errorf("own street counts %+v, want %+v", r.Counts, want)
	}
	for _, code := range []string{j.street2, j.grid3, j.grid3[:12], "500229"} {
		st, body := j.get(t, j.streetCmd, "/regions/"+code, nil)
		wantStatus(t, "street commander, "+code, st, 404, body)
	}

	// The grid worker: its grid in full, the community above named with
	// its grid alone, the neighbouring grid not found.
	r = regionAnswer{}
	if st, body := j.get(t, j.worker, "/regions/"+j.grid, &r); st != 200 || !r.InScope || r.Counts == nil || r.Worker == nil {
		t.Errorf("own grid: %d %s", st, body)
	}
	r = regionAnswer{}
	if st, body := j.get(t, j.worker, "/regions/"+j.grid[:12], &r); st != 200 || r.InScope || r.Counts != nil ||
		!slices.Equal(codes(r.Children), []string{j.grid}) {
		t.Errorf("community above the grid: %d %s", st, body)
	}
	for _, code := range []string{j.grid2, j.street2, j.grid3} {
		st, body := j.get(t, j.worker, "/regions/"+code, nil)
		wantStatus(t, "grid worker, "+code, st, 404, body)
	}

	// The grid's worker's phone: staff see it, a viewer does not.
	var phone string
	if err := j.db.Pool.QueryRow(context.Background(), `SELECT phone FROM units WHERE kind = 'grid_worker' AND grid_code = $1
		ORDER BY id LIMIT 1`, j.grid).Scan(&phone); err != nil {
		t.Fatal(err)
	}
	for tok, show := range map[string]bool{j.streetCmd: true, j.worker: true, j.viewer: false} {
		r = regionAnswer{}
		st, body := j.get(t, tok, "/regions/"+j.grid, &r)
		if st != 200 || r.Worker == nil {
			t.Fatalf("grid: %d %s", st, body)
		}
		if got := r.Worker.Phone != nil && *r.Worker.Phone == phone; got != show || !show && strings.Contains(body, phone) {
			t.Errorf("worker's phone shown %v, want %v: %s", got, show, body)
		}
	}
}
