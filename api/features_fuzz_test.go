package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"testing"

	"github.com/wangge/wangge/postgis"
)

// FuzzParseItems: any query string is either refused or yields a page
// query within bounds (bbox ordered and in range, limit 1–1,000, offset
// ≥ 0, datetime from ≤ to).
func FuzzParseItems(f *testing.F) {
	for _, s := range []string{"bbox=106.5,29.5,106.6,29.6&limit=10", "bbox=1,2,3", "limit=0", "limit=99999&offset=5",
		"datetime=2026-01-01T00:00:00Z/..", "datetime=../..", "datetime=2026-02-01T00:00:00Z/2026-01-01T00:00:00Z",
		"bbox=NaN,0,1,1", "bbox=-180,-90,180,90", "offset=-1", "x=1"} {
		f.Add(s)
	}
	events, err := postgis.CollectionByID("events")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseItems(v, events)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > maxFeatureLimit || q.Offset < 0 {
			t.Fatalf("%q: limit %d offset %d", raw, q.Limit, q.Offset)
		}
		if b := q.BBox; b != nil {
			for i, x := range b {
				lim := 180.0
				if i%2 == 1 {
					lim = 90
				}
				if math.IsNaN(x) || x < -lim || x > lim {
					t.Fatalf("%q: bbox %v", raw, b)
				}
			}
			if b[0] > b[2] || b[1] > b[3] {
				t.Fatalf("%q: bbox %v unordered", raw, b)
			}
		}
		if q.From != nil && q.To != nil && q.From.After(*q.To) {
			t.Fatalf("%q: datetime %v after %v", raw, q.From, q.To)
		}
	})
}

// FuzzLocateBatch: any body is either refused or gives at most 10,000
// points, each in range.
func FuzzLocateBatch(f *testing.F) {
	for _, s := range []string{`{"points":[[106.5,29.5]]}`, `{"crs":"bd09","points":[[106.5,29.5],[1,2,3]]}`,
		`{"points":[[200,0]]}`, `{"points":null}`, `{"points":[[]]}`, `[]`, `{"crs":"gcj02","points":[[106.5,95]]}`, `{"crs":"bd09","points":[[-180,0]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b batchBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&b) != nil {
			return
		}
		_, pts, err := b.check()
		if err != nil {
			return
		}
		if len(pts) > MaxLocateBatch || len(pts) != len(b.Points) {
			t.Fatalf("%d points accepted", len(pts))
		}
		for _, p := range pts {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
				t.Fatalf("point %v accepted", p)
			}
		}
	})
}
