package geo_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wangge/wangge/geo"
)

// FuzzParse feeds arbitrary bytes to Parse and Validate: they must never
// panic, and every error must be a *geo.Error. Seeds: testdata/fuzz/FuzzParse
// plus the geojsonhint files.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/geojsonhint/*/*.geojson")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := geo.Parse(b)
		if err != nil {
			var ge *geo.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is %T, not *geo.Error", err, err)
			}
			return
		}
		for _, ft := range c.Features {
			if ft.Geometry == nil {
				continue
			}
			if err := geo.Validate(ft.Geometry); err == nil {
				_ = geo.Normalize(ft.Geometry)
			}
		}
	})
}
