package postgis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// EventFilter narrows the events tile layer; zero fields filter nothing.
type EventFilter struct {
	Statuses   []string
	Categories []string
	Since      time.Time
	Until      time.Time
}

// eventWhere applies EventFilter through parameters $5..$8 only.
const eventWhere = ` AND ($5::text[] IS NULL OR status = ANY($5)) AND ($6::text[] IS NULL OR category_code = ANY($6))
	AND ($7::timestamptz IS NULL OR reported_at >= $7) AND ($8::timestamptz IS NULL OR reported_at < $8)`

// eventsDetailZoom is where single events replace per-cell counts.
const eventsDetailZoom = 14

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
	// Outlines: geomCol picks the generalised copy for the zoom (migration
	// 0008); the index filter stays on the full geometry.
	"districts": `SELECT code::bigint AS id, code, name, ` + fmt.Sprintf(mvtGeom, "{geom}") + ` AS geom
		FROM regions WHERE level = 'district' AND geom && ` + tileBox,
	"streets": `SELECT code::bigint AS id, code, name, kind, ` + fmt.Sprintf(mvtGeom, "{geom}") + ` AS geom
		FROM regions WHERE level = 'street' AND geom && ` + tileBox,
	"communities": `SELECT code::bigint AS id, code, name, kind, ` + fmt.Sprintf(mvtGeom, "{geom}") + ` AS geom
		FROM regions WHERE level = 'community' AND geom && ` + tileBox,
	"grids": `SELECT id, code, name, version, households, residents, tagged, ` + fmt.Sprintf(mvtGeom, "{geom}") + ` AS geom
		FROM grids WHERE status = 'active' AND geom && ` + tileBox,
	"parcels": `SELECT id, grid_code, land_use, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM parcels WHERE geom && ` + tileBox,
	"buildings": `SELECT id, grid_code, use, floors, households, residents, tagged, ` + fmt.Sprintf(mvtGeom, "geom") + ` AS geom
		FROM buildings WHERE geom && ` + tileBox,
	"objects": `SELECT id, category, category_code, status, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM objects WHERE $4::float8 > 0 AND geom && ` + tileBox,
	"posts": `SELECT id, kind, name, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM posts WHERE $4::float8 > 0 AND geom && ` + tileBox,
	"events": `SELECT id, category_code AS category, status, tier, priority, extract(epoch FROM reported_at)::bigint AS reported_at,
			(status IN ('reported', 'accepted', 'dispatched', 'on_site') AND deadline_at < now()) AS overdue, ` +
		fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM events WHERE $4::float8 > 0 AND geom && ` + tileBox + eventWhere,
	// Below eventsDetailZoom: one point per 64×64 cell of the tile with the
	// number of events in it, so a city-wide heat map stays a small tile.
	"events_cells": `SELECT (row_number() OVER ())::bigint AS id, n AS count, geom FROM (
			SELECT count(*)::int AS n, ST_AsMVTGeom(ST_Centroid(ST_Collect(ST_Transform(geom, 3857))), ` + tileEnv + `, 4096, 0, true) AS geom
			FROM events WHERE geom && ` + tileBox + eventWhere + `
			GROUP BY ST_SnapToGrid(ST_Transform(geom, 3857), $4 * 64)) c`,
}

// geomCol is the outline column drawn at zoom z.
func geomCol(z uint32) string {
	switch {
	case z <= 9:
		return "geom_lo"
	case z <= 11:
		return "geom_mid"
	}
	return "geom"
}

// Point layers never simplify, yet every statement takes the same four
// parameters: "$4::float8 > 0" states $4's type when such a layer is alone.

// tileSQL joins the layers' MVTs (concatenated layers form a valid tile).
func tileSQL(layers []string, z uint32) (string, error) {
	parts := make([]string, 0, len(layers))
	for _, l := range layers {
		q, ok := tileLayerSQL[l]
		if !ok {
			return "", fmt.Errorf("postgis: no tile layer %q", l)
		}
		name := strings.TrimSuffix(l, "_cells")
		q = strings.ReplaceAll(q, "{geom}", geomCol(z))
		parts = append(parts, fmt.Sprintf(
			`coalesce((SELECT ST_AsMVT(t, '%s', 4096, 'geom', 'id') FROM (%s) t WHERE t.geom IS NOT NULL), ''::bytea)`, name, q))
	}
	return "SELECT " + strings.Join(parts, " || "), nil
}

// RenderTile draws the named layers of tile z/x/y as one MVT (empty when
// no feature falls in it).
// The filter applies to the events layer only.
func (db *DB) RenderTile(ctx context.Context, layers []string, z, x, y uint32, f EventFilter) ([]byte, error) {
	withEvents := false
	for i, l := range layers {
		if l == "events" {
			withEvents = true
			if z < eventsDetailZoom {
				layers = append(append([]string{}, layers[:i]...), append([]string{"events_cells"}, layers[i+1:]...)...)
			}
		}
	}
	q, err := tileSQL(layers, z)
	if err != nil {
		return nil, err
	}
	// One tile pixel in Web Mercator metres: what simplification may drop.
	pixel := 2 * math.Pi * 6378137 / math.Exp2(float64(z)) / 4096
	args := []any{int32(z), int32(x), int32(y), pixel}
	if withEvents {
		args = append(args, nullIfEmpty(f.Statuses), nullIfEmpty(f.Categories), nullIfZero(f.Since), nullIfZero(f.Until))
	}
	var b []byte
	if err := db.Pool.QueryRow(ctx, q, args...).Scan(&b); err != nil {
		return nil, fmt.Errorf("postgis: tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}

// Extent is the lon/lat box of every district (ok false when none is loaded).
func (db *DB) Extent(ctx context.Context) (minLon, minLat, maxLon, maxLat float64, ok bool, err error) {
	var x0, y0, x1, y1 *float64
	err = db.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(geom) AS e FROM regions WHERE level = 'district') r`).Scan(&x0, &y0, &x1, &y1)
	if err != nil {
		return 0, 0, 0, 0, false, fmt.Errorf("postgis: extent: %w", err)
	}
	if x0 == nil {
		return 0, 0, 0, 0, false, nil
	}
	return *x0, *y0, *x1, *y1, true, nil
}

func nullIfEmpty(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
