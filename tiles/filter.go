package tiles

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Filter holds the typed, whitelisted filters a tile request may carry
// (only the events source takes any). It becomes SQL parameters, never SQL
// text, and its canonical Key is part of the cache key.
type Filter = postgis.EventFilter

var eventStatuses = map[string]bool{
	"reported": true, "accepted": true, "dispatched": true, "on_site": true, "resolved": true,
	"closed": true, "evaluated": true, "rejected": true, "duplicate": true,
}

// "open" is shorthand for every status still being worked on.
var openStatuses = []string{"reported", "accepted", "dispatched", "on_site"}

var categoryCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ParseFilter reads status, category, since and until from a raw query
// string. Lists are comma separated; times are RFC 3339 or YYYY-MM-DD
// (Asia/Shanghai). A query that does not parse is refused rather than
// half-read.
func ParseFilter(rawQuery string, allowed bool) (Filter, error) {
	var f Filter
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return f, wangge.Invalid("query", "malformed query string")
	}
	for key := range q {
		switch key {
		case "v":
		case "status", "category", "since", "until":
			if !allowed {
				return f, wangge.Invalid(key, "this source takes no filters")
			}
		default:
			return f, wangge.Invalid(key, "unknown parameter (filters: status, category, since, until)")
		}
	}
	for _, s := range splitList(q.Get("status")) {
		switch {
		case s == "open":
			f.Statuses = append(f.Statuses, openStatuses...)
		case eventStatuses[s]:
			f.Statuses = append(f.Statuses, s)
		default:
			return f, wangge.Invalid("status", "%q is not an event status (open, reported, accepted, dispatched, on_site, resolved, closed, evaluated, rejected, duplicate)", s)
		}
	}
	for _, c := range splitList(q.Get("category")) {
		if !categoryCode.MatchString(c) {
			return f, wangge.Invalid("category", "%q is not a category code", c)
		}
		f.Categories = append(f.Categories, c)
	}
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", q.Get("until")); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, wangge.Invalid("until", "must be after since")
	}
	f.Statuses, f.Categories = uniqueSorted(f.Statuses), uniqueSorted(f.Categories)
	return f, nil
}

// FilterKey is the canonical form of f for the cache key. The scope is
// part of it, so one jurisdiction's events tile is never served to
// another; the base map's sources carry no scope and stay shared.
func FilterKey(f Filter) string {
	scoped := f.Scope != (wangge.Scope{})
	if len(f.Statuses) == 0 && len(f.Categories) == 0 && f.Since.IsZero() && f.Until.IsZero() && !scoped {
		return ""
	}
	key := fmt.Sprintf("s=%s;c=%s;f=%d;u=%d", strings.Join(f.Statuses, ","), strings.Join(f.Categories, ","),
		unix(f.Since), unix(f.Until))
	if scoped {
		key += ";r=" + f.Scope.String() // "city" or a code: digits, never confused
	}
	return key
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

var shanghai = time.FixedZone("CST", 8*3600)

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, shanghai); err == nil {
		return t, nil
	}
	return time.Time{}, wangge.Invalid(field, "%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func uniqueSorted(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	sort.Strings(in)
	out := in[:1]
	for _, s := range in[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}
