package geo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// acceptedBad are geojsonhint "bad" files that RFC 7946 does not make
// invalid: geojsonhint flags them as style advice, and so do we not reject.
var acceptedBad = map[string]string{
	// §3.1.6: rings "MUST follow the right-hand rule", but "parsers SHOULD
	// NOT reject Polygons that do not"; Normalize rewinds them.
	"bad-polygon-interiorring-rhr.geojson": "winding is fixed, not rejected (§3.1.6)",
	"polygon_winding_order.geojson":        "winding is fixed, not rejected (§3.1.6)",
	// §3.1.8: nested or single-member collections are a SHOULD avoid.
	"geometrycollection_nested.geojson": "nesting is a SHOULD (§3.1.8)",
	"geometrycollection_single.geojson": "single member is a SHOULD (§3.1.8)",
	// Extra digits are a precision hint (§11.2), and geojsonhint expects no error either.
	"excessive_precision_truncated.geojson": "precision is advice (§11.2)",
}

// outOfRangeGood are "good" files with coordinates outside WGS-84 ranges:
// well-formed GeoJSON, so they parse, but Validate rejects them.
var outOfRangeGood = map[string]bool{"issue82.geojson": true}

func TestGeojsonhintGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/geojsonhint/good/*.geojson")
	if len(files) < 10 {
		t.Fatalf("found %d good files; fixtures missing", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			c, err := geo.Parse(read(t, f))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var verr error
			for _, ft := range c.Features {
				if ft.Geometry != nil {
					if verr = geo.Validate(ft.Geometry); verr != nil {
						break
					}
				}
			}
			if got := verr != nil; got != outOfRangeGood[name] {
				t.Errorf("Validate error = %v, want error: %v", verr, outOfRangeGood[name])
			}
		})
	}
}

func TestGeojsonhintBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/geojsonhint/bad/*.geojson")
	if len(files) < 40 {
		t.Fatalf("found %d bad files; fixtures missing", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			c, err := geo.Parse(read(t, f))
			if why, ok := acceptedBad[name]; ok {
				if err != nil {
					t.Fatalf("accepted on purpose (%s), but Parse: %v", why, err)
				}
				for _, ft := range c.Features {
					if err := geo.Validate(ft.Geometry); err != nil {
						t.Fatalf("accepted on purpose (%s), but Validate: %v", why, err)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted a file invalid by RFC 7946")
			}
			var ge *geo.Error
			if !errors.As(err, &ge) || !errors.Is(err, wangge.ErrInvalid) {
				t.Fatalf("error %v is not a *geo.Error wrapping ErrInvalid", err)
			}
			if ge.Line == 0 || strings.TrimSpace(ge.Reason) == "" {
				t.Errorf("error %q lacks a line or a reason", err)
			}
			t.Log(err)
		})
	}
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
