package tiles

import (
	"errors"
	"testing"

	"github.com/wangge/wangge"
)

func TestParseTileID(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y string
		want    TileID
		wantErr bool
	}{
		{"ok", "14", "13342", "6826.mvt", TileID{14, 13342, 6826}, false},
		{"zoom 0", "0", "0", "0.mvt", TileID{0, 0, 0}, false},
		{"max zoom corner", "22", "4194303", "4194303.mvt", TileID{22, 4194303, 4194303}, false},
		{"zoom over 22", "23", "0", "0.mvt", TileID{}, true},
		{"x outside 2^z", "3", "8", "0.mvt", TileID{}, true},
		{"y outside 2^z", "3", "0", "8.mvt", TileID{}, true},
		{"negative", "3", "-1", "0.mvt", TileID{}, true},
		{"non-numeric z", "a", "0", "0.mvt", TileID{}, true},
		{"non-numeric y", "3", "0", "b.mvt", TileID{}, true},
		{"png", "3", "0", "0.png", TileID{}, true},
		{"no extension", "3", "0", "0", TileID{}, true},
		{"plus sign", "3", "+1", "0.mvt", TileID{}, true},
		{"huge number", "3", "99999999999999999999", "0.mvt", TileID{}, true},
		{"empty", "", "0", "0.mvt", TileID{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTileID(tt.z, tt.x, tt.y)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, wangge.ErrInvalid) {
				t.Fatalf("err %v is not ErrInvalid", err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzParseTileID(f *testing.F) {
	f.Add("14", "13342", "6826.mvt")
	f.Add("0", "0", "0.png")
	f.Fuzz(func(t *testing.T, z, x, y string) {
		id, err := ParseTileID(z, x, y)
		if err != nil {
			return
		}
		if id.Z > MaxZoom || uint64(id.X) >= 1<<id.Z || uint64(id.Y) >= 1<<id.Z {
			t.Fatalf("accepted out-of-range tile %v", id)
		}
	})
}

// Covering must include the tile that contains each point of the box, at
// every zoom, and nothing far from it.
func TestCoveringContainsPointTiles(t *testing.T) {
	b := Bound{MinLon: 106.561, MinLat: 29.551, MaxLon: 106.562, MaxLat: 29.552}
	for z := uint32(0); z <= MaxZoom; z++ {
		r := Covering(b, z, 0)
		for _, p := range [][2]float64{{b.MinLon, b.MinLat}, {b.MaxLon, b.MaxLat}, {b.MinLon, b.MaxLat}} {
			x, y := tileXY(p[0], p[1], z)
			tile := TileID{z, uint32(x), uint32(y)}
			if !r.Contains(tile) {
				t.Fatalf("z%d: covering %v misses tile %v of point %v", z, r, tile, p)
			}
			tb := tile.Bound()
			if p[0] < tb.MinLon || p[0] > tb.MaxLon || p[1] < tb.MinLat || p[1] > tb.MaxLat {
				t.Fatalf("z%d: tile %v bound %v does not hold %v", z, tile, tb, p)
			}
		}
		if w := r.X1 - r.X0 + 1; z <= 14 && w > 2 {
			t.Fatalf("z%d: covering %v is wider than a 100 m box can be", z, r)
		}
	}
}
