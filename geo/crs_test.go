package geo_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// Reference values of the widely used coordtransform library for the
// forward transforms (its inverses are one-step approximations, ours
// iterate, so they are checked by round trip instead).
func TestCRSReference(t *testing.T) {
	tests := []struct {
		name             string
		f                func(float64, float64) (float64, float64)
		lon, lat         float64
		wantLon, wantLat float64
	}{
		{"wgs84→gcj02", geo.WGS84ToGCJ02, 116.404, 39.915, 116.41024449916938, 39.91640428150164},
		{"gcj02→bd09", geo.GCJ02ToBD09, 116.404, 39.915, 116.41036949371029, 39.92133699351021},
		{"outside China unchanged", geo.WGS84ToGCJ02, 2.35, 48.85, 2.35, 48.85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lon, lat := tt.f(tt.lon, tt.lat)
			if math.Abs(lon-tt.wantLon) > 1e-9 || math.Abs(lat-tt.wantLat) > 1e-9 {
				t.Errorf("got %.12f,%.12f; want %.12f,%.12f", lon, lat, tt.wantLon, tt.wantLat)
			}
		})
	}
}

// TestCRSRoundTrip: WGS-84 → GCJ-02/BD-09 → WGS-84 returns within 0.5 m
// (in fact within millimetres) over China and around Chongqing.
func TestCRSRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	worst := map[geo.CRS]float64{}
	for i := 0; i < 20000; i++ {
		lon, lat := 73+rng.Float64()*62, 3+rng.Float64()*50
		if i%2 == 0 {
			lon, lat = 105.2+rng.Float64()*5, 28.1+rng.Float64()*4.2
		}
		for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
			x, y := geo.FromWGS84(crs, lon, lat)
			if geo.DistanceM(lon, lat, x, y) < 1 && !geo.OutOfChina(lon, lat) {
				t.Fatalf("%s of %v,%v did not move", crs, lon, lat)
			}
			bx, by := geo.ToWGS84(crs, x, y)
			if d := geo.DistanceM(lon, lat, bx, by); d > worst[crs] {
				worst[crs] = d
			}
		}
	}
	for crs, d := range worst {
		if d > 0.5 {
			t.Errorf("%s round trip off by %.3f m", crs, d)
		}
		t.Logf("%s worst round-trip error %.2e m", crs, d)
	}
}

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]geo.CRS{"": geo.WGS84, "wgs84": geo.WGS84, "gcj02": geo.GCJ02, "bd09": geo.BD09} {
		if got, err := geo.ParseCRS(in); err != nil || got != want {
			t.Errorf("ParseCRS(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := geo.ParseCRS("epsg:3857"); !errors.Is(err, wangge.ErrInvalid) {
		t.Errorf("unknown crs: %v; want ErrInvalid", err)
	}
}
