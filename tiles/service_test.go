package tiles

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tileAt is the zoom-z tile holding a point.
func tileAt(lon, lat float64, z uint32) TileID {
	x, y := tileXY(lon, lat, z)
	return TileID{z, uint32(x), uint32(y)}
}

func smallCity(t *testing.T) (*Service, *postgis.DB) {
	t.Helper()
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	return NewService(NewCatalogue(), db, 64<<20, quiet()), db
}

func raw(t *testing.T, s *Service, src string, id TileID) ([]byte, Tile) {
	t.Helper()
	source, _ := s.Catalogue().Source(src)
	tile, _, err := s.Get(context.Background(), source, id, Filter{})
	if err != nil {
		t.Fatalf("get %s %v: %v", src, id, err)
	}
	if tile.Empty {
		return nil, tile
	}
	b, err := Gunzip(tile.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	return b, tile
}

func TestOnemapTilesDecodeWithNode(t *testing.T) {
	s, _ := smallCity(t)
	// The fixture's centre, at zooms from the whole city to one block.
	want := map[uint32][]string{
		6:  {"districts"},
		8:  {"districts", "streets"},
		10: {"communities", "districts", "posts", "streets"},
		12: {"communities", "districts", "grids", "posts", "streets"},
		// Posts lie north of this tile, grid 2 east of it.
		14: {"buildings", "communities", "districts", "grids", "parcels", "streets"},
		15: {"buildings", "communities", "districts", "grids", "objects", "parcels", "streets"},
		16: {"buildings", "communities", "districts", "grids", "parcels", "streets"},
	}
	rawTiles := map[string][]byte{}
	for z := range want {
		b, tile := raw(t, s, "onemap", tileAt(106.5615, 29.5515, z))
		if tile.Empty {
			t.Fatalf("z%d tile is empty", z)
		}
		if len(b) > MaxTileBytes {
			t.Fatalf("z%d tile is %d bytes", z, len(b))
		}
		rawTiles[tileAt(106.5615, 29.5515, z).String()] = b
	}
	decoded := decodeWithNode(t, rawTiles)
	for z, layers := range want {
		got := decoded[tileAt(106.5615, 29.5515, z).String()]
		var names []string
		for n, l := range got {
			names = append(names, n)
			if l.Version != 2 || l.Extent != 4096 {
				t.Errorf("z%d %s: version %d extent %d, want 2 and 4096", z, n, l.Version, l.Extent)
			}
			for _, f := range l.Features {
				checkFeature(t, z, n, f)
			}
		}
		sort.Strings(names)
		if d := cmp.Diff(layers, names); d != "" {
			t.Errorf("z%d layers (-want +got):\n%s", z, d)
		}
	}
	z14 := decoded[tileAt(106.5615, 29.5515, 14).String()]
	grids := map[int64]map[string]any{}
	for _, f := range z14["grids"].Features {
		grids[f.ID] = f.Properties
	}
	wantGrids := map[int64]map[string]any{
		1: {"code": "500103001001001", "name": "第1网格", "version": float64(1), "households": float64(120), "residents": float64(310), "tagged": float64(12)},
	}
	if d := cmp.Diff(wantGrids, grids); d != "" {
		t.Errorf("z14 grid features (-want +got):\n%s", d)
	}
	var ids []int64
	for _, f := range z14["buildings"].Features {
		ids = append(ids, f.ID)
		for k := range f.Properties {
			if strings.Contains(k, "name") || strings.Contains(k, "phone") || strings.Contains(k, "id_number") {
				t.Errorf("building %d carries %q: no PII in tiles", f.ID, k)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if d := cmp.Diff([]int64{101, 102}, ids); d != "" {
		t.Errorf("z14 building ids (-want +got):\n%s", d)
	}

	// Below z15 the objects source counts components per cell: the two
	// fixture objects (in two z13 tiles) give counts that add up to 2.
	objects, _ := s.Catalogue().Source("objects")
	byTile := map[string][]byte{}
	for _, p := range [][2]float64{{106.5630, 29.5530}, {106.5715, 29.5515}} {
		t13 := tileAt(p[0], p[1], 13)
		byTile[fmt.Sprintf("objects-%d-%d", t13.X, t13.Y)], _ = raw(t, s, objects.Name, t13)
	}
	if len(byTile) != 2 {
		t.Fatalf("the fixture objects share a z13 tile: the check below counts one twice")
	}
	var cells []decodedFeature
	for _, layers := range decodeWithNode(t, byTile) {
		cells = append(cells, layers["objects"].Features...)
	}
	var sum float64
	for _, f := range cells {
		checkFeature(t, 13, "objects", f)
		n, _ := f.Properties["count"].(float64)
		sum += n
		if len(f.Properties) != 1 {
			t.Errorf("count cell %d carries %v, want only count", f.ID, f.Properties)
		}
	}
	if sum != 2 {
		t.Errorf("objects z13 cells %v: counts add up to %v, want 2", cells, sum)
	}
}

// checkFeature holds every feature to MVT 2.1: an integer id, geometry in
// the tile plus buffer, exterior rings clockwise on screen (positive area
// in y-down tile units).
func checkFeature(t *testing.T, z uint32, layer string, f decodedFeature) {
	t.Helper()
	if f.ID <= 0 {
		t.Errorf("z%d %s: feature without a positive integer id", z, layer)
	}
	for _, v := range f.BBox {
		if v < -64 || v > 4096+64 {
			t.Errorf("z%d %s %d: bbox %v outside the tile and its buffer", z, layer, f.ID, f.BBox)
		}
	}
	if f.Type == "Polygon" && (len(f.RingAreas) == 0 || f.RingAreas[0] <= 0) {
		t.Errorf("z%d %s %d: first ring area %v, want an exterior ring with positive area", z, layer, f.ID, f.RingAreas)
	}
}

func TestEmptyTileAndBands(t *testing.T) {
	s, _ := smallCity(t)
	if _, tile := raw(t, s, "onemap", tileAt(0, 0, 10)); !tile.Empty {
		t.Fatal("a tile in the Gulf of Guinea is not empty")
	}
	// Below its own minimum zoom a single-layer source has no layer.
	if _, tile := raw(t, s, "buildings", tileAt(106.5615, 29.5515, 11)); !tile.Empty {
		t.Fatal("buildings at z11 is not empty")
	}
	if _, tile := raw(t, s, "grids", tileAt(106.5615, 29.5515, 10)); tile.Empty {
		t.Fatal("the grids source at z10 is empty: it must carry the grids, generalised")
	}
	// Every single-layer source renders on its own (z13 holds the whole fixture).
	for _, name := range []string{"districts", "streets", "communities", "grids", "parcels", "buildings", "objects", "posts"} {
		if _, tile := raw(t, s, name, tileAt(106.5650, 29.5550, 13)); tile.Empty {
			t.Errorf("source %s at z13 is empty", name)
		}
	}
}

// An edit evicts exactly the tiles its box covers, at every zoom and on
// every replica: the writer calls tile_changed() in its transaction, each
// following service hears it on commit. The next fetch shows the edit
// under a new ETag, while unrelated tiles keep theirs.
func TestEditReachesEveryReplica(t *testing.T) {
	a, db := smallCity(t)
	b := NewService(NewCatalogue(), db, 64<<20, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range []*Service{a, b} {
		ready := make(chan struct{})
		go s.Follow(ctx, db, ready)
		<-ready
	}
	edited := tileAt(106.5615, 29.5515, 16)    // building 101
	unrelated := tileAt(106.5715, 29.5515, 16) // building 201, 1 km away
	src, _ := a.Catalogue().Source("onemap")
	v0 := a.Version(src)
	_, beforeA := raw(t, a, "onemap", edited)
	_, beforeB := raw(t, b, "onemap", edited)
	_, other := raw(t, a, "buildings", unrelated)

	// A rolled-back edit announces nothing.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.TileChanged(ctx, tx, "buildings", 106.5610, 29.5510, 106.5620, 29.5520); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)

	tx, err = db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE buildings SET floors = 19, households = 121 WHERE id = 101`); err != nil {
		t.Fatal(err)
	}
	if err := db.TileChanged(ctx, tx, "buildings", 106.5610, 29.5510, 106.5620, 29.5520); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for a.Version(src) == v0 || b.Version(src) == v0 {
		if time.Now().After(deadline) {
			t.Fatal("a replica did not hear the edit within 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.Version(src) != v0+1 || b.Version(src) != v0+1 {
		t.Fatalf("versions %d and %d, want %d: the rolled-back edit must not count", a.Version(src), b.Version(src), v0+1)
	}
	for name, s := range map[string]*Service{"a": a, "b": b} {
		body, after := raw(t, s, "onemap", edited)
		if after.ETag == beforeA.ETag || after.ETag == beforeB.ETag {
			t.Fatalf("replica %s: the edited tile kept its ETag", name)
		}
		d := decodeWithNode(t, map[string][]byte{"edited": body})
		found := false
		for _, f := range d["edited"]["buildings"].Features {
			if f.ID == 101 {
				found = f.Properties["floors"] == float64(19)
			}
		}
		if !found {
			t.Fatalf("replica %s: the next fetch does not show floors = 19 for building 101", name)
		}
	}
	_, again := raw(t, a, "buildings", unrelated)
	if again.ETag != other.ETag {
		t.Fatal("an unrelated tile changed its ETag")
	}
	if st := a.CacheStats(); st.Hits == 0 {
		t.Fatalf("the unrelated tile was not served from cache: %+v", st)
	}
}

func TestEventsSourceFilters(t *testing.T) {
	s, db := smallCity(t)
	_, err := db.Pool.Exec(context.Background(), `
	INSERT INTO events (id, category_code, status, tier, source, priority, grid_code, description, reported_at, deadline_at, closed_at, geom) VALUES
	 (1, 'noise', 'accepted', 'grid', 'patrol', 4, '500103001001001', 'open, overdue', '2026-11-01T10:00:00+08', '2026-11-02T10:00:00+08', NULL, ST_SetSRID(ST_MakePoint(106.5612, 29.5512), 4326)),
	 (2, 'sanitation', 'closed', 'grid', 'patrol', 3, '500103001001001', 'closed', '2026-10-01T10:00:00+08', '2026-10-02T10:00:00+08', '2026-10-01T12:00:00+08', ST_SetSRID(ST_MakePoint(106.5613, 29.5513), 4326)),
	 (3, 'noise', 'reported', 'grid', 'citizen_app', 4, '500103001001001', 'open', '2026-11-20T10:00:00+08', '2099-11-21T10:00:00+08', NULL, ST_SetSRID(ST_MakePoint(106.5614, 29.5514), 4326))`)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := s.Catalogue().Source("events")
	// Another street's events tile of the same place holds nothing, nor
	// does a tile asked for without a scope.
	for _, sc := range []wangge.Scope{wangge.ScopeOf("500103002"), {}} {
		if tile, _, err := s.Get(context.Background(), src, tileAt(106.5613, 29.5513, 16), Filter{Scope: sc}); err != nil || !tile.Empty {
			t.Errorf("scope %s: %v empty=%v", sc, err, tile.Empty)
		}
	}
	get := func(z uint32, q string) map[string]decodedLayer {
		f, err := ParseFilter(q, true)
		if err != nil {
			t.Fatal(err)
		}
		f.Scope = wangge.CityScope() // the api sets the caller's
		tile, _, err := s.Get(context.Background(), src, tileAt(106.5613, 29.5513, z), f)
		if err != nil || tile.Empty {
			t.Fatalf("z%d %q: %v empty=%v", z, q, err, tile.Empty)
		}
		b, _ := Gunzip(tile.Gzip)
		return decodeWithNode(t, map[string][]byte{"t": b})["t"]
	}
	ids := func(l decodedLayer) (out []int64) {
		for _, f := range l.Features {
			out = append(out, f.ID)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	for _, tt := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{1, 2, 3}},
		{"status=open", []int64{1, 3}},
		{"status=closed&category=sanitation", []int64{2}},
		{"since=2026-11-10", []int64{3}},
		{"category=noise&until=2026-11-10", []int64{1}},
	} {
		if d := cmp.Diff(tt.want, ids(get(16, tt.query)["events"])); d != "" {
			t.Errorf("z16 %q ids (-want +got):\n%s", tt.query, d)
		}
	}
	for _, f := range get(16, "status=open")["events"].Features {
		if want := f.ID == 1; f.Properties["overdue"] != want {
			t.Errorf("event %d overdue = %v, want %v", f.ID, f.Properties["overdue"], want)
		}
	}
	// City zoom: counts per cell that add up to the matching events.
	total := 0.0
	for _, f := range get(10, "status=open")["events"].Features {
		total += f.Properties["count"].(float64)
	}
	if total != 2 {
		t.Errorf("z10 open counts add up to %v, want 2", total)
	}
}

func TestWarmRendersTheCityOnce(t *testing.T) {
	s, _ := smallCity(t)
	s.SetBounds(Bound{106.50, 29.50, 106.60, 29.60})
	n := s.Warm(context.Background(), []string{"onemap"}, 12)
	if n < 13 { // at least one tile per zoom
		t.Fatalf("warmed %d tiles", n)
	}
	if again := s.Warm(context.Background(), []string{"onemap"}, 12); again != 0 {
		t.Fatalf("second warm rendered %d tiles, want all from cache", again)
	}
	src, _ := s.Catalogue().Source("onemap")
	if _, hit, err := s.Get(context.Background(), src, tileAt(106.55, 29.55, 12), Filter{}); err != nil || !hit {
		t.Fatalf("z12 tile of the city not cached after warming: hit=%v err=%v", hit, err)
	}
}
