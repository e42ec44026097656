package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data/importer"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// sq is a GeoJSON ring of the box, clockwise (importers must fix it).
func sq(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]", x0, y0, x0, y1, x1, y1, x1, y0, x0, y0)
}

func feature(props, geom string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, props, geom)
}

func poly(rings ...string) string {
	return `{"type":"Polygon","coordinates":[` + strings.Join(rings, ",") + `]}`
}

func fc(fs ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",\n") + "]}"
}

var (
	districts = fc(
		feature(`{"code":"500103","name":"渝中区","kind":"urban"}`, poly(sq(106.50, 29.50, 106.60, 29.60))),
		feature(`{"code":500104,"name":"大渡口区"}`, poly(sq(106.60, 29.50, 106.70, 29.60), sq(106.62, 29.52, 106.63, 29.53))))
	streets = fc(feature(`{"code":"500103001","name":"七星岗街道"}`, poly(sq(106.50, 29.50, 106.55, 29.55))))
	comms   = fc(feature(`{"code":"500103001001","name":"金汤街社区"}`, poly(sq(106.50, 29.50, 106.52, 29.52))))
	grids   = fc(feature(`{"code":"500103001001001","name":"金汤街第一网格"}`, poly(sq(106.50, 29.50, 106.51, 29.51))))
	blds    = fc(feature(`{"address":"金汤街1号","use":"residential","floors":12}`, poly(sq(106.501, 29.501, 106.502, 29.502))))
	objects = fc(feature(`{"category":"hydrant","category_code":"0301","device_id":"H-1"}`, `{"type":"Point","coordinates":[106.505,29.505]}`))
)

func load(t *testing.T, db *postgis.DB, layer, doc string, replace bool) importer.Report {
	t.Helper()
	rep, err := importer.Import(context.Background(), db, strings.NewReader(doc), importer.Options{Layer: layer, Replace: replace, Actor: "tester"})
	if err != nil {
		t.Fatalf("import %s: %v", layer, err)
	}
	return rep
}

var tables = []string{"regions", "grids", "grid_versions", "parcels", "buildings", "objects", "posts"}

