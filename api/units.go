package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// positionBody is PUT /api/v1/units/:id/position.
type positionBody struct {
	Lon    *float64   `json:"lon"`
	Lat    *float64   `json:"lat"`
	CRS    string     `json:"crs"`
	At     *time.Time `json:"at"` // RFC 3339; absent: the server's clock
	Status string     `json:"status"`
}

// statusBody is PUT /api/v1/units/:id/status.
type statusBody struct {
	Status  string     `json:"status"`
	At      *time.Time `json:"at"` // absent: the server's clock
	EventID *int64     `json:"event_id"`
}

// maxAhead is how far ahead of the server's clock a report's time may be
// (device clocks drift). Reports are last-writer-wins by time, so a report
// from the future would freeze the unit until the clock caught up.
const maxAhead = 30 * time.Second

// reportTime is a report's at: the server's clock when absent, refused
// when more than maxAhead in the future.
func reportTime(at *time.Time, now time.Time) (time.Time, error) {
	if at == nil {
		return now, nil
	}
	if ahead := at.Sub(now); ahead > maxAhead {
		return time.Time{}, wangge.Invalid("at", "at %s is %s ahead of the server's clock; at most %s ahead is accepted, since a report from the future would hold the unit there",
			at.UTC().Format(time.RFC3339), ahead.Round(time.Second), maxAhead)
	}
	return *at, nil
}

// ownUnit refuses a responder another unit than its own, as unknown (404):
// a responder reports for its unit only. Other staff are held to their
// jurisdiction by the store.
func ownUnit(p wangge.Principal, id int64) error {
	if p.Role == wangge.RoleResponder && (p.UnitID == nil || *p.UnitID != id) {
		return fmt.Errorf("unit %d: %w", id, wangge.ErrNotFound)
	}
	return nil
}

// unitJSON is a unit after a change was applied. Reports older than the
// stored ones are refused with 409 (code "conflict") and change nothing:
// the client learns its report lost, rather than a 200 it might misread.
type unitJSON struct {
	ID         int64      `json:"id"`
	Kind       geo.Kind   `json:"kind"`
	Status     geo.Status `json:"status"`
	Lon        float64    `json:"lon"` // WGS-84
	Lat        float64    `json:"lat"`
	PositionAt time.Time  `json:"position_at"`
	StatusAt   *time.Time `json:"status_at,omitempty"`
	Applied    bool       `json:"applied"`
}

func unitBody(r geo.Responder) unitJSON {
	u := unitJSON{ID: r.Key.ID, Kind: r.Kind, Status: r.Status, Lon: r.Lon, Lat: r.Lat, PositionAt: r.PositionAt, Applied: true}
	if !r.StatusAt.IsZero() {
		at := r.StatusAt
		u.StatusAt = &at
	}
	return u
}

// putPosition records a position report: lon, lat (in crs), at, and
// optionally status. Acknowledged once in this replica's index; written
// to PostGIS behind, within ~100 ms.
func (h *responderHandlers) putPosition(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := ownUnit(principal(c), id); err != nil {
		fail(c, h.log, err)
		return
	}
	var b positionBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	lon, lat, status, at, err := b.check(time.Now())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	r, err := h.d.Units.MoveUnit(c.Request.Context(), scope(c), id, lon, lat, status, at)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, unitBody(r))
}

func (b positionBody) check(now time.Time) (lon, lat float64, status geo.Status, at time.Time, err error) {
	if b.Lon == nil || b.Lat == nil {
		return 0, 0, "", at, wangge.Invalid("lon", "lon and lat are required")
	}
	if at, err = reportTime(b.At, now); err != nil {
		return 0, 0, "", at, err
	}
	crs, err := geo.ParseCRS(b.CRS)
	if err != nil {
		return 0, 0, "", at, err
	}
	if err := geo.CheckLonLat(*b.Lon, *b.Lat); err != nil {
		return 0, 0, "", at, err
	}
	if b.Status != "" {
		if status, err = geo.ParseStatus(b.Status); err != nil {
			return 0, 0, "", at, err
		}
	}
	lon, lat = geo.ToWGS84(crs, *b.Lon, *b.Lat)
	return lon, lat, status, at, nil
}

// putStatus records a status change; with event_id it dispatches the unit
// (status en_route, the default then). Written through before the answer.
// The unit's home and the event must lie in the caller's jurisdiction.
func (h *responderHandlers) putStatus(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if err := ownUnit(principal(c), id); err != nil {
		fail(c, h.log, err)
		return
	}
	var b statusBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	change, err := b.check(id, time.Now())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	r, err := h.d.Units.SetUnitStatus(c.Request.Context(), scope(c), change)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, unitBody(r))
}

func (b statusBody) check(id int64, now time.Time) (postgis.StatusChange, error) {
	ch := postgis.StatusChange{ID: id, EventID: b.EventID}
	var err error
	if ch.At, err = reportTime(b.At, now); err != nil {
		return ch, err
	}
	if b.EventID != nil && *b.EventID < 1 {
		return ch, wangge.Invalid("event_id", "event_id must be a positive integer")
	}
	switch {
	case b.Status == "" && b.EventID != nil:
		ch.Status = geo.StatusEnRoute
	case b.Status == "":
		return ch, wangge.Invalid("status", "status is required")
	default:
		s, err := geo.ParseStatus(b.Status)
		if err != nil {
			return ch, err
		}
		ch.Status = s
	}
	if b.EventID != nil && ch.Status != geo.StatusEnRoute {
		return ch, wangge.Invalid("status", "a dispatch (event_id) sets status en_route, not %s", ch.Status)
	}
	return ch, nil
}

// errTooLarge marks a body cut by the bodyLimit middleware: answered 413.
var errTooLarge = errors.New("request body too large")

// decodeBody reads one JSON object strictly: unknown fields, trailing data
// and malformed JSON are 400; a body over the limit is 413.
func decodeBody(c *gin.Context, v any) error {
	raw, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("body over %d bytes: %w", tooBig.Limit, errTooLarge)
	}
	if err != nil {
		return wangge.Invalid("body", "cannot read the body: %v", err)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD and \u0000 into a
	// NUL PostgreSQL text cannot hold: refuse both with the reason.
	if !utf8.Valid(raw) {
		return wangge.Invalid("body", "not valid UTF-8")
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return wangge.Invalid("body", "contains a NUL character (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return wangge.Invalid("body", "malformed JSON: %v", err)
	}
	if dec.More() {
		return wangge.Invalid("body", "malformed JSON: data after the object")
	}
	return nil
}
