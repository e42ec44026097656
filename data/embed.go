package data

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The shipped source files (see README.md for sources and licences),
// embedded so the binary seeds from any working directory.
//
//go:embed chongqing/chongqing_districts_wgs84.geojson chongqing/chongqing_towns_nbs2023.csv
//go:embed chongqing/chongqing_villages_nbs2023.csv chongqing/chongqing_rivers_wdbii.geojson
var files embed.FS

// district is one real county-level division with its streets.
type district struct {
	Code, Name string
	Geom       orb.MultiPolygon
	Center     orb.Point // seat of government
	Streets    []*street
}

type street struct {
	Code, Name  string
	Communities []*community
}

type community struct {
	Code, Name string
	Urban      bool // 社区/居委会 rather than 村
}

// river is a centreline with the half-width of the water it carries.
type river struct {
	Line      orb.LineString
	HalfWidth float64 // metres
}

// loadDistricts reads the embedded boundary and code files, sorted by code.
func loadDistricts() ([]*district, error) {
	b, err := files.ReadFile("chongqing/chongqing_districts_wgs84.geojson")
	if err != nil {
		return nil, fmt.Errorf("data: read districts: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("data: parse districts: %w", err)
	}
	byCode := map[string]*district{}
	var out []*district
	for _, f := range fc.Features {
		d := &district{Code: fmt.Sprint(f.Properties["adcode"]), Name: fmt.Sprint(f.Properties["name"])}
		switch g := f.Geometry.(type) {
		case orb.MultiPolygon:
			d.Geom = g
		case orb.Polygon:
			d.Geom = orb.MultiPolygon{g}
		default:
			return nil, fmt.Errorf("data: district %s: geometry %T", d.Code, g)
		}
		if c, ok := f.Properties["center"].([]any); ok && len(c) == 2 {
			d.Center = orb.Point{c[0].(float64), c[1].(float64)}
		}
		byCode[d.Code] = d
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	streets := map[string]*street{}
	err = readCSV("chongqing/chongqing_towns_nbs2023.csv", func(r []string) error {
		d := byCode[r[2]]
		if d == nil {
			return fmt.Errorf("town %s: unknown district %s", r[0], r[2])
		}
		s := &street{Code: r[0], Name: r[1]}
		d.Streets = append(d.Streets, s)
		streets[s.Code] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readCSV("chongqing/chongqing_villages_nbs2023.csv", func(r []string) error {
		s := streets[r[2]]
		if s == nil {
			return fmt.Errorf("village %s: unknown town %s", r[0], r[2])
		}
		s.Communities = append(s.Communities, &community{Code: r[0], Name: r[1], Urban: !containsRune(r[1], '村')})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		sort.Slice(d.Streets, func(i, j int) bool { return d.Streets[i].Code < d.Streets[j].Code })
		for _, s := range d.Streets {
			sort.Slice(s.Communities, func(i, j int) bool { return s.Communities[i].Code < s.Communities[j].Code })
		}
	}
	return out, nil
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

func readCSV(name string, row func([]string) error) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return fmt.Errorf("data: read %s: %w", name, err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	if _, err := r.Read(); err != nil { // header
		return fmt.Errorf("data: %s: header: %w", name, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("data: %s: %w", name, err)
		}
		if err := row(rec); err != nil {
			return fmt.Errorf("data: %s: %w", name, err)
		}
	}
}

// loadRivers reads the major rivers (GSHHG levels 1–2: the Yangtze, the
// Jialing and their like) that cut parcels.
func loadRivers() ([]river, error) {
	b, err := files.ReadFile("chongqing/chongqing_rivers_wdbii.geojson")
	if err != nil {
		return nil, fmt.Errorf("data: read rivers: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("data: parse rivers: %w", err)
	}
	var out []river
	for _, f := range fc.Features {
		lvl, _ := f.Properties["gshhg_level"].(float64)
		ls, ok := f.Geometry.(orb.LineString)
		if !ok || lvl < 1 || lvl > 2 {
			continue
		}
		// Level 1 lines are banks of double-lined rivers; level 2 are the
		// centrelines of permanent major rivers.
		hw := 120.0
		if lvl == 1 {
			hw = 60
		}
		out = append(out, river{Line: ls, HalfWidth: hw})
	}
	return out, nil
}
