package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data/importer"
)

// importDoc is a FeatureCollection of features given as properties and
// geometry JSON.
func importDoc(fs ...[2]string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, f[0], f[1]))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(parts, ",") + `]}`
}

func box(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

func pt(x, y float64) string { return fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, x, y) }

// Imported: a district of its own away from the seeded one (two grids
// side by side), so its figures are the imports' alone.
const (
	impDistrict, impStreet, impCommunity = "500104", "500104001", "500104001001"
	impGrid1, impGrid2                   = "500104001001001", "500104001001002"
)

func (w *rollupWalk) load(t *testing.T, layer, doc string, replace bool) {
	t.Helper()
	if _, err := importer.Import(context.Background(), w.db, strings.NewReader(doc),
		importer.Options{Layer: layer, Replace: replace, Actor: "rollup walk"}); err != nil {
		t.Fatalf("import %s: %v", layer, err)
	}
}

// imports load every layer the importer takes, replace some rows (a post
// and a building moved to the other grid, a grid renamed), and have a
// bad file refused whole. There is no import undo to walk yet.
func (w *rollupWalk) imports(t *testing.T) {
	yuzhong0, kpi0 := w.counts(t, "500103"), w.kpiCity(t)
	steps := []struct {
		layer   string
		doc     string
		replace bool
		want    map[string]map[string]int64 // region → change
	}{
		{"districts", importDoc([2]string{`{"code":"500104","name":"测试区"}`, box(107.90, 30.90, 107.95, 30.95)}), false, nil},
		{"streets", importDoc([2]string{`{"code":"500104001","name":"测试街道"}`, box(107.90, 30.90, 107.95, 30.95)}), false, nil},
		{"communities", importDoc([2]string{`{"code":"500104001001","name":"测试社区"}`, box(107.90, 30.90, 107.94, 30.92)}), false, nil},
		{"grids", importDoc([2]string{`{"code":"500104001001001","name":"第一网格"}`, box(107.90, 30.90, 107.92, 30.92)},
			[2]string{`{"code":"500104001001002","name":"第二网格"}`, box(107.92, 30.90, 107.94, 30.92)}), false,
			map[string]map[string]int64{impDistrict: {"grids": 2}, impGrid1: {"grids": 1}, impGrid2: {"grids": 1}}},
		{"parcels", importDoc([2]string{`{"id":990001,"grid_code":"500104001001001","land_use":"residential"}`, box(107.90, 30.90, 107.92, 30.92)},
			[2]string{`{"id":990002,"grid_code":"500104001001002","land_use":"mixed"}`, box(107.92, 30.90, 107.94, 30.92)}), false, nil},
		{"buildings", importDoc(
			[2]string{`{"id":990001,"address":"测试路1号","use":"residential","floors":6,"households":40}`, box(107.901, 30.901, 107.902, 30.902)},
			[2]string{`{"id":990002,"address":"测试路2号","use":"office","floors":12}`, box(107.905, 30.905, 107.906, 30.906)},
			[2]string{`{"id":990003,"address":"测试路3号","use":"school","floors":3,"grid_code":"500104001001002"}`, box(107.925, 30.905, 107.926, 30.906)}), false,
			// households is the building's own figure; the rollups count households' rows.
			map[string]map[string]int64{impDistrict: {"buildings": 3}, impGrid1: {"buildings": 2}, impGrid2: {"buildings": 1}}},
		{"objects", importDoc(
			[2]string{`{"id":990001,"category":"hydrant","category_code":"0301"}`, pt(107.903, 30.903)},
			[2]string{`{"id":990002,"category":"smoke_sensor","category_code":"0512","device_id":"ROLLUP-SMK-1","building_id":990003}`, pt(107.9255, 30.9055)},
			[2]string{`{"id":990003,"category":"street_light","category_code":"0501","status":"fault"}`, pt(107.930, 30.910)}), false,
			map[string]map[string]int64{impDistrict: {"object:hydrant": 1, "object:smoke_sensor": 1, "object:street_light": 1},
				impGrid1: {"object:hydrant": 1}, impGrid2: {"object:smoke_sensor": 1, "object:street_light": 1}}},
		{"posts", importDoc(
			[2]string{`{"id":990001,"kind":"police","name":"测试派出所"}`, pt(107.904, 30.904)},
			[2]string{`{"id":990002,"kind":"community","name":"测试社区服务站"}`, pt(107.931, 30.911)}), false,
			map[string]map[string]int64{impDistrict: {"post:police": 1, "post:community": 1},
				impGrid1: {"post:police": 1}, impGrid2: {"post:community": 1}}},
		{"posts", importDoc([2]string{`{"id":990001,"kind":"police","name":"测试派出所","grid_code":"500104001001002"}`, pt(107.904, 30.904)}), true,
			map[string]map[string]int64{impGrid1: {"post:police": -1}, impGrid2: {"post:police": 1}}},
		{"buildings", importDoc([2]string{`{"id":990002,"address":"测试路2号","use":"office","floors":12,"grid_code":"500104001001002"}`,
			box(107.905, 30.905, 107.906, 30.906)}), true,
			map[string]map[string]int64{impGrid1: {"buildings": -1}, impGrid2: {"buildings": 1}}},
		{"grids", importDoc([2]string{`{"code":"500104001001001","name":"第一网格（改）"}`, box(107.90, 30.90, 107.92, 30.92)}), true, nil},
	}
	regions := []string{impDistrict, impStreet, impCommunity, impGrid1, impGrid2}
	for i, s := range steps {
		before := map[string]map[string]int64{}
		for _, r := range regions {
			before[r] = w.countsIf(t, r)
		}
		w.load(t, s.layer, s.doc, s.replace)
		w.verify(t)
		for _, r := range regions {
			want := s.want[r]
			if r == impStreet || r == impCommunity {
				want = s.want[impDistrict] // one street, one community: the district's change
			}
			wantDelta(t, fmt.Sprintf("import %d (%s): %s", i, s.layer, r), want, before[r], w.countsIf(t, r))
		}
	}
	// A file with one bad feature is refused whole.
	s := w.snapshot(t)
	_, err := importer.Import(context.Background(), w.db, strings.NewReader(importDoc(
		[2]string{`{"id":990010,"category":"hydrant","category_code":"0301"}`, pt(107.903, 30.903)},
		[2]string{`{"id":990011,"category":"hydrant","category_code":"0301","building_id":123456789}`, pt(107.904, 30.904)})),
		importer.Options{Layer: "objects"})
	if !errors.Is(err, wangge.ErrInvalid) {
		t.Errorf("bad file: %v", err)
	}
	w.unchanged(t, s, "a refused import")
	wantDelta(t, "Yuzhong", nil, yuzhong0, w.counts(t, "500103"))
	wantDelta(t, "city KPI", nil, kpi0, w.kpiCity(t))
}

