package api

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// nearestParams is a parsed nearest-responders query string.
type nearestParams struct {
	q      geo.Query // coordinates already in WGS-84
	crs    geo.CRS
	engine string // "h3" or "postgis"
	scope  string // "", "street" or "district"
}

const defaultK = 5

// parseNearest reads k, kind, status, crs, engine and scope (plus lon/lat
// when needPoint). kind and status take comma-separated lists or repeat.
// scope=street|district needs the query point's code (street=, district=)
// on the point route; the event route fills it from the event's grid.
func parseNearest(v url.Values, needPoint bool) (nearestParams, error) {
	p := nearestParams{engine: "h3", q: geo.Query{K: defaultK}}
	var err error
	if s := v.Get("k"); s != "" {
		if p.q.K, err = strconv.Atoi(s); err != nil {
			return p, wangge.Invalid("k", "k must be an integer between 1 and %d, got %q", geo.MaxK, s)
		}
	}
	if p.q.K < 1 || p.q.K > geo.MaxK {
		return p, wangge.Invalid("k", "k must be between 1 and %d, got %d", geo.MaxK, p.q.K)
	}
	for _, s := range list(v["kind"]) {
		k, err := geo.ParseKind(s)
		if err != nil {
			return p, err
		}
		p.q.Kinds = append(p.q.Kinds, k)
	}
	for _, s := range list(v["status"]) {
		st, err := geo.ParseStatus(s)
		if err != nil {
			return p, err
		}
		p.q.Statuses = append(p.q.Statuses, st)
	}
	if p.crs, err = geo.ParseCRS(v.Get("crs")); err != nil {
		return p, err
	}
	switch e := v.Get("engine"); e {
	case "", "h3":
	case "postgis":
		p.engine = e
	default:
		return p, wangge.Invalid("engine", "unknown engine %q (want h3 or postgis)", e)
	}
	if err := p.parseScope(v, needPoint); err != nil {
		return p, err
	}
	if needPoint {
		lon, err := coord(v, "lon", 180)
		if err != nil {
			return p, err
		}
		lat, err := coord(v, "lat", 90)
		if err != nil {
			return p, err
		}
		p.q.Lon, p.q.Lat = geo.ToWGS84(p.crs, lon, lat)
	}
	return p, nil
}

func (p *nearestParams) parseScope(v url.Values, needPoint bool) error {
	p.scope = v.Get("scope")
	street, district := v.Get("street"), v.Get("district")
	switch p.scope {
	case "", "street", "district":
	default:
		return wangge.Invalid("scope", "unknown scope %q (want street or district)", p.scope)
	}
	if street != "" {
		if lvl, ok := wangge.LevelOf(street); !ok || lvl != wangge.LevelStreet {
			return wangge.Invalid("street", "street must be a 9-digit code, got %q", street)
		}
		p.q.Street = street
	}
	if district != "" {
		if lvl, ok := wangge.LevelOf(district); !ok || lvl != wangge.LevelDistrict {
			return wangge.Invalid("district", "district must be a 6-digit code, got %q", district)
		}
		p.q.District = district
	}
	if !needPoint {
		return nil // the event's grid gives the codes
	}
	if p.scope == "street" && p.q.Street == "" {
		return wangge.Invalid("street", "scope=street needs street=<9-digit code of the query point>")
	}
	if p.scope == "district" && p.q.District == "" && p.q.Street == "" {
		return wangge.Invalid("district", "scope=district needs district=<6-digit code of the query point>")
	}
	if p.scope == "district" && p.q.District == "" {
		p.q.District, p.q.Street = p.q.Street[:6], ""
	}
	return nil
}

// list splits repeated and comma-separated values, dropping empty items.
func list(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// coord reads a required, finite coordinate within ±limit degrees.
func coord(v url.Values, name string, limit float64) (float64, error) {
	s := v.Get(name)
	if s == "" {
		return 0, wangge.Invalid(name, "%s is required", name)
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < -limit || x > limit {
		return 0, wangge.Invalid(name, "%s must be a number of degrees in [-%v, %v], got %q", name, limit, limit, s)
	}
	return x, nil
}
