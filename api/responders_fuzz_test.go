package api

import (
	"errors"
	"math"
	"net/url"
	"testing"

	"github.com/wangge/wangge"
)

// FuzzParseNearest: any query string either fails as invalid input (400)
// or gives a query the index accepts, with finite WGS-84 coordinates.
func FuzzParseNearest(f *testing.F) {
	for _, s := range []string{
		"lon=106.55&lat=29.56&k=5", "lon=106.55&lat=29.56&kind=patrol,engine&status=available&crs=bd09",
		"lon=1e308&lat=-0", "lon=NaN&lat=Inf", "k=-1", "scope=district&street=500103001&lon=0&lat=0",
		"lon=180&lat=90&crs=gcj02&k=100&engine=postgis", "kind=,,&status=%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, needPoint := range []bool{true, false} {
			p, err := parseNearest(v, needPoint)
			if err != nil {
				if !errors.Is(err, wangge.ErrInvalid) {
					t.Fatalf("%q: error %v is not ErrInvalid", raw, err)
				}
				continue
			}
			if err := p.q.Validate(); err != nil {
				t.Fatalf("%q: parsed query %+v invalid: %v", raw, p.q, err)
			}
			if math.IsNaN(p.q.Lon+p.q.Lat) || math.Abs(p.q.Lon) > 180 || math.Abs(p.q.Lat) > 90 {
				t.Fatalf("%q: coordinates %v,%v", raw, p.q.Lon, p.q.Lat)
			}
		}
	})
}
