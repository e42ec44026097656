package postgis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/geo"
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

// Tile SQL: the query box is the tile envelope (plus the 64-unit buffer)
// taken back to 4326 so the GiST index on the stored geometry is used.
// Outline layers return their rows with the geometry as WKB, drawn into
// MVT in Go (geo.MVTLayer: projected, clipped, simplified to a pixel);
// point layers are drawn by ST_AsMVT. Every layer of a composite tile goes
// in one batch. $1..$3 are z, x, y and $4 the pixel size in metres. No
// text of a request ever enters it.
const (
	tileEnv  = `ST_TileEnvelope($1, $2, $3)`
	tileBox  = `ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0/4096), 4326)`
	mvtPoint = `ST_AsMVTGeom(ST_Transform(%s, 3857), ` + tileEnv + `, 4096, 64, true)`
	// Rows in a fixed order make the same data give the same bytes (and
	// ETag) on every replica, whatever plan or synchronized scan ran.
	byID = ` ORDER BY id`
)

var tileLayerSQL = map[string]string{
	// Outlines: geomCol picks the generalised copy for the zoom (migration
	// 0008); the index filter stays on the full geometry.
	"districts": `SELECT code::bigint AS id, code, name, ST_AsBinary({geom}) AS geom
		FROM regions WHERE level = 'district' AND geom && ` + tileBox + byID,
	"streets": `SELECT code::bigint AS id, code, name, kind, ST_AsBinary({geom}) AS geom
		FROM regions WHERE level = 'street' AND geom && ` + tileBox + byID,
	"communities": `SELECT code::bigint AS id, code, name, kind, ST_AsBinary({geom}) AS geom
		FROM regions WHERE level = 'community' AND geom && ` + tileBox + byID,
	"grids": `SELECT id, code, name, version, households, residents, tagged, ST_AsBinary({geom}) AS geom
		FROM grids WHERE status = 'active' AND geom && ` + tileBox + byID,
	"parcels": `SELECT id, grid_code, land_use, ST_AsBinary(geom) AS geom
		FROM parcels WHERE geom && ` + tileBox + byID,
	"buildings": `SELECT id, grid_code, use, floors, households, residents, tagged, ST_AsBinary(geom) AS geom
		FROM buildings WHERE geom && ` + tileBox + byID,
	"objects": `SELECT id, category, category_code, status, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM objects WHERE $4::float8 > 0 AND geom && ` + tileBox + byID,
	"posts": `SELECT id, kind, name, ` + fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM posts WHERE $4::float8 > 0 AND geom && ` + tileBox + byID,
	"events": `SELECT id, category_code AS category, status, tier, priority, extract(epoch FROM reported_at)::bigint AS reported_at,
			(status IN ('reported', 'accepted', 'dispatched', 'on_site') AND deadline_at < now()) AS overdue, ` +
		fmt.Sprintf(mvtPoint, "geom") + ` AS geom
		FROM events WHERE $4::float8 > 0 AND geom && ` + tileBox + eventWhere + byID,
	// Below eventsDetailZoom: one point per 64×64 cell of the tile with the
	// number of events in it, so a city-wide heat map stays a small tile.
	"events_cells": `SELECT (row_number() OVER (ORDER BY first))::bigint AS id, n AS count, geom FROM (
			SELECT count(*)::int AS n, min(id) AS first, ST_AsMVTGeom(ST_Centroid(ST_Collect(ST_Transform(geom, 3857))), ` + tileEnv + `, 4096, 0, true) AS geom
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

// goLayers are drawn in Go from WKB (geo.MVTLayer): outlines, where the
// per-row ST_Transform/ST_AsMVTGeom/ST_AsMVT cost dominates. Point layers
// and the aggregated event cells stay in SQL, which is cheap for them.
var goLayers = map[string]bool{"districts": true, "streets": true, "communities": true, "grids": true,
	"parcels": true, "buildings": true}

// layerSQL is one layer's statement at zoom z: rows of (id, properties…,
// WKB) for a Go-drawn layer, or one MVT layer's bytes.
func layerSQL(l string, z uint32) (string, error) {
	q, ok := tileLayerSQL[l]
	if !ok {
		return "", fmt.Errorf("postgis: no tile layer %q", l)
	}
	if goLayers[l] {
		return strings.ReplaceAll(q, "{geom}", geomCol(z)), nil
	}
	name := strings.TrimSuffix(l, "_cells")
	q = strings.ReplaceAll(q, "{geom}", geomCol(z))
	return fmt.Sprintf(`SELECT coalesce((SELECT ST_AsMVT(t, '%s', 4096, 'geom', 'id') FROM (%s) t WHERE t.geom IS NOT NULL), ''::bytea)`, name, q), nil
}

// RenderTile draws the named layers of tile z/x/y as one MVT (empty when
// no feature falls in it): one statement per layer, sent in one batch.
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
	// One tile pixel in Web Mercator metres: what simplification may drop.
	pixel := 2 * math.Pi * 6378137 / math.Exp2(float64(z)) / 4096
	args := []any{int32(z), int32(x), int32(y), pixel}
	if withEvents {
		args = append(args, nullIfEmpty(f.Statuses), nullIfEmpty(f.Categories), nullIfZero(f.Since), nullIfZero(f.Until))
	}
	b := &pgx.Batch{}
	for _, l := range layers {
		q, err := layerSQL(l, z)
		if err != nil {
			return nil, err
		}
		b.Queue(q, args[:paramCount(q, len(args))]...)
	}
	br := db.Pool.SendBatch(ctx, b)
	defer br.Close()
	var tile []byte
	for _, l := range layers {
		var err error
		if goLayers[l] {
			tile, err = drawLayer(br, l, z, x, y, tile)
		} else {
			var part []byte
			err = br.QueryRow().Scan(&part)
			tile = append(tile, part...)
		}
		if err != nil {
			return nil, fmt.Errorf("postgis: tile %d/%d/%d layer %s: %w", z, x, y, l, err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("postgis: tile %d/%d/%d: %w", z, x, y, err)
	}
	return tile, nil
}

// paramCount is the highest $n a statement uses (at most max): Go-drawn
// layers take no pixel size, only event layers take the filter.
func paramCount(q string, max int) int {
	for n := max; n > 0; n-- {
		if strings.Contains(q, fmt.Sprintf("$%d", n)) {
			return n
		}
	}
	return 0
}

// drawLayer reads (id, properties…, WKB) rows and appends their MVT layer.
func drawLayer(br pgx.BatchResults, name string, z, x, y uint32, tile []byte) ([]byte, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	keys := make([]string, len(fields))
	for i, fd := range fields {
		keys[i] = fd.Name
	}
	layer := geo.NewMVTLayer(name, z, x, y, 1)
	props := make([]geo.Prop, 0, len(fields))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		id, ok := vals[0].(int64)
		if !ok {
			return nil, fmt.Errorf("id column is %T, want int64", vals[0])
		}
		wkb, _ := vals[len(vals)-1].([]byte)
		if wkb == nil {
			continue
		}
		props = props[:0]
		for i := 1; i < len(vals)-1; i++ {
			props = append(props, geo.Prop{Key: keys[i], Value: vals[i]})
		}
		if _, err := layer.AddWKB(uint64(id), wkb, props); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return layer.AppendTo(tile), nil
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
