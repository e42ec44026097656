package postgis

import (
	"context"
	"fmt"
)

// Staging tables of a seed: unlogged, shared by the pool's connections,
// dropped by SeedDropStage.
var stageDDL = []string{
	`CREATE UNLOGGED TABLE seed_cells (id bigint, district text, grid_code text, community_code text,
		land_use text, flags smallint, geom geometry(Polygon, 4326))`,
	`CREATE UNLOGGED TABLE seed_rivers (geom geometry(LineString, 4326), half_width float8)`,
	`CREATE UNLOGGED TABLE seed_land (district text, water bool, geom geometry)`,
	`CREATE UNLOGGED TABLE seed_names (code text, level text, name text, kind text, parent text)`,
	`CREATE UNLOGGED TABLE seed_grids (id bigint, code text, community_code text, name text, geom geometry)`,
	`CREATE UNLOGGED TABLE seed_grid_geoms (code text, geom geometry)`,
	`CREATE UNLOGGED TABLE seed_comm_geoms (code text, geom geometry)`,
}

// Cell flags, as set by the generator.
const (
	CellBorder = 1 // crosses the district boundary: clip to it
	CellRiver  = 2 // near a river: split into land and water
)

// SeedStage creates the staging tables.
func (db *DB) SeedStage(ctx context.Context) error {
	if err := db.SeedDropStage(ctx); err != nil {
		return err
	}
	for _, q := range stageDDL {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: seed stage: %w", err)
		}
	}
	return nil
}

// SeedDropStage drops the staging tables.
func (db *DB) SeedDropStage(ctx context.Context) error {
	_, err := db.Pool.Exec(ctx, `DROP TABLE IF EXISTS seed_cells, seed_rivers, seed_land, seed_names, seed_grids, seed_grid_geoms, seed_comm_geoms`)
	if err != nil {
		return fmt.Errorf("postgis: drop seed stage: %w", err)
	}
	return nil
}

