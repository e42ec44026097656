package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GridPoint is a point inside an active grid.
type GridPoint struct {
	GridCode string
	Lon, Lat float64
}

// SampleGridPoints draws n random points, each inside a random active grid
// (ST_GeneratePoints), for the demo feed.
func (db *DB) SampleGridPoints(ctx context.Context, n int) ([]GridPoint, error) {
	rows, err := db.Pool.Query(ctx, `SELECT g.code, ST_X(p.geom), ST_Y(p.geom)
		FROM (SELECT code, geom FROM grids WHERE status = 'active' ORDER BY random() LIMIT $1) g,
		LATERAL ST_Dump(ST_GeneratePoints(g.geom, 1)) p`, n)
	if err != nil {
		return nil, fmt.Errorf("postgis: sample grid points: %w", err)
	}
	pts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (GridPoint, error) {
		var p GridPoint
		return p, r.Scan(&p.GridCode, &p.Lon, &p.Lat)
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: sample grid points: %w", err)
	}
	return pts, nil
}
