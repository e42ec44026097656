package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CopyRows streams rows into table with COPY. Geometry values are EWKB
// byte slices carrying SRID 4326.
func (db *DB) CopyRows(ctx context.Context, table string, cols []string, src pgx.CopyFromSource) (int64, error) {
	n, err := db.Pool.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return n, fmt.Errorf("postgis: copy %s: %w", table, err)
	}
	return n, nil
}
