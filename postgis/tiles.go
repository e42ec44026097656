package postgis

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Tile SQL, pg_tileserv's shape made faster: the query box is the tile
// envelope (plus the 64-unit buffer) taken back to 4326 so the GiST index
// on the stored geometry is used; polygons are simplified to a pixel of
// the tile's zoom before ST_AsMVTGeom so low-zoom tiles stay small; every
// layer of a composite tile comes from one statement. $1..$3 are z, x, y
// and $4 the pixel size in metres. No text of a request ever enters it.
const (
	tileEnv  = `ST_TileEnvelope($1, $2, $3)`
	tileBox  = `ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0/4096), 4326)`
	mvtGeom  = `ST_AsMVTGeom(ST_Simplify(ST_Transform(%s, 3857), $4), ` + tileEnv + `, 4096, 64, true)`
	mvtPoint = `ST_AsMVTGeom(ST_Transform(%s, 3857), ` + tileEnv + `, 4096, 64, true)`
)

var tileLayerSQL = map[string]string{
	"districts": `SELECT code::bigint AS id, code, name, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM regions WHERE level = 'district' AND geom && ` + tileBox,
	"streets": `SELECT code::bigint AS id, code, name, kind, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM regions WHERE level = 'street' AND geom && ` + tileBox,
	"communities": `SELECT code::bigint AS id, code, name, kind, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM regions WHERE level = 'community' AND geom && ` + tileBox,
	"grids": `SELECT g.id, g.code, g.name, g.version, c.households, c.residents, c.tagged, ` + fmt.Sprintf(mvtGeom, "g.geom") + ` AS geom
		FROM grids g
		CROSS JOIN LATERAL (SELECT coalesce(sum(b.households), 0)::int AS households, coalesce(sum(b.residents), 0)::int AS residents,
			coalesce(sum(b.tagged), 0)::int AS tagged FROM buildings b WHERE b.grid_code = g.code) c
		WHERE g.status = 'active' AND g.geom && ` + tileBox,
	"parcels": `SELECT id, grid_code, land_use, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM parcels WHERE geom && ` + tileBox,
	"buildings": `SELECT id, grid_code, use, floors, households, residents, tagged, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM buildings WHERE geom && ` + tileBox,
	"objects": `SELECT id, category, category_code, status, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM objects WHERE geom && ` + tileBox,
	"posts": `SELECT id, kind, name, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM posts WHERE geom && ` + tileBox,
}

// tileSQL joins the layers' MVTs (concatenated layers form a valid tile).
func tileSQL(layers []string) (string, error) {
	parts := make([]string, 0, len(layers))
	for _, l := range layers {
		q, ok := tileLayerSQL[l]
		if !ok {
			return "", fmt.Errorf("postgis: no tile layer %q", l)
		}
		parts = append(parts, fmt.Sprintf(
			`coalesce((SELECT ST_AsMVT(t, '%s', 4096, 'geom', 'id') FROM (%s) t WHERE t.geom IS NOT NULL), ''::bytea)`, l, q))
	}
	return "SELECT " + strings.Join(parts, " || "), nil
}

// RenderTile draws the named layers of tile z/x/y as one MVT (empty when
// no feature falls in it).
func (db *DB) RenderTile(ctx context.Context, layers []string, z, x, y uint32) ([]byte, error) {
	q, err := tileSQL(layers)
	if err != nil {
		return nil, err
	}
	// One tile pixel in Web Mercator metres: what simplification may drop.
	pixel := 2 * math.Pi * 6378137 / math.Exp2(float64(z)) / 4096
	var b []byte
	if err := db.Pool.QueryRow(ctx, q, int32(z), int32(x), int32(y), pixel).Scan(&b); err != nil {
		return nil, fmt.Errorf("postgis: tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}

// Extent is the lon/lat box of every district (ok false when none is loaded).
func (db *DB) Extent(ctx context.Context) (minLon, minLat, maxLon, maxLat float64, ok bool, err error) {
	var n int
	err = db.Pool.QueryRow(ctx, `SELECT count(*), coalesce(ST_XMin(e), 0), coalesce(ST_YMin(e), 0), coalesce(ST_XMax(e), 0), coalesce(ST_YMax(e), 0)
		FROM (SELECT ST_Extent(geom) AS e, count(*) FROM regions WHERE level = 'district') r GROUP BY e`).Scan(&n, &minLon, &minLat, &maxLon, &maxLat)
	if err != nil {
		return 0, 0, 0, 0, false, fmt.Errorf("postgis: extent: %w", err)
	}
	return minLon, minLat, maxLon, maxLat, n > 0 && maxLon > minLon, nil
}
