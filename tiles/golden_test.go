package tiles

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden tiles under testdata/golden")

// The seeded test city: the dense core (Yuzhong) and a rural county
// (Chengkou), generated from a fixed seed.
var testCity = data.Options{Scale: 0.01, Seed: 42, Districts: []string{"500103", "500229"},
	Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))}

// The fixed tile list: z6–z16 over the core (Jiefangbei) and the
// outskirts (Chengkou county town).
var places = map[string][2]float64{"core": {106.5770, 29.5570}, "outskirts": {108.6650, 31.9480}}

func seededCity(t *testing.T) *Service {
	t.Helper()
	db, _ := pgtest.New(t)
	if _, err := data.Seed(context.Background(), db, testCity, quiet()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return NewService(NewCatalogue(), db, 256<<20, quiet())
}

// Every tile of the list decodes with @mapbox/vector-tile, carries only
// the layers of its zoom band with their catalogue fields and positive
// integer ids, no PII, and stays under the size budget; a few are golden.
func TestSeededCityTiles(t *testing.T) {
	s := seededCity(t)
	cat := s.Catalogue()
	onemap, _ := cat.Source("onemap")
	rawTiles := map[string][]byte{}
	for name, p := range places {
		for z := uint32(6); z <= 16; z++ {
			b, tile := raw(t, s, "onemap", tileAt(p[0], p[1], z))
			if tile.Empty {
				t.Fatalf("%s z%d: empty tile", name, z)
			}
			if len(b) > MaxTileBytes {
				t.Fatalf("%s z%d: %d bytes, over the budget", name, z, len(b))
			}
			rawTiles[fmt.Sprintf("onemap-%s-z%02d", name, z)] = b
		}
	}
	decoded := decodeWithNode(t, rawTiles)
	for key, layers := range decoded {
		var z uint32
		fmt.Sscanf(key[len(key)-2:], "%d", &z)
		allowed := map[string]Layer{}
		for _, l := range onemap.LayersAt(z) {
			allowed[l.Name] = l
		}
		if _, ok := layers["districts"]; !ok {
			t.Errorf("%s: no districts layer", key)
		}
		for name, l := range layers {
			cl, ok := allowed[name]
			if !ok {
				t.Errorf("%s: layer %q outside its zoom band", key, name)
				continue
			}
			fields := map[string]bool{}
			for _, f := range cl.Fields {
				fields[f.Name] = true
			}
			for _, f := range l.Features {
				checkFeature(t, z, name, f)
				for k := range f.Properties {
					if !fields[k] {
						t.Errorf("%s %s %d: attribute %q is not in the catalogue", key, name, f.ID, k)
					}
				}
			}
		}
	}
	core := decoded["onemap-core-z14"]
	for _, want := range []string{"buildings", "grids", "parcels", "communities", "streets"} {
		if len(core[want].Features) == 0 {
			t.Errorf("core z14 has no %s", want)
		}
	}
	for _, key := range []string{"onemap-core-z10", "onemap-core-z16", "onemap-outskirts-z12"} {
		golden(t, key, decoded[key])
	}
}

// golden compares a decoded tile with testdata/golden/key.json: the same
// layers and feature ids, equal attributes, bounding boxes within 2 tile
// units and vertex counts within 10% (GEOS versions may round a little
// differently). -update rewrites the file; review its diff like code.
func golden(t *testing.T, key string, got map[string]decodedLayer) {
	t.Helper()
	path := filepath.Join("testdata", "golden", key+".json")
	for _, l := range got {
		sort.Slice(l.Features, func(i, j int) bool { return l.Features[i].ID < l.Features[j].ID })
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", " ")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test ./tiles -run SeededCity -update)", key, err)
	}
	var want map[string]decodedLayer
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Errorf("%s: %d layers, golden has %d", key, len(got), len(want))
	}
	for name, wl := range want {
		gl := got[name]
		if len(gl.Features) != len(wl.Features) {
			t.Errorf("%s %s: %d features, golden has %d", key, name, len(gl.Features), len(wl.Features))
			continue
		}
		for i, wf := range wl.Features {
			gf := gl.Features[i]
			if gf.ID != wf.ID || fmt.Sprint(gf.Properties) != fmt.Sprint(wf.Properties) {
				t.Errorf("%s %s: feature %d %v, golden %d %v", key, name, gf.ID, gf.Properties, wf.ID, wf.Properties)
				continue
			}
			for k := range wf.BBox {
				if math.Abs(gf.BBox[k]-wf.BBox[k]) > 2 {
					t.Errorf("%s %s %d: bbox %v, golden %v", key, name, gf.ID, gf.BBox, wf.BBox)
					break
				}
			}
			if d := math.Abs(float64(gf.Vertices - wf.Vertices)); d > 2 && d > 0.1*float64(wf.Vertices) {
				t.Errorf("%s %s %d: %d vertices, golden %d", key, name, gf.ID, gf.Vertices, wf.Vertices)
			}
		}
	}
}