// SeedDistrict inserts a district with its given boundary (made valid)
// and cuts it into land and water pieces along the staged rivers.
// ST_Subdivide keeps the pieces small, so clipping a cell later touches
// a few dozen vertices, not the whole district.
func (db *DB) SeedDistrict(ctx context.Context, code, name, kind string, ewkb []byte) error {
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO regions (code, level, name, kind, geom)
		VALUES ($1, 'district', $2, $3, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB($4)), 3)))`,
		code, name, kind, ewkb)
	if err != nil {
		return fmt.Errorf("postgis: district %s: %w", code, err)
	}
	_, err = db.Pool.Exec(ctx, `
		WITH d AS (SELECT geom FROM regions WHERE code = $1),
		w AS (
			SELECT ST_CollectionExtract(ST_Intersection(d.geom, coalesce(ST_Union(ST_Buffer(r.geom::geography, r.half_width, 'quad_segs=4')::geometry),
			       'SRID=4326;POLYGON EMPTY'::geometry)), 3) AS geom
			FROM d LEFT JOIN seed_rivers r ON ST_DWithin(r.geom, d.geom, 0.01)
			GROUP BY d.geom),
		parts AS (
			SELECT false AS water, ST_CollectionExtract(ST_Difference(d.geom, w.geom), 3) AS geom FROM d, w
			UNION ALL SELECT true, w.geom FROM w)
		INSERT INTO seed_land (district, water, geom)
		SELECT $1, water, ST_Subdivide(geom, 64) FROM parts WHERE NOT ST_IsEmpty(geom)`, code)
	if err != nil {
		return fmt.Errorf("postgis: district %s: land and water: %w", code, err)
	}
	return nil
}

// SeedIndexStage indexes the staged cells and pieces once they are loaded.
func (db *DB) SeedIndexStage(ctx context.Context) error {
	for _, q := range []string{
		`CREATE INDEX ON seed_cells (district, flags)`,
		`CREATE INDEX ON seed_land USING gist (geom)`,
		`CREATE INDEX ON seed_grids (code)`,
		`CREATE INDEX ON seed_grid_geoms (code)`,
		`CREATE INDEX ON seed_comm_geoms (code)`,
		`ANALYZE seed_cells`, `ANALYZE seed_land`, `ANALYZE seed_grids`, `ANALYZE seed_names`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: index seed stage: %w", err)
		}
	}
	return nil
}

// SeedParcels turns a district's staged cells into parcels: inner cells
// as they are, border cells clipped to the district, river cells split
// into their land (id 2c) and water (id 2c+1) parts.
func (db *DB) SeedParcels(ctx context.Context, district string) (int64, error) {
	var total int64
	for _, q := range []string{
		`INSERT INTO parcels (id, grid_code, community_code, land_use, geom)
		 SELECT id * 2, grid_code, community_code, land_use, ST_Multi(geom)
		 FROM seed_cells WHERE district = $1 AND flags = 0`,
		`INSERT INTO parcels (id, grid_code, community_code, land_use, geom)
		 SELECT c.id * 2 + x.water::int, c.grid_code, c.community_code,
		        CASE WHEN x.water THEN 'water' ELSE c.land_use END, x.geom
		 FROM seed_cells c CROSS JOIN LATERAL (
			SELECT l.water, ST_Multi(ST_CollectionExtract(ST_Union(ST_Intersection(c.geom, l.geom)), 3)) AS geom
			FROM seed_land l
			WHERE l.district = $1 AND l.geom && c.geom AND ST_Intersects(l.geom, c.geom)
			GROUP BY l.water) x
		 WHERE c.district = $1 AND c.flags <> 0 AND NOT ST_IsEmpty(x.geom) AND ST_Area(x.geom) > 0`,
	} {
		tag, err := db.Pool.Exec(ctx, q, district)
		if err != nil {
			return total, fmt.Errorf("postgis: parcels of %s: %w", district, err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// SeedRegions builds a district's grids, streets and communities as the
// unions of their parcels (grids) and grids (regions). Grids staged with
// a geometry (computed exactly by the caller from whole cells) keep it. Parcel ids of a
// district lie in [idLo, idHi), so the unions need no secondary index.
// Each union takes its pieces in key order: its result (the same shape
// either way) then has the same vertices whichever plan fed it, where the
// plan changed with the statistics autovacuum happened to have gathered.
// It returns the numbers of regions and grids inserted.
func (db *DB) SeedRegions(ctx context.Context, district string, idLo, idHi int64) (regions, grids int64, err error) {
	_, err = db.Pool.Exec(ctx, `
		INSERT INTO seed_grid_geoms (code, geom)
		SELECT code, geom FROM seed_grids WHERE code > $3 AND code < $3 || 'a' AND geom IS NOT NULL
		UNION ALL
		SELECT grid_code, ST_Multi(ST_Union(geom ORDER BY id)) FROM parcels
		WHERE id >= $1 AND id < $2 AND grid_code IN (
			SELECT code FROM seed_grids WHERE code > $3 AND code < $3 || 'a' AND geom IS NULL)
		GROUP BY grid_code`, idLo, idHi, district)
	if err != nil {
		return 0, 0, fmt.Errorf("postgis: grids of %s: %w", district, err)
	}
	for i, q := range []string{
		`INSERT INTO seed_comm_geoms (code, geom)
		 SELECT left(code, 12), ST_Multi(ST_Union(geom ORDER BY code)) FROM seed_grid_geoms
		 WHERE code > $1 AND code < $1 || 'a' GROUP BY 1`,
		`INSERT INTO regions (code, level, name, kind, parent_code, geom)
		 SELECT n.code, 'street', n.name, n.kind, n.parent, u.geom
		 FROM seed_names n JOIN (
			SELECT left(code, 9) AS code, ST_Multi(ST_Union(geom ORDER BY code)) AS geom FROM seed_comm_geoms
			WHERE code > $1 AND code < $1 || 'a' GROUP BY 1) u ON u.code = n.code
		 WHERE n.level = 'street' ORDER BY n.code`,
		`INSERT INTO regions (code, level, name, kind, parent_code, geom)
		 SELECT n.code, 'community', n.name, n.kind, n.parent, u.geom
		 FROM seed_names n JOIN seed_comm_geoms u ON u.code = n.code
		 WHERE n.level = 'community' AND n.code > $1 AND n.code < $1 || 'a' ORDER BY n.code`,
		`INSERT INTO grids (id, code, community_code, name, geom)
		 SELECT g.id, g.code, g.community_code, g.name, u.geom
		 FROM seed_grids g JOIN seed_grid_geoms u ON u.code = g.code
		 WHERE g.code > $1 AND g.code < $1 || 'a' ORDER BY g.id`,
	} {
		tag, err := db.Pool.Exec(ctx, q, district)
		if err != nil {
			return 0, 0, fmt.Errorf("postgis: regions of %s: %w", district, err)
		}
		switch i {
		case 1, 2:
			regions += tag.RowsAffected()
		case 3:
			grids = tag.RowsAffected()
		}
	}
	return regions, grids, nil
}