func (w *rollupWalk) kpiCity(t *testing.T) map[string]int64 {
	t.Helper()
	m, _ := w.kpi(t, "")
	return m
}

// bulkLoad: with the triggers off (a bulk load) an import leaves the
// rollups behind, VerifyRollups names exactly what drifted, and the
// rebuild puts it right; with them on again, imports are followed.
func (w *rollupWalk) bulkLoad(t *testing.T) {
	ctx := context.Background()
	if err := w.db.SetRollupTriggers(ctx, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.db.SetRollupTriggers(context.Background(), true) })
	w.load(t, "objects", importDoc([2]string{`{"id":990020,"category":"manhole","category_code":"0302"}`, pt(107.906, 30.906)}), false)
	drift, err := w.db.VerifyRollups(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	// What is stored lacks the new manhole at every level, the city's
	// (which has the seeded ones) included.
	got := map[string]int64{}
	for _, d := range drift {
		var have, want int64
		_, _ = fmt.Sscan(d.Have, &have) // "" (no row) stays 0
		_, _ = fmt.Sscan(d.Want, &want)
		got[d.Table+" "+d.Key] = want - have
	}
	want := map[string]int64{}
	for _, code := range []string{"", impDistrict, impStreet, impCommunity, impGrid1} {
		want["rollup_counts "+code+"/object:manhole"] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift with the triggers off (-want +got):\n%s", diff)
	}
	if err := w.db.RebuildRollups(ctx, quietLog()); err != nil {
		t.Fatal(err)
	}
	w.verify(t)
	if err := w.db.SetRollupTriggers(ctx, true); err != nil {
		t.Fatal(err)
	}
	before := w.counts(t, impGrid1)
	w.load(t, "objects", importDoc([2]string{`{"id":990021,"category":"manhole","category_code":"0302"}`, pt(107.907, 30.907)}), false)
	wantDelta(t, "grid after a load with the triggers on", map[string]int64{"object:manhole": 1}, before, w.counts(t, impGrid1))
}
