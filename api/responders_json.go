package api

import (
	"time"

	"github.com/wangge/wangge/geo"
)

// responderJSON is one ranked responder. Coordinates are WGS-84.
type responderJSON struct {
	Rank       int        `json:"rank"`
	Type       string     `json:"type"` // post or unit
	ID         int64      `json:"id"`
	Kind       geo.Kind   `json:"kind"`
	Status     geo.Status `json:"status"`
	Lon        float64    `json:"lon"`
	Lat        float64    `json:"lat"`
	DistanceM  float64    `json:"distance_m"`
	H3Cell     string     `json:"h3_cell"`
	H3Res      int        `json:"h3_res"`
	Ring       int        `json:"ring"`
	Reason     string     `json:"reason"`
	Street     string     `json:"street,omitempty"`
	District   string     `json:"district,omitempty"`
	PositionAt *time.Time `json:"position_at,omitempty"`
}

type searchJSON struct {
	Res       int    `json:"h3_res"`
	Rings     int    `json:"rings"`
	Cells     int    `json:"cells"`
	Examined  int    `json:"examined"`
	Fallbacks int    `json:"fallbacks"`
	Stop      string `json:"stop"`
}

type nearestJSON struct {
	Engine     string          `json:"engine"`
	Lon        float64         `json:"lon"` // the query point, WGS-84
	Lat        float64         `json:"lat"`
	K          int             `json:"k"`
	TookUS     int64           `json:"took_us"`
	Search     *searchJSON     `json:"search,omitempty"`
	Responders []responderJSON `json:"responders"`
}

// nearestBody is the answer. Live unit positions are staff contacts
// (wangge.PermStaffContacts): without the grant units are left out, posts
// (fixed, public places) stay. The policy gives responders.read to staff
// only, so this is the second line, not the first. No phone is ever part
// of the answer.
func nearestBody(p nearestParams, ms []geo.Match, s *geo.Search, took time.Duration, unitPositions bool) nearestJSON {
	out := nearestJSON{Engine: p.engine, Lon: p.q.Lon, Lat: p.q.Lat, K: p.q.K, TookUS: took.Microseconds(),
		Responders: make([]responderJSON, 0, len(ms))}
	if s != nil {
		out.Search = &searchJSON{Res: s.Res, Rings: s.Rings, Cells: s.Cells, Examined: s.Examined,
			Fallbacks: s.Fallbacks, Stop: s.Stop}
	}
	for _, m := range ms {
		if m.Key.Class == geo.ClassUnit && !unitPositions {
			continue
		}
		r := responderJSON{Rank: m.Rank, Type: m.Key.Class.String(), ID: m.Key.ID, Kind: m.Kind,
			Status: m.Status, Lon: m.Lon, Lat: m.Lat, DistanceM: m.DistanceM, H3Cell: m.Cell.String(),
			H3Res: m.Cell.Resolution(), Ring: m.Ring, Reason: m.Reason, Street: m.Street, District: m.District}
		if !m.PositionAt.IsZero() {
			at := m.PositionAt
			r.PositionAt = &at
		}
		out.Responders = append(out.Responders, r)
	}
	return out
}
