package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// eventBody is POST /api/v1/events.
type eventBody struct {
	Category    string        `json:"category"`
	Location    *locationBody `json:"location"`
	Description string        `json:"description"`
	Address     string        `json:"address"`
	Reporter    string        `json:"reporter"`
	Source      string        `json:"source"`
}

type locationBody struct {
	Lon *float64 `json:"lon"`
	Lat *float64 `json:"lat"`
	CRS string   `json:"crs"` // wgs84 (default), gcj02, bd09
}

// intake is a checked report, before it is located.
type intake struct {
	category, description, address, reporter string
	source                                   wangge.Source
	lon, lat                                 float64 // WGS-84
}

// check validates every field, converts the point to WGS-84 and returns
// the first problem as an InputError naming its field.
func (b eventBody) check() (intake, error) {
	in := intake{category: b.Category, description: b.Description, address: b.Address, reporter: b.Reporter}
	if b.Category == "" {
		return in, wangge.Invalid("category", "category is required")
	}
	if err := wangge.CheckText("category", b.Category, 1, 64); err != nil {
		return in, err
	}
	if b.Location == nil || b.Location.Lon == nil || b.Location.Lat == nil {
		return in, wangge.Invalid("location", "location {lon, lat, crs} is required")
	}
	lon, lat, err := intakePoint(*b.Location.Lon, *b.Location.Lat, b.Location.CRS)
	if err != nil {
		return in, err
	}
	in.lon, in.lat = lon, lat
	if err := wangge.CheckText("description", b.Description, 1, 4000); err != nil {
		return in, err
	}
	if err := wangge.CheckText("address", b.Address, 0, 500); err != nil {
		return in, err
	}
	if err := wangge.CheckText("reporter", b.Reporter, 0, 100); err != nil {
		return in, err
	}
	if b.Source == "" {
		return in, wangge.Invalid("source", "source is required")
	}
	if in.source, err = wangge.ParseSource(b.Source); err != nil {
		return in, err
	}
	return in, nil
}

func intakePoint(lon, lat float64, crsName string) (float64, float64, error) {
	crs, err := geo.ParseCRS(crsName)
	if err != nil {
		return 0, 0, err
	}
	if err := geo.CheckLonLat(lon, lat); err != nil {
		return 0, 0, err
	}
	lon, lat = geo.ToWGS84(crs, lon, lat)
	return lon, lat, nil
}

// digest identifies what a request asked for, to tell a retry from a
// different request reusing an Idempotency-Key.
func (in intake) digest() string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%.7f\x00%.7f\x00%s\x00%s\x00%s\x00%s",
		in.category, in.lon, in.lat, in.description, in.address, in.reporter, in.source))
	return hex.EncodeToString(h[:16])
}

// staffSources are reports made by the staff member who sends them (as
// opposed to relayed: a hotline call, a citizen's app, a camera, a sensor).
var staffSources = []wangge.Source{"grid_worker", "patrol", "staff"}

// reportedBy sets who reports: on a staff source the reporter is the
// caller's credential, and a body naming someone else is refused; a
// relayed report keeps the citizen's contact the body gives (personal
// data, shown only to reporter.read).
func (in intake) reportedBy(p wangge.Principal) (intake, error) {
	if !slices.Contains(staffSources, in.source) {
		return in, nil
	}
	if in.reporter != "" && in.reporter != p.Actor() {
		return in, wangge.Invalid("reporter", "a %s report is reported by the caller (%s); reporter names someone else only for relayed sources (hotline_12345, citizen_app, video_ai, sensor)", in.source, p.Actor())
	}
	in.reporter = p.Actor()
	return in, nil
}

func (in intake) newEvent(grid, key string) postgis.NewEvent {
	n := postgis.NewEvent{Category: in.category, Source: in.source, GridCode: grid, Lon: in.lon, Lat: in.lat,
		Description: in.description, Address: in.address, Reporter: in.reporter, At: time.Now()}
	if key != "" {
		n.IdemKey, n.IdemHash = key, in.digest()
	}
	return n
}

