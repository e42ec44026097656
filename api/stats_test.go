package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis"
)

func getStats(t *testing.T, url, etag string) (int, http.Header, statsJSON) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s statsJSON
	if res.StatusCode == 200 {
		if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode, res.Header, s
}

func TestStatsRoute(t *testing.T) {
	db, base := queryServer(t)
	codes := sampleCodes(t, db) // district, street, community, grid with events of every kind
	ctx := context.Background()
	levels := []string{"district", "street", "community", "grid"}

	// Every region of the level, and the sample region's value equal to
	// its drill-down figure (itself checked against SQL).
	for i, level := range levels {
		var regions int
		q := `SELECT count(*) FROM regions WHERE level = $1`
		if level == "grid" {
			q = `SELECT count(*) FROM grids WHERE status = 'active' AND $1 = 'grid'`
		}
		if err := db.Pool.QueryRow(ctx, q, level).Scan(&regions); err != nil {
			t.Fatal(err)
		}
		var d postgis.RegionDetail
		getJSON(t, base+"/regions/"+codes[i], &d)
		c := d.Counts
		f := func(n int64) *float64 { v := float64(n); return &v }
		want := map[string]*float64{"households": f(c.Households), "residents": f(c.Residents), "open_events": f(c.OpenEvents),
			"events_30d": f(c.Events30d), "overdue": f(c.Overdue), "closure_rate": c.ClosureRate,
			"avg_handling_minutes": c.AvgHandlingMinutes}
		for metric, w := range want {
			code, _, s := getStats(t, base+"/stats?level="+level+"&metric="+metric, "")
			if code != 200 || s.Count != regions || len(s.Values) != regions {
				t.Fatalf("%s/%s: status %d, %d values, want %d", level, metric, code, len(s.Values), regions)
			}
			got := s.Values[codes[i]]
			if (got == nil) != (w == nil) || got != nil && *got-*w > 1e-9 || got != nil && *w-*got > 1e-9 {
				t.Errorf("%s/%s %s: %v, drill-down says %v", level, metric, codes[i], deref(got), deref(w))
			}
		}
	}

	// Cached, revalidated, and refreshed when the data changes.
	url := base + "/stats?level=grid&metric=open_events"
	_, h1, s1 := getStats(t, url, "")
	code, h2, _ := getStats(t, url, "")
	if code != 200 || h2.Get("X-Cache") != "hit" || h2.Get("ETag") != h1.Get("ETag") {
		t.Errorf("second call: %d, cache %q, etag %q vs %q", code, h2.Get("X-Cache"), h2.Get("ETag"), h1.Get("ETag"))
	}
	if code, _, _ := getStats(t, url, h1.Get("ETag")); code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", code)
	}
	// The grid level is large: gzip when the client takes it, the same JSON.
	plain, zipped := rawGet(t, url, ""), rawGet(t, url, "gzip")
	if zipped.Header.Get("Content-Encoding") != "gzip" || len(zipped.body) >= len(plain.body) || plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip: %q %d bytes, plain %q %d bytes", zipped.Header.Get("Content-Encoding"), len(zipped.body),
			plain.Header.Get("Content-Encoding"), len(plain.body))
	} else if zr, err := gzip.NewReader(bytes.NewReader(zipped.body)); err != nil {
		t.Error(err)
	} else if b, _ := io.ReadAll(zr); !bytes.Equal(b, plain.body) {
		t.Error("gzipped stats differ from the plain answer")
	}
	grid := codes[3]
	if _, err := db.Pool.Exec(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
		description, reported_at, deadline_at, geom) SELECT 'fire_alarm', 'reported', 'grid', 'sensor', 1, $1, 'new',
		now(), now() + interval '1 hour', ST_PointOnSurface(geom) FROM grids WHERE code = $1`, grid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(versionEvery + 100*time.Millisecond)
	_, h3, s3 := getStats(t, url, "")
	if h3.Get("X-Cache") != "miss" || *s3.Values[grid] != *s1.Values[grid]+1 || s3.Version == s1.Version {
		t.Errorf("after a new event: cache %q, %s %v → %v, version %s → %s", h3.Get("X-Cache"), grid,
			*s1.Values[grid], *s3.Values[grid], s1.Version, s3.Version)
	}

	for _, tt := range []struct{ name, query string }{
		{"no level", "metric=residents"},
		{"unknown level", "level=city&metric=residents"},
		{"no metric", "level=grid"},
		{"unknown metric", "level=grid&metric=happiness"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, "GET", base+"/stats?"+tt.query, "")
			wantAnswer(t, code, 400, body)
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

type rawAnswer struct {
	http.Header
	body []byte
}

// rawGet fetches without the client's transparent gzip handling.
func rawGet(t *testing.T, url, acceptEncoding string) rawAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawAnswer{res.Header, b}
}
