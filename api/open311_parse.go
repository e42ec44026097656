package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// o311Window is the spec's default: requests of the last 90 days.
const o311Window = 90 * 24 * time.Hour

var (
	o311Open   = []wangge.Status{wangge.StatusReported, wangge.StatusAccepted, wangge.StatusDispatched, wangge.StatusOnSite}
	o311Closed = []wangge.Status{wangge.StatusResolved, wangge.StatusClosed, wangge.StatusEvaluated, wangge.StatusRejected, wangge.StatusDuplicate}
)

// parseO311Query reads GET requests' filters. Without ids the window is
// start_date..end_date, by default the 90 days before now; at most 1,000.
func parseO311Query(get func(string) string, now time.Time) (postgis.EventQuery, error) {
	f := postgis.EventQuery{Limit: 1000}
	if s := get("service_request_id"); s != "" {
		for _, x := range strings.Split(s, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil || id < 1 {
				return f, wangge.Invalid("service_request_id", "%q is not a request id", x)
			}
			f.IDs = append(f.IDs, id)
		}
		return f, nil // ids override every other filter (spec)
	}
	if s := get("service_code"); s != "" {
		f.Categories = strings.Split(s, ",")
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{{"start_date", &f.ReportedFrom}, {"end_date", &f.ReportedTo}} {
		if s := get(d.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, wangge.Invalid(d.name, "expected a W3C date-time like 2026-11-30T08:00:00+08:00, got %q", s)
			}
			*d.to = t
		}
	}
	if f.ReportedTo.IsZero() {
		f.ReportedTo = now.Add(time.Second)
	}
	if f.ReportedFrom.IsZero() {
		f.ReportedFrom = f.ReportedTo.Add(-o311Window)
	}
	if !f.ReportedFrom.Before(f.ReportedTo) {
		return f, wangge.Invalid("start_date", "start_date must come before end_date")
	}
	if s := get("status"); s != "" {
		for _, x := range strings.Split(s, ",") {
			switch x {
			case "open":
				f.Statuses = append(f.Statuses, o311Open...)
			case "closed":
				f.Statuses = append(f.Statuses, o311Closed...)
			default:
				return f, wangge.Invalid("status", "status is open or closed, got %q", x)
			}
		}
	}
	return f, nil
}

// o311ID reads "{id}.json" / "{id}.xml".
func o311ID(s string) (int64, string, error) {
	name, format, err := splitFormat(s)
	if err != nil {
		return 0, format, err
	}
	id, err := strconv.ParseInt(name, 10, 64)
	if err != nil || id < 1 {
		return 0, format, wangge.Invalid("service_request_id", "%q is not a request id", name)
	}
	return id, format, nil
}

// o311Intake checks a POSTed request like POST /api/v1/events: lat/long
// (WGS-84, or the crs extension: gcj02, bd09), service_code, description;
// the reporter is first_name last_name. An address alone is refused: we
// cannot geocode it, and an event must be located to a grid.
func o311Intake(get func(string) string) (intake, error) {
	if get("service_code") == "" {
		return intake{}, wangge.Invalid("service_code", "service_code is required")
	}
	if get("lat") == "" || get("long") == "" {
		return intake{}, wangge.Invalid("lat", "lat and long are required (addresses are not geocoded here)")
	}
	lat, err1 := strconv.ParseFloat(get("lat"), 64)
	lon, err2 := strconv.ParseFloat(get("long"), 64)
	if err1 != nil || err2 != nil {
		return intake{}, wangge.Invalid("lat", "lat and long must be numbers")
	}
	reporter := strings.TrimSpace(get("first_name") + " " + get("last_name"))
	b := eventBody{Category: get("service_code"), Location: &locationBody{Lon: &lon, Lat: &lat, CRS: get("crs")},
		Description: get("description"), Address: get("address_string"), Reporter: reporter, Source: "citizen_app"}
	if b.Description == "" {
		b.Description = "-" // filled with the service name once known
		in, err := b.check()
		in.description = ""
		return in, err
	}
	return b.check()
}
