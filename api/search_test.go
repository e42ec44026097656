package api

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/wangge/wangge/postgis"
)

type searchBody struct {
	Count   int                 `json:"count"`
	Results []postgis.SearchHit `json:"results"`
}

func TestSearchRoute(t *testing.T) {
	db, base := queryServer(t)
	ctx := context.Background()
	one := func(q string) string {
		t.Helper()
		var s string
		if err := db.Pool.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	community := one(`SELECT name FROM regions WHERE level = 'community' ORDER BY code LIMIT 1`)
	communityCode := one(`SELECT code FROM regions WHERE level = 'community' ORDER BY code LIMIT 1`)
	grid := one(`SELECT min(code) FROM grids WHERE status = 'active'`)
	post := one(`SELECT name FROM posts ORDER BY id LIMIT 1`)
	postID := one(`SELECT id::text FROM posts ORDER BY id LIMIT 1`)
	address := one(`SELECT address FROM buildings ORDER BY id LIMIT 1`)
	road := address[:strings.LastIndex(address, "路")+len("路")] // 重庆市…街道XX路
	road = road[strings.LastIndex(road, "道")+len("道"):]

	search := func(q string, limit string) searchBody {
		t.Helper()
		var s searchBody
		u := base + "/search?q=" + url.QueryEscape(q)
		if limit != "" {
			u += "&limit=" + limit
		}
		if code := getJSON(t, u, &s); code != 200 {
			t.Fatalf("search %q: status %d", q, code)
		}
		return s
	}
	firsts := []struct{ q, kind, id string }{
		{community, "community", communityCode},
		{communityCode, "community", communityCode},
		{"500103", "district", "500103"},
		{grid, "grid", grid},
		{post, "post", postID},
	}
	for _, tt := range firsts {
		s := search(tt.q, "")
		if len(s.Results) == 0 || s.Results[0].Kind != tt.kind || s.Results[0].ID != tt.id {
			t.Errorf("search %q: first %+v, want %s %s", tt.q, first(s.Results), tt.kind, tt.id)
		}
		for i := 1; i < len(s.Results); i++ {
			if s.Results[i].Score > s.Results[i-1].Score {
				t.Errorf("search %q: not ranked at %d", tt.q, i)
			}
		}
	}

	// A road name finds its buildings, every result mentioning it.
	s := search(road, "50")
	buildings := 0
	for _, h := range s.Results {
		if h.Kind == "building" {
			buildings++
			if !strings.Contains(h.Name, road) {
				t.Errorf("search %q: building %s %q", road, h.ID, h.Name)
			}
		}
		if h.Lon < 105 || h.Lon > 111 || h.Lat < 28 || h.Lat > 33 {
			t.Errorf("search %q: %s %s at %v,%v", road, h.Kind, h.ID, h.Lon, h.Lat)
		}
	}
	if buildings == 0 || s.Count > 50 {
		t.Errorf("search %q: %d buildings, %d results", road, buildings, s.Count)
	}
	if s := search("重庆市", "7"); s.Count != 7 {
		t.Errorf("limit 7: %d results", s.Count)
	}
	if s := search("100%_\\", ""); s.Count != 0 {
		t.Errorf("wildcards are literal: %d results", s.Count)
	}

	for _, tt := range []struct{ name, query string }{
		{"no q", ""},
		{"blank q", "q=%20%20"},
		{"q too long", "q=" + strings.Repeat("路", 101)},
		{"limit 0", "q=x&limit=0"},
		{"limit 101", "q=x&limit=101"},
		{"limit not a number", "q=x&limit=many"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, "GET", base+"/search?"+tt.query, "")
			wantAnswer(t, code, 400, body)
		})
	}
}

func first(hs []postgis.SearchHit) any {
	if len(hs) == 0 {
		return nil
	}
	return hs[0]
}
