package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wangge/wangge"
)

// FuzzEventBody: any JSON body either fails as invalid input or gives a
// report the database accepts: finite WGS-84 point, 1–4,000 characters
// of description without markup, a known source.
func FuzzEventBody(f *testing.F) {
	for _, s := range []string{
		`{"category":"noise","location":{"lon":106.56,"lat":29.55},"description":"x","source":"staff"}`,
		`{"category":"noise","location":{"lon":106.56,"lat":29.55,"crs":"bd09"},"description":"<b>","source":"staff"}`,
		`{"category":"","location":{"lon":1e309,"lat":-0},"description":"","source":""}`,
		`{"category":"a","location":{"lon":181,"lat":91,"crs":"gcj02"},"description":"&#60;","reporter":"\u0000"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var b eventBody
		if json.Unmarshal([]byte(raw), &b) != nil {
			return
		}
		in, err := b.check()
		if err != nil {
			if !errors.Is(err, wangge.ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", raw, err)
			}
			return
		}
		if math.IsNaN(in.lon+in.lat) || math.Abs(in.lon) > 180 || math.Abs(in.lat) > 90 {
			t.Fatalf("%q: point %v,%v", raw, in.lon, in.lat)
		}
		if n := utf8.RuneCountInString(in.description); n < 1 || n > 4000 || strings.Contains(in.description, "<script") {
			t.Fatalf("%q: description accepted", raw)
		}
		if _, err := wangge.ParseSource(string(in.source)); err != nil {
			t.Fatalf("%q: source %q accepted", raw, in.source)
		}
	})
}

// FuzzEventQueries: list, stream and Open311 filters fail only as invalid
// input, and what they accept is within bounds.
func FuzzEventQueries(f *testing.F) {
	for _, s := range []string{
		"bbox=106,29,107,30&status=accepted,closed&region=500103&since=2026-11-30T08:00:00Z&limit=10",
		"bbox=1,2,3&kinds=event,unit&last_event_id=12", "service_request_id=1,2&status=open,closed&start_date=x",
		"bbox=NaN,0,0,0&limit=0&region=5001031", "kinds=&status=,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		ok := func(err error) bool {
			if err != nil && !errors.Is(err, wangge.ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", raw, err)
			}
			return err == nil
		}
		if q, err := parseEventQuery(v); ok(err) {
			if q.Limit < 1 || q.Limit > 1000 {
				t.Fatalf("%q: limit %d", raw, q.Limit)
			}
			if b := q.BBox; b != nil && (b[0] > b[2] || b[1] > b[3] || math.IsNaN(b[0]+b[1]+b[2]+b[3])) {
				t.Fatalf("%q: bbox %v", raw, *b)
			}
		}
		if _, last, err := parseStreamQuery(v, v.Get("h")); ok(err) && last < -1 {
			t.Fatalf("%q: last id %d", raw, last)
		}
		if q, err := parseO311Query(v.Get, fuzzNow); ok(err) && len(q.IDs) == 0 && !q.ReportedFrom.Before(q.ReportedTo) {
			t.Fatalf("%q: window %v..%v", raw, q.ReportedFrom, q.ReportedTo)
		}
		_, _, _ = parseKPIQuery(v.Get("region"), v.Get("window"))
	})
}

var fuzzNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
