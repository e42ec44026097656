package importer

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wangge/wangge"
)

type geomKind int

const (
	areal   geomKind = iota // Polygon or MultiPolygon, stored as MultiPolygon
	polygon                 // Polygon (a MultiPolygon of one polygon is accepted)
	point
)

// layer is what one import layer needs from each feature.
type layer struct {
	geom  geomKind
	key   string // the property that must be unique in the file
	props func(p props) (map[string]any, error)
}

var layers = map[string]layer{
	"districts":   {areal, "code", regionProps(wangge.LevelDistrict)},
	"streets":     {areal, "code", regionProps(wangge.LevelStreet)},
	"communities": {areal, "code", regionProps(wangge.LevelCommunity)},
	"grids":       {areal, "code", gridProps},
	"parcels":     {areal, "id", parcelProps},
	"buildings":   {polygon, "id", buildingProps},
	"objects":     {point, "id", objectProps},
	"posts":       {point, "id", postProps},
}

func layerNames() string {
	var ns []string
	for n := range layers {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return strings.Join(ns, ", ")
}

var levelLen = map[wangge.Level]int{wangge.LevelDistrict: 6, wangge.LevelStreet: 9, wangge.LevelCommunity: 12, wangge.LevelGrid: 15}

func regionProps(level wangge.Level) func(props) (map[string]any, error) {
	return func(p props) (map[string]any, error) {
		v := map[string]any{}
		code, err := p.code("code", level, true)
		if err != nil {
			return nil, err
		}
		v["code"] = code
		if level != wangge.LevelDistrict {
			v["parent_code"] = wangge.ParentCode(code)
			if pc, err := p.str("parent_code", false, 15); err != nil {
				return nil, err
			} else if pc != nil && pc != v["parent_code"] {
				return nil, wangge.Invalid("properties.parent_code", "%q is not the start of code %q", pc, code)
			}
		}
		return v, p.into(v, field{"name", p.name}, field{"kind", p.enum("kind", false, "", "urban", "rural")})
	}
}

func gridProps(p props) (map[string]any, error) {
	code, err := p.code("code", wangge.LevelGrid, true)
	if err != nil {
		return nil, err
	}
	v := map[string]any{"code": code, "community_code": wangge.ParentCode(code)}
	// land_use is for the parcels made for a grid imported without any.
	return v, p.into(v, field{"name", p.name}, field{"id", p.integer("id", false, 1, 1<<62)},
		field{"land_use", p.enum("land_use", false, landUses...)})
}

var landUses = []string{"residential", "commercial", "industrial", "public", "green", "agricultural", "forest", "water", "mixed"}

func parcelProps(p props) (map[string]any, error) {
	gc, err := p.code("grid_code", wangge.LevelGrid, true)
	if err != nil {
		return nil, err
	}
	v := map[string]any{"grid_code": gc, "community_code": wangge.ParentCode(gc)}
	return v, p.into(v, field{"id", p.integer("id", false, 1, 1<<62)}, field{"land_use", p.enum("land_use", true, landUses...)})
}

var uses = []string{"residential", "commercial", "office", "industrial", "public", "school", "hospital", "mixed", "other"}

func buildingProps(p props) (map[string]any, error) {
	v := map[string]any{}
	return v, p.into(v,
		field{"id", p.integer("id", false, 1, 1<<62)},
		field{"grid_code", p.codeAny("grid_code", wangge.LevelGrid, false)},
		field{"parcel_id", p.integer("parcel_id", false, 1, 1<<62)},
		field{"address", p.text("address", true, 200)},
		field{"name", p.text("name", false, 100)},
		field{"use", p.enum("use", true, uses...)},
		field{"floors", p.integer("floors", true, 1, 200)},
		field{"built_year", p.integer("built_year", false, 1800, 2100)},
		field{"households", p.integer("households", false, 0, 1<<31-1)})
}

var categories = []string{"hydrant", "manhole", "street_light", "camera", "smoke_sensor", "trash_bin",
	"electric_box", "gas_valve", "bus_stop", "water_meter"}

var fourDigits = regexp.MustCompile(`^[0-9]{4}$`)

func objectProps(p props) (map[string]any, error) {
	v := map[string]any{}
	return v, p.into(v,
		field{"id", p.integer("id", false, 1, 1<<62)},
		field{"category", p.enum("category", true, categories...)},
		field{"category_code", p.match("category_code", true, fourDigits, "a 4-digit category code")},
		field{"grid_code", p.codeAny("grid_code", wangge.LevelGrid, false)},
		field{"building_id", p.integer("building_id", false, 1, 1<<62)},
		field{"device_id", p.text("device_id", false, 100)},
		field{"status", p.enum("status", false, "normal", "fault", "alarm", "offline")},
		field{"installed_on", p.date("installed_on")})
}

func postProps(p props) (map[string]any, error) {
	v := map[string]any{}
	return v, p.into(v,
		field{"id", p.integer("id", false, 1, 1<<62)},
		field{"kind", p.enum("kind", true, "police", "fire", "medical", "community", "micro_fire")},
		field{"name", p.text("name", true, 100)},
		field{"address", p.text("address", false, 200)},
		field{"phone", p.text("phone", false, 30)},
		field{"grid_code", p.codeAny("grid_code", wangge.LevelGrid, false)})
}

// props reads typed values from a feature's properties.
type props struct{ m map[string]any }

type field struct {
	name string
	get  func() (any, error)
}

// into stores each present field in v, stopping at the first error.
func (p props) into(v map[string]any, fs ...field) error {
	for _, f := range fs {
		x, err := f.get()
		if err != nil {
			return err
		}
		if x != nil {
			v[f.name] = x
		}
	}
	return nil
}

func (p props) raw(name string, required bool) (any, error) {
	x, ok := p.m[name]
	if !ok || x == nil {
		if required {
			return nil, wangge.Invalid("properties."+name, "required")
		}
		return nil, nil
	}
	return x, nil
}

func (p props) str(name string, required bool, maxLen int) (any, error) {
	x, err := p.raw(name, required)
	if x == nil || err != nil {
		return nil, err
	}
	s, ok := x.(string)
	if !ok {
		return nil, wangge.Invalid("properties."+name, "must be a string, not %v", x)
	}
	s = strings.TrimSpace(s)
	if s == "" && required {
		return nil, wangge.Invalid("properties."+name, "must not be empty")
	}
	if utf8.RuneCountInString(s) > maxLen {
		return nil, wangge.Invalid("properties."+name, "longer than %d characters", maxLen)
	}
	return s, nil
}

func (p props) text(name string, required bool, maxLen int) func() (any, error) {
	return func() (any, error) { return p.str(name, required, maxLen) }
}

func (p props) name() (any, error) { return p.str("name", true, 100) }

func (p props) enum(name string, required bool, allowed ...string) func() (any, error) {
	return func() (any, error) {
		x, err := p.str(name, required, 50)
		if x == nil || err != nil {
			return x, err
		}
		if !slices.Contains(allowed, x.(string)) {
			return nil, wangge.Invalid("properties."+name, "%q is not one of %s", x, strings.Join(allowed, ", "))
		}
		return x, nil
	}
}

func (p props) match(name string, required bool, re *regexp.Regexp, what string) func() (any, error) {
	return func() (any, error) {
		x, err := p.codeText(name, required)
		if x == "" || err != nil {
			return nil, err
		}
		if !re.MatchString(x) {
			return nil, wangge.Invalid("properties."+name, "%q is not %s", x, what)
		}
		return x, nil
	}
}

// codeText reads a code given as a string or, as some GIS exports write
// adcodes, as an integer.
func (p props) codeText(name string, required bool) (string, error) {
	x, err := p.raw(name, required)
	if x == nil || err != nil {
		return "", err
	}
	switch c := x.(type) {
	case string:
		return strings.TrimSpace(c), nil
	case json.Number:
		return c.String(), nil
	}
	return "", wangge.Invalid("properties."+name, "must be a string of digits, not %v", x)
}

// code reads a region or grid code of the given level.
func (p props) code(name string, level wangge.Level, required bool) (string, error) {
	c, err := p.codeText(name, required)
	if c == "" || err != nil {
		return "", err
	}
	if l, ok := wangge.LevelOf(c); !ok || l != level {
		return "", wangge.Invalid("properties."+name, "%q is not a %d-digit %s code", c, levelLen[level], level)
	}
	return c, nil
}

func (p props) codeAny(name string, level wangge.Level, required bool) func() (any, error) {
	return func() (any, error) {
		c, err := p.code(name, level, required)
		if c == "" || err != nil {
			return nil, err
		}
		return c, nil
	}
}

func (p props) integer(name string, required bool, lo, hi int64) func() (any, error) {
	return func() (any, error) {
		x, err := p.raw(name, required)
		if x == nil || err != nil {
			return nil, err
		}
		n, ok := x.(json.Number)
		if !ok {
			return nil, wangge.Invalid("properties."+name, "must be a whole number, not %v", x)
		}
		i, err := n.Int64()
		if err != nil {
			return nil, wangge.Invalid("properties."+name, "%s is not a whole number", n)
		}
		if i < lo || i > hi {
			return nil, wangge.Invalid("properties."+name, "%d is outside [%d, %d]", i, lo, hi)
		}
		return i, nil
	}
}

func (p props) date(name string) func() (any, error) {
	return func() (any, error) {
		x, err := p.str(name, false, 10)
		if x == nil || err != nil {
			return nil, err
		}
		if _, err := time.Parse(time.DateOnly, x.(string)); err != nil {
			return nil, wangge.Invalid("properties."+name, "%q is not a date like 2024-05-31", x)
		}
		return x, nil
	}
}
