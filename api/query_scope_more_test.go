package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Buildings: the grid's own worker reads the register in full, a viewer
// of the street only counts, the worker of the next grid and another
// street's commander nothing (404).
func (j *jurisdiction) testBuildings(t *testing.T) {
	path := fmt.Sprintf("/buildings/%d", j.building)
	type person struct{ Name, IDNumber, Phone string }
	var people []person
	rows, err := j.db.Pool.Query(context.Background(), `SELECT name, id_number, coalesce(phone, '') FROM residents
		WHERE building_id = $1 ORDER BY id`, j.building)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.Name, &p.IDNumber, &p.Phone); err != nil {
			t.Fatal(err)
		}
		people = append(people, p)
	}
	rows.Close()

	for name, tok := range map[string]string{"viewer": j.viewer, "street commander": j.streetCmd, "city commander": j.cityCmd} {
		st, body := j.get(t, tok, path, nil)
		wantStatus(t, name, st, 200, body)
		if !strings.Contains(body, `"pii_view":"counts"`) || !strings.Contains(body, `"pii_masked":true`) ||
			!strings.Contains(body, `"age_bands"`) {
			t.Errorf("%s: not the counts view: %s", name, body)
		}
		for _, p := range people {
			for _, pii := range []string{p.Name, p.IDNumber, p.Phone, p.IDNumber[:6] + "********"} {
				if pii != "" && strings.Contains(body, pii) {
					t.Errorf("%s sees %q", name, pii)
				}
			}
		}
		for _, key := range []string{`"age"`, `"id_number"`, `"phone"`, `"gender"`, `"residents"`} {
			if strings.Contains(body, key) {
				t.Errorf("%s: per-person field %s in the counts view", name, key)
			}
		}
	}

	var full struct {
		View       string `json:"pii_view"`
		Masked     bool   `json:"pii_masked"`
		Households []struct {
			UnitNo    string `json:"unit_no"`
			Residents []struct {
				Name     string
				IDNumber string `json:"id_number"`
				Phone    *string
				Age      int
				Gender   string
			}
		}
	}
	st, body := j.get(t, j.worker, path, &full)
	wantStatus(t, "own grid's worker", st, 200, body)
	var got []person
	for _, h := range full.Households {
		for _, r := range h.Residents {
			p := person{Name: r.Name, IDNumber: r.IDNumber}
			if r.Phone != nil {
				p.Phone = *r.Phone
			}
			if r.Gender == "" || r.Age <= 0 && !strings.HasPrefix(r.IDNumber[6:10], "202") || h.UnitNo == "" {
				t.Errorf("full resident without gender, age or unit: %+v in %q", r, h.UnitNo)
			}
			got = append(got, p)
		}
	}
	if full.View != "full" || full.Masked || !slices.Equal(got, people) {
		t.Errorf("full view %q masked %v: %+v, want %+v", full.View, full.Masked, got, people)
	}

	for name, tok := range map[string]string{"next grid's worker": j.worker2, "other street's commander": j.otherCmd} {
		st, body := j.get(t, tok, path, nil)
		wantStatus(t, name, st, 404, body)
		for _, p := range people {
			if strings.Contains(body, p.Name) {
				t.Errorf("%s: a name in the 404", name)
			}
		}
	}
}