func counts(t *testing.T, db *postgis.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

func TestImport(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()

	rep := load(t, db, "districts", districts, false)
	if diff := cmp.Diff(importer.Report{Layer: "districts", Features: 2, Inserted: 2}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// Round trip: stored as MultiPolygon, shell counter-clockwise, hole clockwise.
	var b []byte
	if err := db.Pool.QueryRow(ctx, "SELECT ST_AsBinary(geom) FROM regions WHERE code = '500104'").Scan(&b); err != nil {
		t.Fatal(err)
	}
	got, err := wkb.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := orb.MultiPolygon{{
		{{106.6, 29.5}, {106.7, 29.5}, {106.7, 29.6}, {106.6, 29.6}, {106.6, 29.5}},
		{{106.62, 29.52}, {106.62, 29.53}, {106.63, 29.53}, {106.63, 29.52}, {106.62, 29.52}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored geometry (-want +got):\n%s", diff)
	}

	load(t, db, "streets", streets, false)
	load(t, db, "communities", comms, false)
	load(t, db, "grids", grids, false)
	load(t, db, "buildings", blds, false)
	load(t, db, "objects", objects, false)
	var parent, grid, bgrid string
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT parent_code FROM regions WHERE code = '500103001'),
		(SELECT community_code FROM grids WHERE code = '500103001001001'),
		(SELECT grid_code FROM buildings LIMIT 1)`).Scan(&parent, &grid, &bgrid); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"500103", "500103001001", "500103001001001"}, []string{parent, grid, bgrid}); diff != "" {
		t.Errorf("derived codes (-want +got):\n%s", diff)
	}

	// Replace a grid: updated in place, version 2, old geometry kept.
	rep = load(t, db, "grids", strings.Replace(grids, "106.51", "106.515", -1), true)
	if rep.Updated != 1 || rep.Inserted != 0 {
		t.Errorf("replace report = %+v", rep)
	}
	var version, history int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT version FROM grids), (SELECT count(*) FROM grid_versions WHERE changed_by = 'tester')`).Scan(&version, &history); err != nil {
		t.Fatal(err)
	}
	if version != 2 || history != 1 {
		t.Errorf("after replace: version %d, history rows %d; want 2, 1", version, history)
	}
}

func TestImportRejects(t *testing.T) {
	db, _ := pgtest.New(t)
	load(t, db, "districts", districts, false)
	bowtie := `{"type":"Polygon","coordinates":[[[106.57,29.55],[106.59,29.57],[106.59,29.55],[106.57,29.57],[106.57,29.55]]]}`
	tests := []struct {
		name, layer, doc, want string
	}{
		{"self-intersection at feature 1", "streets",
			fc(feature(`{"code":"500103002","name":"a"}`, poly(sq(106.5, 29.5, 106.51, 29.51))), feature(`{"code":"500103003","name":"b"}`, bowtie)),
			"importer: feature 1: geometry: ring 0 self-intersects near 106.58,29.56"},
		{"bad district code", "districts", fc(feature(`{"code":"5001","name":"x"}`, poly(sq(106, 29, 106.1, 29.1)))),
			`importer: feature 0: properties.code: "5001" is not a 6-digit district code`},
		{"missing parent", "streets",
			fc(feature(`{"code":"500103002","name":"a"}`, poly(sq(106.5, 29.5, 106.51, 29.51))), feature(`{"code":"500199001","name":"b"}`, poly(sq(106.5, 29.5, 106.51, 29.51)))),
			`importer: feature 1: properties.parent_code: region "500199" does not exist`},
		{"code already loaded", "districts", fc(feature(`{"code":"500103","name":"again"}`, poly(sq(106, 29, 106.1, 29.1)))),
			`importer: feature 0: properties.code: "500103" already exists (import with replace to update it)`},
		{"code twice in the file", "districts",
			fc(feature(`{"code":"500105","name":"a"}`, poly(sq(106, 29, 106.1, 29.1))), feature(`{"code":"500105","name":"b"}`, poly(sq(107, 29, 107.1, 29.1)))),
			`importer: feature 1: properties.code: 500105 repeats feature 0`},
		{"wrong CRS", "districts",
			`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4490"}},"features":[]}`,
			`importer: crs: RFC 7946 removed "crs": coordinates must be WGS-84 longitude, latitude, but this file declares EPSG:4490; reproject it first (ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson) (line 1)`},
		{"malformed JSON", "districts", "{\"type\": \"FeatureCollection\",\n \"features\": [}",
			`importer: not valid JSON: unexpected character '}' (line 2)`},
		{"point where a polygon belongs", "districts", fc(feature(`{"code":"500105","name":"a"}`, `{"type":"Point","coordinates":[106,29]}`)),
			`importer: feature 0: geometry: is a Point; this layer needs a Polygon or MultiPolygon`},
		{"no grid covers the building", "buildings", fc(feature(`{"address":"x","use":"office","floors":3}`, poly(sq(100, 20, 100.001, 20.001)))),
			`importer: feature 0: properties.grid_code: no active grid covers the feature; give grid_code`},
		{"floors out of range", "buildings", fc(feature(`{"address":"x","use":"office","floors":300}`, poly(sq(100, 20, 100.001, 20.001)))),
			`importer: feature 0: properties.floors: 300 is outside [1, 200]`},
		{"unknown layer", "roads", districts, `importer: layer: unknown layer "roads"; one of buildings, communities, districts, grids, objects, parcels, posts, streets`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counts(t, db)
			_, err := importer.Import(context.Background(), db, strings.NewReader(tt.doc), importer.Options{Layer: tt.layer})
			if err == nil {
				t.Fatal("import succeeded")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !errors.Is(err, wangge.ErrInvalid) {
				t.Errorf("error does not wrap wangge.ErrInvalid")
			}
			if diff := cmp.Diff(before, counts(t, db)); diff != "" {
				t.Errorf("tables changed (-before +after):\n%s", diff)
			}
		})
	}
}