// checkIdemKey: printable ASCII, at most 200 bytes (as Stripe and the IETF
// draft allow).
func checkIdemKey(k string) error {
	if len(k) > 200 {
		return wangge.Invalid("Idempotency-Key", "longer than 200 bytes")
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return wangge.Invalid("Idempotency-Key", "only printable ASCII is allowed")
		}
	}
	return nil
}

// transitionBody is POST /api/v1/events/:id/transitions.
type transitionBody struct {
	Action      string  `json:"action"`
	Actor       *string `json:"actor"` // refused: the log names the credential
	Note        string  `json:"note"`
	Tier        string  `json:"tier"` // the tier the actor acts for (optional)
	UnitID      *int64  `json:"unit_id"`
	Score       *int16  `json:"score"`
	DuplicateOf *int64  `json:"duplicate_of"`
	Version     *int32  `json:"version"` // or If-Match
}

// check reads the step; actor is the caller's credential. A body that
// names an actor is refused rather than ignored: the log names whoever
// holds the credential, and a client that believes otherwise should learn.
func (b transitionBody) check(id int64, ifMatch, actor string) (postgis.TransitionReq, error) {
	r := postgis.TransitionReq{ID: id, IfVersion: b.Version}
	a, err := wangge.ParseAction(b.Action)
	if err != nil {
		return r, err
	}
	if b.Actor != nil {
		return r, wangge.Invalid("actor", "not accepted: the event log names the caller's credential (%s); leave actor out", actor)
	}
	r.Step = wangge.Step{Action: a, Actor: actor, Note: b.Note, UnitID: b.UnitID, Score: b.Score,
		DuplicateOf: b.DuplicateOf}
	if b.Tier != "" {
		if r.Step.ActorTier, err = wangge.ParseTier(b.Tier); err != nil {
			return r, err
		}
	}
	if ifMatch != "" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(ifMatch, "W/"), `"`), 10, 32)
		if err != nil {
			return r, wangge.Invalid("If-Match", "expected the event's version as an ETag, got %q", ifMatch)
		}
		v32 := int32(v)
		if b.Version != nil && *b.Version != v32 {
			return r, wangge.Invalid("version", "If-Match %d and version %d disagree", v32, *b.Version)
		}
		r.IfVersion = &v32
	}
	return r, nil
}

// parseEventQuery reads GET /api/v1/events?bbox=&status=&region=&since=&limit=&before=.
func parseEventQuery(q url.Values) (postgis.EventQuery, error) {
	f := postgis.EventQuery{Limit: 100}
	if s := q.Get("bbox"); s != "" {
		b, err := eventBBox(s)
		if err != nil {
			return f, err
		}
		f.BBox = &b
	}
	if s := q.Get("status"); s != "" {
		for _, x := range strings.Split(s, ",") {
			st := wangge.Status(x)
			if len(wangge.Allowed(st, wangge.TierGrid)) == 0 {
				return f, wangge.Invalid("status", "unknown status %q", x)
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	if s := q.Get("region"); s != "" {
		if _, ok := wangge.LevelOf(s); !ok {
			return f, wangge.Invalid("region", "%q is not a district, street, community or grid code", s)
		}
		f.Region = s
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, wangge.Invalid("since", "expected an RFC 3339 time, got %q", s)
		}
		f.Since = t
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return f, wangge.Invalid("limit", "limit must be 1 to 1000, got %q", s)
		}
		f.Limit = n
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return f, wangge.Invalid("before", "before must be an event id (the next_before of the previous page), got %q", s)
		}
		f.Before = n
	}
	return f, nil
}

// eventBBox reads "minLon,minLat,maxLon,maxLat" in WGS-84.
func eventBBox(s string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, wangge.Invalid("bbox", "expected minLon,minLat,maxLon,maxLat, got %q", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return b, wangge.Invalid("bbox", "%q is not a number", p)
		}
		b[i] = v
	}
	if err := geo.CheckLonLat(b[0], b[1]); err != nil {
		return b, wangge.Invalid("bbox", "%v", err)
	}
	if err := geo.CheckLonLat(b[2], b[3]); err != nil {
		return b, wangge.Invalid("bbox", "%v", err)
	}
	if b[0] > b[2] || b[1] > b[3] {
		return b, wangge.Invalid("bbox", "min must not exceed max in %q", s)
	}
	return b, nil
}
