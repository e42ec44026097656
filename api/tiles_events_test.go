package api

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/tiles"
)

// TestEventTilesPerJurisdiction: the events source holds the caller's
// jurisdiction only and is cached per scope, so a tile rendered for the
// city is never served to another street; the base map stays shared.
func TestEventTilesPerJurisdiction(t *testing.T) {
	s, r, city := tileServer(t)
	db := r.db
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO events (category_code, status, tier, source, priority,
		grid_code, description, reported_at, deadline_at, geom) VALUES ('noise', 'accepted', 'grid', 'hotline_12345', 4,
		'500103001001001', '噪音', now(), now() + interval '1 day', ST_SetSRID(ST_MakePoint(106.5612, 29.5512), 4326))`); err != nil {
		t.Fatal(err)
	}
	street := testToken(t, db, wangge.RoleCommander, "500103001", nil)
	other := testToken(t, db, wangge.RoleCommander, "500103002", nil)
	get := func(path, tok string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, bearer(httptest.NewRequest("GET", path, nil), tok))
		return w
	}
	const tile = "/tiles/events/14/13041/6783.mvt"
	for _, c := range []struct {
		name, tok string
		want      int
	}{{"city", city, 200}, {"other street after the city's render", other, 204}, {"street", street, 200},
		{"other street again (cached)", other, 204}} {
		if w := get(tile, c.tok); w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		} else if c.want == 200 && w.Header().Get("Cache-Control") != "private, no-cache" {
			t.Errorf("%s: Cache-Control %q", c.name, w.Header().Get("Cache-Control"))
		}
	}
	if n := r.calls.Load(); n != 3 {
		t.Errorf("%d renders for three scopes", n)
	}
	// The base map is one tile for everybody.
	before := r.calls.Load()
	for _, tok := range []string{city, street, other} {
		if w := get("/tiles/grids/14/13041/6783.mvt", tok); w.Code != 200 {
			t.Fatalf("grids tile: %d", w.Code)
		}
	}
	if n := r.calls.Load() - before; n != 1 {
		t.Errorf("%d renders of one base map tile for three callers", n)
	}
	// Keys: the scope is part of the events key only.
	if tiles.FilterKey(postgis.EventFilter{}) != "" ||
		tiles.FilterKey(postgis.EventFilter{Scope: wangge.ScopeOf("500103001")}) == tiles.FilterKey(postgis.EventFilter{Scope: wangge.CityScope()}) {
		t.Error("filter keys do not tell scopes apart")
	}
}