// Stats: the street commander's choropleth holds its street's grids, with
// the same values as the city's; a level above the street is empty; the
// cache never serves one scope's answer to another.
func (j *jurisdiction) testStats(t *testing.T) {
	type stats struct {
		Count  int
		Values map[string]*float64
	}
	var city, street, worker stats
	if st, body := j.get(t, j.cityCmd, "/stats?level=grid&metric=residents", &city); st != 200 {
		t.Fatalf("city: %d %s", st, body)
	}
	if st, body := j.get(t, j.streetCmd, "/stats?level=grid&metric=residents", &street); st != 200 {
		t.Fatalf("street: %d %s", st, body)
	}
	want := j.sqlStrings(t, `SELECT code FROM grids WHERE status = 'active' AND code LIKE $1 ORDER BY code`, j.street+"%")
	var keys []string
	for k, v := range street.Values {
		keys = append(keys, k)
		if v == nil || city.Values[k] == nil || *v != *city.Values[k] {
			t.Errorf("grid %s: %v in the street, %v in the city", k, v, city.Values[k])
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) || street.Count != len(want) || city.Count <= len(want) {
		t.Errorf("street stats %v (count %d), want %v; city %d", keys, street.Count, want, city.Count)
	}
	if st, _ := j.get(t, j.worker, "/stats?level=grid&metric=open_events", &worker); st != 200 || worker.Count != 1 ||
		worker.Values[j.grid] == nil {
		t.Errorf("grid worker's stats: %d %+v", st, worker)
	}
	var district stats
	if st, body := j.get(t, j.streetCmd, "/stats?level=district&metric=residents", &district); st != 200 || district.Count != 0 {
		t.Errorf("a district's figure for a street commander: %d %s", st, body)
	}
}

// Search: only regions, grids, buildings and posts inside the scope.
func (j *jurisdiction) testSearch(t *testing.T) {
	type hits struct {
		Results []struct{ Kind, ID, Detail string }
	}
	var name2 string
	if err := j.db.Pool.QueryRow(context.Background(), `SELECT name FROM regions WHERE code = $1`, j.street2).Scan(&name2); err != nil {
		t.Fatal(err)
	}
	var h hits
	if st, body := j.get(t, j.cityCmd, "/search?q="+url.QueryEscape(name2), &h); st != 200 || len(h.Results) == 0 {
		t.Fatalf("city search for %s: %d %s", name2, st, body)
	}
	for _, q := range []string{name2, j.district, j.street2, j.grid3, "重庆", "路"} {
		h = hits{}
		st, body := j.get(t, j.streetCmd, "/search?limit=100&q="+url.QueryEscape(q), &h)
		wantStatus(t, "search "+q, st, 200, body)
		for _, r := range h.Results {
			code := r.ID
			switch r.Kind {
			case "building":
				code = r.Detail // its grid
			case "post":
				if err := j.db.Pool.QueryRow(context.Background(), `SELECT coalesce(grid_code, '') FROM posts WHERE id = $1::bigint`,
					r.ID).Scan(&code); err != nil {
					t.Fatal(err)
				}
			}
			if !strings.HasPrefix(code, j.street) {
				t.Errorf("search %q as the street commander finds %s %s (%s)", q, r.Kind, r.ID, code)
			}
		}
	}
}

// Features: every collection's items are those inside the scope (counted
// against SQL), an item outside it is not found, and an event's reporter
// never appears, even to a role that may read reporters elsewhere.
func (j *jurisdiction) testFeatures(t *testing.T) {
	ctx := context.Background()
	if _, err := j.db.Pool.Exec(ctx, `UPDATE events SET reporter = '钱七拨打13900002222' WHERE grid_code LIKE $1`, j.street+"%"); err != nil {
		t.Fatal(err)
	}
	tables := map[string]string{
		"districts": `regions WHERE level = 'district' AND code`, "streets": `regions WHERE level = 'street' AND code`,
		"communities": `regions WHERE level = 'community' AND code`, "grids": `grids WHERE status = 'active' AND code`,
		"parcels": `parcels WHERE grid_code`, "buildings": `buildings WHERE grid_code`, "objects": `objects WHERE grid_code`,
		"posts": `posts WHERE grid_code`, "events": `events WHERE grid_code`,
	}
	for col, from := range tables {
		for _, who := range []struct {
			tok, scope string
		}{{j.streetCmd, j.street}, {j.worker, j.grid}} {
			var want int64
			if err := j.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+from+` LIKE $1`, who.scope+"%").Scan(&want); err != nil {
				t.Fatal(err)
			}
			var fc fcBody
			st, body := j.get(t, who.tok, "/collections/"+col+"/items?limit=1000", &fc)
			if st != 200 || fc.NumberMatched != want {
				t.Errorf("%s inside %s: %d, matched %d, want %d", col, who.scope, st, fc.NumberMatched, want)
			}
			for _, f := range fc.Features {
				code, _ := f.Properties["grid_code"].(string)
				if c, ok := f.Properties["code"].(string); ok {
					code = c
				}
				if !strings.HasPrefix(code, who.scope) {
					t.Errorf("%s inside %s: item %v of %q", col, who.scope, f.ID, code)
				}
			}
			if strings.Contains(body, "钱七") || strings.Contains(body, `"reporter"`) {
				t.Errorf("%s: a reporter in the features", col)
			}
		}
	}
	// One item: in the scope 200, outside it 404.
	var inID, outID int64
	if err := j.db.Pool.QueryRow(ctx, `SELECT (SELECT min(id) FROM buildings WHERE grid_code LIKE $1),
		(SELECT min(id) FROM buildings WHERE grid_code LIKE $2)`, j.street+"%", j.street2+"%").Scan(&inID, &outID); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"/collections/buildings/items/" + strconv.FormatInt(inID, 10):  200,
		"/collections/buildings/items/" + strconv.FormatInt(outID, 10): 404,
		"/collections/grids/items/" + j.grid:                           200,
		"/collections/grids/items/" + j.grid3:                          404,
		"/collections/streets/items/" + j.street:                       200,
		"/collections/districts/items/" + j.district:                   404, // above the scope: not inside it
	} {
		st, body := j.get(t, j.streetCmd, path, nil)
		wantStatus(t, path, st, want, body)
	}
}

