package postgis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// EventFilter narrows the events tile layer; zero fields filter nothing,
// except Scope: the events layer holds only the events inside it (the zero
// Scope, none). The other layers are the public base map and ignore it.
type EventFilter struct {
	Statuses   []string
	Categories []string
	Since      time.Time
	Until      time.Time
	Scope      wangge.Scope // the caller's jurisdiction
}

// eventWhere applies EventFilter through parameters $4..$8 only.
const eventWhere = ` AND ($4::text[] IS NULL OR status = ANY($4)) AND ($5::text[] IS NULL OR category_code = ANY($5))
	AND ($6::timestamptz IS NULL OR reported_at >= $6) AND ($7::timestamptz IS NULL OR reported_at < $7)
	AND grid_code LIKE $8`

// Tile SQL: the query box is the tile envelope (plus the 64-unit buffer)
// taken back to 4326 so the GiST index on the stored geometry is used.
// Every layer returns its rows with the geometry as WKB, drawn into MVT in
// Go (geo.MVTLayer: projected, clipped, simplified to a pixel, or counted
// per cell); all layers of a composite tile go in one batch. $1..$3 are
// z, x, y and $4..$7 the event filter. No text of a request ever enters
// it.
var tileBox = fmt.Sprintf(`ST_Transform(ST_TileEnvelope($1, $2, $3, margin => %d.0/%d), 4326)`, geo.MVTBuffer, geo.MVTExtent)

// Rows in a fixed order make the same data give the same bytes (and ETag)
// on every replica, whatever plan or synchronized scan ran.
const byID = ` ORDER BY id`

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
	"objects": `SELECT id, category, category_code, status, ST_AsBinary(geom) AS geom
		FROM objects WHERE geom && ` + tileBox + byID,
	"posts": `SELECT id, kind, name, ST_AsBinary(geom) AS geom
		FROM posts WHERE geom && ` + tileBox + byID,
	"events": `SELECT id, category_code AS category, status, tier, priority, extract(epoch FROM reported_at)::bigint AS reported_at,
			(status IN ('reported', 'accepted', 'dispatched', 'on_site') AND deadline_at < now()) AS overdue, ST_AsBinary(geom) AS geom
		FROM events WHERE geom && ` + tileBox + eventWhere + byID,
}

// Below its detail zoom a point layer is drawn as counts per cell
// (geo.NewMVTCountLayer): the core holds tens of thousands of components
// and a year of events, which as single points would exceed the tile
// budget and say less than a density.
var detailZoom = map[string]uint32{"events": 14, "objects": 15}

// countCellPx is the counting cell, in tile units (64 of 4096: 4 screen
// pixels of a 256-pixel tile).
const countCellPx = 64

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

// tileSQLByCol holds each layer's statement per outline column, built once
// rather than on every render.
var tileSQLByCol = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, col := range []string{"geom_lo", "geom_mid", "geom"} {
		out[col] = map[string]string{}
		for l, q := range tileLayerSQL {
			out[col][l] = strings.ReplaceAll(q, "{geom}", col)
		}
	}
	return out
}()

// RenderTile draws the named layers of tile z/x/y as one MVT (empty when
// no feature falls in it): one statement per layer, sent in one batch.
// The filter applies to the events layer only.
func (db *DB) RenderTile(ctx context.Context, layers []string, z, x, y uint32, f EventFilter) ([]byte, error) {
	args := []any{int32(z), int32(x), int32(y)}
	eventArgs := append(args[:3:3], nullIfEmpty(f.Statuses), nullIfEmpty(f.Categories), nullIfZero(f.Since), nullIfZero(f.Until), f.Scope.Like())
	b := &pgx.Batch{}
	for _, l := range layers {
		q, ok := tileSQLByCol[geomCol(z)][l]
		if !ok {
			return nil, fmt.Errorf("postgis: no tile layer %q", l)
		}
		if l == "events" {
			b.Queue(q, eventArgs...)
		} else {
			b.Queue(q, args...)
		}
	}
	br := db.Pool.SendBatch(ctx, b)
	defer br.Close()
	var tile []byte
	for _, l := range layers {
		layer := geo.NewMVTLayer(l, z, x, y, 1)
		if dz, ok := detailZoom[l]; ok && z < dz {
			layer = geo.NewMVTCountLayer(l, z, x, y, countCellPx)
		}
		err := drawLayer(br, layer)
		tile = layer.AppendTo(tile)
		if err != nil {
			return nil, fmt.Errorf("postgis: tile %d/%d/%d layer %s: %w", z, x, y, l, err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("postgis: tile %d/%d/%d: %w", z, x, y, err)
	}
	return tile, nil
}

// drawLayer reads (id, properties…, WKB) rows into layer.
func drawLayer(br pgx.BatchResults, layer *geo.MVTLayer) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	keys := make([]string, len(fields))
	for i, fd := range fields {
		keys[i] = fd.Name
	}
	props := make([]geo.Prop, 0, len(fields))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		id, ok := vals[0].(int64)
		if !ok {
			return fmt.Errorf("id column is %T, want int64", vals[0])
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
			return err
		}
	}
	return rows.Err()
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
