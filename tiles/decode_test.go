package tiles

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// decodedFeature is what the independent Node decoder saw of one feature.
type decodedFeature struct {
	ID         int64          `json:"id"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	RingAreas  []float64      `json:"ring_areas"`
	Vertices   int            `json:"vertices"`
	BBox       [4]float64     `json:"bbox"`
}

type decodedLayer struct {
	Version  int              `json:"version"`
	Extent   int              `json:"extent"`
	Features []decodedFeature `json:"features"`
}

const decoderDir = "testdata/mvtdecode"

// decodeWithNode decodes raw MVT tiles with @mapbox/vector-tile in Node:
// a decoder we did not write checks what we encode. Under make test
// (WANGGE_REQUIRE_DB=1) a missing Node or npm install fails the test.
func decodeWithNode(t *testing.T, raw map[string][]byte) map[string]map[string]decodedLayer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(decoderDir, "node_modules", "@mapbox", "vector-tile")); err != nil {
		if os.Getenv("WANGGE_REQUIRE_DB") == "1" {
			t.Fatalf("the Node MVT decoder is not installed: run `npm ci` in tiles/%s", decoderDir)
		}
		t.Skip("Node MVT decoder not installed (npm ci in tiles/testdata/mvtdecode)")
	}
	dir := t.TempDir()
	args := []string{filepath.Join(decoderDir, "decode.mjs")}
	names := map[string]string{}
	for name, b := range raw {
		p := filepath.Join(dir, filepath.Base(name)+".mvt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
		names[p] = name
	}
	out, err := exec.Command("node", args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("node decoder: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("node decoder: %v", err)
	}
	var byPath map[string]map[string]decodedLayer
	if err := json.Unmarshal(out, &byPath); err != nil {
		t.Fatalf("decoder output: %v", err)
	}
	res := map[string]map[string]decodedLayer{}
	for p, layers := range byPath {
		res[names[p]] = layers
	}
	return res
}
