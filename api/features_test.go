package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge/postgis"
)

type fcBody struct {
	Type           string `json:"type"`
	NumberMatched  int64  `json:"numberMatched"`
	NumberReturned int    `json:"numberReturned"`
	Features       []struct {
		Type       string         `json:"type"`
		ID         any            `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Links []link `json:"links"`
}

func linkOf(links []link, rel string) string {
	for _, l := range links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestFeatureRoutes(t *testing.T) {
	db, base := queryServer(t)
	ctx := context.Background()

	var cols struct {
		Collections []collectionJSON `json:"collections"`
	}
	if code := getJSON(t, base+"/collections", &cols); code != 200 || len(cols.Collections) != 9 {
		t.Fatalf("collections: %d, %d", code, len(cols.Collections))
	}
	for _, c := range cols.Collections {
		if c.ID == "residents" || c.ID == "households" || linkOf(c.Links, "items") == "" {
			t.Errorf("collection %+v", c)
		}
	}

	// Paging through buildings in the core box by next links gives every
	// building ST_Intersects finds, once, in id order.
	const box = "106.55,29.54,106.59,29.57"
	var want []float64
	rows, err := db.Pool.Query(ctx, `SELECT id FROM buildings
		WHERE ST_Intersects(geom, ST_MakeEnvelope(106.55, 29.54, 106.59, 29.57, 4326)) ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		want = append(want, float64(id))
	}
	rows.Close()
	if len(want) < 120 {
		t.Fatalf("only %d buildings in the core box", len(want))
	}
	var got []float64
	next, pages := base+"/collections/buildings/items?bbox="+box+"&limit=50", 0
	for next != "" {
		var fc fcBody
		if code := getJSON(t, next, &fc); code != 200 {
			t.Fatalf("%s: %d", next, code)
		}
		if fc.Type != "FeatureCollection" || fc.NumberMatched != int64(len(want)) || fc.NumberReturned != len(fc.Features) {
			t.Fatalf("page %d: %s matched %d returned %d", pages, fc.Type, fc.NumberMatched, fc.NumberReturned)
		}
		if pages > 0 && !strings.Contains(linkOf(fc.Links, "self"), "cursor=") {
			t.Errorf("page %d is not reached by cursor: %s", pages, linkOf(fc.Links, "self"))
		}
		for _, f := range fc.Features {
			got = append(got, f.ID.(float64))
			if f.Geometry["type"] != "Polygon" || f.Properties["address"] == nil {
				t.Fatalf("feature %v: %v %v", f.ID, f.Geometry["type"], f.Properties)
			}
		}
		next, pages = linkOf(fc.Links, "next"), pages+1
	}
	if d := cmp.Diff(want, got); d != "" || pages != (len(want)+49)/50 {
		t.Errorf("%d pages; ids (-sql +paged):\n%s", pages, d)
	}

	// A limit above the cap is served at the cap.
	var big fcBody
	getJSON(t, base+"/collections/buildings/items?limit=5000", &big)
	if big.NumberReturned != maxFeatureLimit || !strings.Contains(linkOf(big.Links, "next"), "limit=1000") {
		t.Errorf("limit=5000: returned %d, next %s", big.NumberReturned, linkOf(big.Links, "next"))
	}

	// datetime filters events on reported_at.
	to := time.Now().UTC().Truncate(time.Second)
	from := to.AddDate(0, 0, -60)
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE reported_at BETWEEN $1 AND $2`, from, to).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var ev fcBody
	getJSON(t, fmt.Sprintf("%s/collections/events/items?datetime=%s/%s&limit=1000", base,
		from.Format(time.RFC3339), to.Format(time.RFC3339)), &ev)
	wantMatched := n
	if n > postgis.MaxCounted {
		wantMatched = 0 // past the count's cap numberMatched is omitted
	}
	if ev.NumberMatched != wantMatched || n == 0 {
		t.Errorf("events in 60 days: %d, SQL %d", ev.NumberMatched, n)
	}
	for _, f := range ev.Features {
		at, _ := time.Parse(time.RFC3339, f.Properties["reported_at"].(string))
		if at.Before(from) || at.After(to) || f.Properties["reporter"] != nil {
			t.Errorf("event %v reported %v, outside %v–%v (or with a reporter)", f.ID, at, from, to)
		}
	}
	var open fcBody
	getJSON(t, base+"/collections/events/items?datetime="+from.Format(time.RFC3339)+"/..", &open)
	if open.NumberMatched < wantMatched {
		t.Errorf("open-ended interval matched %d < %d", open.NumberMatched, n)
	}

	// One item, by number or by code.
	var grid string
	_ = db.Pool.QueryRow(ctx, `SELECT min(code) FROM grids WHERE status = 'active'`).Scan(&grid)
	for _, path := range []string{fmt.Sprintf("/collections/buildings/items/%d", int64(want[0])), "/collections/grids/items/" + grid,
		"/collections/districts/items/500103"} {
		var f map[string]any
		if code := getJSON(t, base+path, &f); code != 200 || f["type"] != "Feature" || f["geometry"] == nil {
			t.Errorf("%s: %d %v", path, code, f["type"])
		}
	}

	tests := []struct {
		name, path string
		want       int
	}{
		{"unknown layer", "/collections/tanks/items", 404},
		{"residents are not a layer", "/collections/residents/items", 404},
		{"unknown layer metadata", "/collections/tanks", 404},
		{"bbox min > max", "/collections/buildings/items?bbox=106.6,29.5,106.5,29.6", 400},
		{"bbox lat min > max", "/collections/buildings/items?bbox=106.5,29.6,106.6,29.5", 400},
		{"bbox of 3", "/collections/buildings/items?bbox=106.5,29.5,106.6", 400},
		{"bbox NaN", "/collections/buildings/items?bbox=NaN,29.5,106.6,29.6", 400},
		{"bbox out of range", "/collections/buildings/items?bbox=106.5,29.5,106.6,95", 400},
		{"limit 0", "/collections/buildings/items?limit=0", 400},
		{"limit negative", "/collections/buildings/items?limit=-3", 400},
		{"limit not a number", "/collections/buildings/items?limit=ten", 400},
		{"offset negative", "/collections/buildings/items?offset=-1", 400},
		{"offset past the cap", "/collections/buildings/items?offset=10001", 400},
		{"cursor not ours", "/collections/buildings/items?cursor=abc", 400},
		{"cursor of another collection", "/collections/buildings/items?cursor=" + cursor(postgis.Collection{ID: "grids"}, "5"), 400},
		{"cursor and offset", "/collections/buildings/items?offset=5&cursor=" + cursor(postgis.Collection{ID: "buildings"}, "5"), 400},
		{"datetime garbage", "/collections/events/items?datetime=yesterday", 400},
		{"datetime reversed", "/collections/events/items?datetime=2026-02-01T00:00:00Z/2026-01-01T00:00:00Z", 400},
		{"datetime open both ends", "/collections/events/items?datetime=../..", 400},
		{"datetime on a timeless layer", "/collections/buildings/items?datetime=2026-01-01T00:00:00Z", 400},
		{"unknown parameter", "/collections/buildings/items?colour=red", 400},
		{"bad item id", "/collections/buildings/items/abc", 400},
		{"unknown item", "/collections/buildings/items/987654321", 404},
		{"unknown grid", "/collections/grids/items/500103999999999", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, "GET", base+tt.path, "")
			wantAnswer(t, code, tt.want, body)
		})
	}
}
