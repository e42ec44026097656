package api

import (
	"encoding/base64"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// parseItems reads bbox, limit, cursor (from a next link), offset (up to
// postgis.MaxFeatureOffset) and datetime of an items request.
func parseItems(v url.Values, col postgis.Collection) (postgis.FeatureQuery, error) {
	q := postgis.FeatureQuery{Collection: col, Limit: defaultFeatureLimit}
	for name := range v {
		switch name {
		case "bbox", "limit", "offset", "cursor", "datetime":
		case "f": // an OGC client's format choice: GeoJSON is the one we serve
			if f := v.Get("f"); f != "json" && f != "geojson" {
				return q, wangge.Invalid("f", "only f=json (GeoJSON) is served, got %q", f)
			}
		default:
			return q, wangge.Invalid(name, "unknown parameter %q (want bbox, limit, cursor, offset or datetime)", name)
		}
	}
	var err error
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			return q, wangge.Invalid("limit", "limit must be a positive integer, got %q", s)
		}
		q.Limit = min(q.Limit, maxFeatureLimit)
	}
	if s := v.Get("offset"); s != "" {
		if q.Offset, err = strconv.Atoi(s); err != nil || q.Offset < 0 {
			return q, wangge.Invalid("offset", "offset must be a non-negative integer, got %q", s)
		}
		if q.Offset > postgis.MaxFeatureOffset {
			return q, wangge.Invalid("offset", "offset over %d: follow the next link (its cursor) instead", postgis.MaxFeatureOffset)
		}
	}
	if s := v.Get("cursor"); s != "" {
		if q.After, err = parseCursor(s, col); err != nil {
			return q, err
		}
		if q.Offset > 0 {
			return q, wangge.Invalid("offset", "give a cursor or an offset, not both")
		}
	}
	if s := v.Get("bbox"); s != "" {
		b, err := parseBBox(s)
		if err != nil {
			return q, err
		}
		q.BBox = &b
	}
	if s := v.Get("datetime"); s != "" {
		if !col.Temporal {
			return q, wangge.Invalid("datetime", "collection %s has no time to filter on", col.ID)
		}
		if q.From, q.To, err = parseDatetime(s); err != nil {
			return q, err
		}
	}
	return q, nil
}

// parseBBox reads "minLon,minLat,maxLon,maxLat" in WGS-84.
func parseBBox(s string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, wangge.Invalid("bbox", "bbox must be minLon,minLat,maxLon,maxLat (4 numbers), got %q", s)
	}
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		limit := 180.0
		if i%2 == 1 {
			limit = 90
		}
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < -limit || x > limit {
			return b, wangge.Invalid("bbox", "bbox item %d must be degrees in [-%v, %v], got %q", i+1, limit, limit, p)
		}
		b[i] = x
	}
	if b[0] > b[2] || b[1] > b[3] {
		return b, wangge.Invalid("bbox", "bbox minimum exceeds maximum in %q (want minLon,minLat,maxLon,maxLat)", s)
	}
	return b, nil
}

// parseDatetime reads an RFC 3339 instant or an interval "start/end"
// where either end may be ".." (or empty) for open.
func parseDatetime(s string) (from, to *time.Time, err error) {
	one := func(p string) (*time.Time, error) {
		if p == ".." || p == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, p)
		if err != nil {
			return nil, wangge.Invalid("datetime", "datetime must be RFC 3339 (2026-11-01T08:00:00Z) or start/end with .. for open, got %q", s)
		}
		return &t, nil
	}
	a, b, interval := strings.Cut(s, "/")
	if !interval {
		t, err := one(a)
		if err != nil || t == nil {
			return nil, nil, wangge.Invalid("datetime", "datetime must be RFC 3339 (2026-11-01T08:00:00Z) or start/end with .. for open, got %q", s)
		}
		return t, t, nil
	}
	if from, err = one(a); err != nil {
		return nil, nil, err
	}
	if to, err = one(b); err != nil {
		return nil, nil, err
	}
	if from == nil && to == nil {
		return nil, nil, wangge.Invalid("datetime", "datetime interval %q is open at both ends", s)
	}
	if from != nil && to != nil && from.After(*to) {
		return nil, nil, wangge.Invalid("datetime", "datetime interval %q ends before it starts", s)
	}
	return from, to, nil
}

// cursor is the opaque position of a next link: the collection and the
// last item's id, base64url.
func cursor(col postgis.Collection, lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(col.ID + ":" + lastID))
}

func parseCursor(s string, col postgis.Collection) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	id, ok := strings.CutPrefix(string(raw), col.ID+":")
	if err != nil || !ok || id == "" || len(id) > 32 {
		return "", wangge.Invalid("cursor", "not a cursor of collection %s: follow the next link as given", col.ID)
	}
	return id, nil
}
