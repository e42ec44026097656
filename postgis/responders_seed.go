package postgis

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/geo"
)

// SeedSyntheticResponders inserts posts and units for tests and
// benchmarks (geo.SyntheticResponders), with COPY. Each home street code
// gets a placeholder district, street, community ("001") and grid
// ("001001") when missing, drawn as a tiny square at the first responder
// of that street: enough for the foreign keys, not a real boundary. Units
// get their home grid as grid_code, so their home survives a reload.
func (db *DB) SeedSyntheticResponders(ctx context.Context, rs []geo.Responder) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: seed responders: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if err := seedHomes(ctx, tx, rs); err != nil {
		return err
	}
	var posts, units [][]any
	for _, r := range rs {
		grid := any(nil)
		if r.Street != "" {
			grid = r.Street + "001001"
		}
		pt := ewkbPoint(r.Lon, r.Lat)
		if r.Key.Class == geo.ClassPost {
			posts = append(posts, []any{r.Key.ID, string(r.Kind), r.Key.String(), grid, pt})
			continue
		}
		var stAt any
		if !r.StatusAt.IsZero() {
			stAt = r.StatusAt
		}
		units = append(units, []any{r.Key.ID, string(r.Kind), r.Key.String(), grid, string(r.Status), r.PositionAt, stAt, pt})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"posts"}, []string{"id", "kind", "name", "grid_code", "geom"},
		pgx.CopyFromRows(posts)); err != nil {
		return fmt.Errorf("postgis: seed posts: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"units"},
		[]string{"id", "kind", "name", "grid_code", "status", "position_at", "status_at", "geom"},
		pgx.CopyFromRows(units)); err != nil {
		return fmt.Errorf("postgis: seed units: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE posts, units`); err != nil {
		return fmt.Errorf("postgis: seed responders: analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgis: seed responders: %w", err)
	}
	return nil
}

// seedHomes creates the placeholder regions and grids of every home.
func seedHomes(ctx context.Context, tx pgx.Tx, rs []geo.Responder) error {
	var streets []string
	var lons, lats []float64
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Street != "" && !seen[r.Street] {
			seen[r.Street] = true
			streets, lons, lats = append(streets, r.Street), append(lons, r.Lon), append(lats, r.Lat)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_homes ON COMMIT DROP AS
	SELECT s AS street, ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(x, y), 4326), 0.001)) AS geom
	FROM unnest($1::text[], $2::float8[], $3::float8[]) AS t(s, x, y)`, streets, lons, lats); err != nil {
		return fmt.Errorf("postgis: seed responder homes: %w", err)
	}
	for _, q := range []string{
		`INSERT INTO regions (code, level, name, geom)
		SELECT DISTINCT ON (left(street, 6)) left(street, 6), 'district', 'district ' || left(street, 6), geom
		FROM seed_homes ORDER BY left(street, 6) ON CONFLICT DO NOTHING`,
		`INSERT INTO regions (code, level, name, parent_code, geom)
		SELECT street, 'street', 'street ' || street, left(street, 6), geom FROM seed_homes ON CONFLICT DO NOTHING`,
		`INSERT INTO regions (code, level, name, parent_code, geom)
		SELECT street || '001', 'community', 'community ' || street, street, geom FROM seed_homes ON CONFLICT DO NOTHING`,
		`INSERT INTO grids (id, code, community_code, name, geom)
		SELECT (street || '001001')::bigint, street || '001001', street || '001', 'grid ' || street, geom
		FROM seed_homes ON CONFLICT DO NOTHING`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: seed responder homes: %w", err)
		}
	}
	return nil
}

// ewkbPoint is a little-endian EWKB point with SRID 4326: COPY's binary
// format hands geometry columns WKB, not text.
func ewkbPoint(lon, lat float64) []byte {
	b := make([]byte, 25)
	b[0] = 1
	binary.LittleEndian.PutUint32(b[1:], 0x20000001)
	binary.LittleEndian.PutUint32(b[5:], 4326)
	binary.LittleEndian.PutUint64(b[9:], math.Float64bits(lon))
	binary.LittleEndian.PutUint64(b[17:], math.Float64bits(lat))
	return b
}