// Locate: a point in the caller's grid is found, one in the next grid is
// "outside every grid" (GET, both engines) or null (batch); the worker's
// phone only for staff.
func (j *jurisdiction) testLocate(t *testing.T) {
	pt := func(code string) [2]float64 {
		var p [2]float64
		if err := j.db.Pool.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM
			(SELECT ST_PointOnSurface(geom) AS p FROM grids WHERE code = $1) x`, code).Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in, next := pt(j.grid), pt(j.grid2)
	q := func(p [2]float64, engine string) string {
		return fmt.Sprintf("/locate?lon=%v&lat=%v&engine=%s", p[0], p[1], engine)
	}
	for _, engine := range []string{"index", "postgis"} {
		var got struct{ Grid struct{ Code string } }
		if st, body := j.get(t, j.worker, q(in, engine), &got); st != 200 || got.Grid.Code != j.grid {
			t.Errorf("%s: own grid: %d %s", engine, st, body)
		}
		st, body := j.get(t, j.worker, q(next, engine), nil)
		if wantStatus(t, engine+": next grid", st, 404, body); !strings.Contains(body, "outside every grid") || strings.Contains(body, j.grid2) {
			t.Errorf("%s: next grid answered unlike a point outside the city: %s", engine, body)
		}
		if st, _ := j.get(t, j.streetCmd, q(next, engine), nil); st != 200 {
			t.Errorf("%s: the street commander cannot locate in its street: %d", engine, st)
		}
	}
	batch := fmt.Sprintf(`{"points":[[%v,%v],[%v,%v]]}`, in[0], in[1], next[0], next[1])
	var b struct {
		Found   int
		Grids   []*string
		Regions map[string]json.RawMessage
	}
	st, body := j.do(t, j.worker, "POST", "/locate", batch, &b)
	if st != 200 || b.Found != 1 || len(b.Grids) != 2 || b.Grids[0] == nil || *b.Grids[0] != j.grid || b.Grids[1] != nil ||
		len(b.Regions) != 1 || strings.Contains(body, j.grid2) {
		t.Errorf("batch as the grid worker: %d %s", st, body)
	}
	var phone string
	if err := j.db.Pool.QueryRow(context.Background(), `SELECT phone FROM units WHERE kind = 'grid_worker' AND grid_code = $1
		ORDER BY id LIMIT 1`, j.grid).Scan(&phone); err != nil {
		t.Fatal(err)
	}
	// Twice each, so that the second answer comes from the encoded cache.
	for _, who := range []struct {
		tok  string
		show bool
	}{{j.viewer, false}, {j.streetCmd, true}, {j.viewer, false}, {j.streetCmd, true}} {
		for _, engine := range []string{"index", "postgis"} {
			_, body := j.get(t, who.tok, q(in, engine), nil)
			_, batchBody := j.do(t, who.tok, "POST", "/locate", batch, nil)
			for _, got := range []string{body, batchBody} {
				if strings.Contains(got, phone) != who.show {
					t.Errorf("%s: worker's phone shown %v, want %v: %s", engine, !who.show, who.show, got)
				}
			}
		}
	}
}
