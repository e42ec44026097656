package api_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
)

// TestGDALReadsEveryCollection drives GDAL's OGC API – Features driver
// (ogrinfo, Debian's gdal-bin) against the server as a GIS desktop would:
// it finds every collection from the landing page, pages through each
// (two items a page) and filters by bbox, and gets what SQL counts.
func TestGDALReadsEveryCollection(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("WANGGE_REQUIRE_DB") != "" {
			t.Fatal("ogrinfo (gdal-bin) is not installed; make test installs it")
		}
		t.Skip("ogrinfo (gdal-bin) is not installed")
	}
	c := newCity(t)
	tok := c.inside[wangge.RoleCommander]
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, ogrinfo, append([]string{"-ro", "--config", "GDAL_HTTP_HEADERS", "Authorization: Bearer " + tok,
			"--config", "CPL_VSIL_CURL_USE_HEAD", "NO", "--config", "GDAL_HTTP_TIMEOUT", "30"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	layers := run("OAPIF:" + c.url + "/api/v1")
	tables := map[string]string{"districts": "regions WHERE level = 'district'", "streets": "regions WHERE level = 'street'",
		"communities": "regions WHERE level = 'community'", "grids": "grids WHERE status = 'active'", "parcels": "parcels",
		"buildings": "buildings", "objects": "objects", "posts": "posts", "events": "events"}
	const bbox = "106.560 29.550 106.570 29.560" // grid 500103001001001
	for layer, table := range tables {
		if !strings.Contains(layers, layer) {
			t.Errorf("GDAL does not list collection %s:\n%s", layer, layers)
			continue
		}
		var want, inBox int
		if err := c.db.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE ST_Intersects(geom,
			ST_MakeEnvelope(106.560, 29.550, 106.570, 29.560, 4326))) FROM `+table).Scan(&want, &inBox); err != nil {
			t.Fatal(err)
		}
		got := strings.Count(run("-oo", "PAGE_SIZE=2", "-geom=NO", "OAPIF:"+c.url+"/api/v1", layer), "OGRFeature(")
		if got != want || want == 0 {
			t.Errorf("%s: GDAL paged through %d features, SQL has %d", layer, got, want)
		}
		t.Logf("%s: %d features in pages of 2, %d in the bbox", layer, got, inBox)
		boxed := strings.Count(run("-oo", "PAGE_SIZE=2", "-geom=NO", "-spat", strings.Fields(bbox)[0], strings.Fields(bbox)[1],
			strings.Fields(bbox)[2], strings.Fields(bbox)[3], "OAPIF:"+c.url+"/api/v1", layer), "OGRFeature(")
		if boxed != inBox {
			t.Errorf("%s: GDAL's bbox gave %d features, SQL %d", layer, boxed, inBox)
		}
	}
	summary := run("-so", "OAPIF:"+c.url+"/api/v1", "events")
	if !strings.Contains(summary, "Extent:") {
		t.Errorf("ogrinfo -so events has no extent:\n%s", summary)
	}
}
