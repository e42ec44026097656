package postgis

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Parcels are the atoms of grid edits: a plan moves parcels, and buildings
// follow the parcel they stand on. Users may import grids without parcels,
// so the import keeps every grid holding at least one: generated parcels
// (parcels.generated) cover a grid that has none, and a later parcels
// import carves the parcels it brings out of them.

// afterImport keeps parcels and buildings consistent with what an import
// of layer just wrote, in its transaction. It returns the other layers
// whose tiles changed.
func afterImport(ctx context.Context, tx pgx.Tx, layer string, rows []ImportRow, replace bool) ([]string, error) {
	switch layer {
	case "grids":
		return []string{"parcels"}, generateParcels(ctx, tx, rows, replace)
	case "parcels":
		return nil, carveGenerated(ctx, tx, rows)
	}
	return nil, nil
}

// generateParcels gives each imported grid without parcels one parcel per
// polygon part of its outline, land_use from the grid's feature or
// 'mixed'. A replaced grid whose parcels are all generated and no longer
// its outline gets them made again. Buildings of these grids that have no
// parcel then take the one under them.
func generateParcels(ctx context.Context, tx pgx.Tx, rows []ImportRow, replace bool) error {
	codes, uses := make([]string, len(rows)), make([]*string, len(rows))
	for i, r := range rows {
		codes[i], _ = r.Vals["code"].(string)
		if u, ok := r.Vals["land_use"].(string); ok {
			uses[i] = &u
		}
	}
	if replace {
		// Only generated parcels are remade: parcels the user imported
		// (or a plan cut from them) are the user's to replace.
		stale := `SELECT p.id FROM parcels p WHERE p.grid_code IN (SELECT g.code FROM grids g
			WHERE g.code = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM parcels q WHERE q.grid_code = g.code AND NOT q.generated)
			AND NOT ST_Equals(g.geom, (SELECT ST_Union(q.geom) FROM parcels q WHERE q.grid_code = g.code)))`
		if _, err := tx.Exec(ctx, `UPDATE buildings SET parcel_id = NULL WHERE parcel_id IN (`+stale+`)`, codes); err != nil {
			return fmt.Errorf("postgis: import grids: release parcels: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM parcels WHERE id IN (`+stale+`)`, codes); err != nil {
			return fmt.Errorf("postgis: import grids: remove generated parcels: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO parcels (id, grid_code, community_code, land_use, geom, generated)
		SELECT (SELECT coalesce(max(id), 0) FROM parcels) + row_number() OVER (ORDER BY g.code, d.path),
			g.code, g.community_code, coalesce(l.land_use, 'mixed'), ST_Multi(d.geom), true
		FROM unnest($1::text[], $2::text[]) l(code, land_use) JOIN grids g ON g.code = l.code, ST_Dump(g.geom) d
		WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE p.grid_code = g.code)`, codes, uses); err != nil {
		return fmt.Errorf("postgis: import grids: generate parcels: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE buildings b SET parcel_id = `+fmt.Sprintf(parcelOf, "b.grid_code", "b.geom")+`
		WHERE b.parcel_id IS NULL AND b.grid_code = ANY($1)`, codes); err != nil {
		return fmt.Errorf("postgis: import grids: buildings' parcels: %w", err)
	}
	return nil
}

// carveGenerated takes the imported parcels out of the generated parcels
// of their communities that they overlap: a generated parcel keeps what is
// left (pieces under minPieceM2 dropped, as a plan's cuts do) or goes when
// nothing is. Buildings on the parcels changed take the parcel of their
// grid under them again.
func carveGenerated(ctx context.Context, tx pgx.Tx, rows []ImportRow) error {
	var comms []string
	for _, r := range rows {
		if c, ok := r.Vals["community_code"].(string); ok && !slices.Contains(comms, c) {
			comms = append(comms, c)
		}
	}
	q, err := tx.Query(ctx, `WITH o AS (
			SELECT g.id, g.geom, ST_Union(u.geom) AS cover
			FROM parcels g JOIN parcels u ON u.community_code = g.community_code AND NOT u.generated
				AND u.geom && g.geom AND ST_Intersects(u.geom, g.geom)
			WHERE g.generated AND g.community_code = ANY($1)
			GROUP BY g.id, g.geom)
		SELECT o.id, (SELECT ST_AsEWKB(ST_Multi(ST_Collect(d.geom)))
			FROM ST_Dump(ST_CollectionExtract(ST_Difference(o.geom, o.cover), 3)) d
			WHERE ST_Area(d.geom::geography) >= $2)
		FROM o WHERE ST_Area(ST_Intersection(o.geom, o.cover)::geography) >= $2`, comms, float64(minPieceM2))
	if err != nil {
		return fmt.Errorf("postgis: import parcels: carve generated parcels: %w", err)
	}
	type cut struct {
		id   int64
		rest []byte // nil: nothing left
	}
	var (
		cuts    []cut
		c       cut
		changed []int64
		gone    []int64
	)
	_, err = pgx.ForEachRow(q, []any{&c.id, &c.rest}, func() error {
		cuts = append(cuts, cut{c.id, slices.Clone(c.rest)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: import parcels: carve generated parcels: %w", err)
	}
	for _, c := range cuts {
		changed = append(changed, c.id)
		if c.rest == nil {
			gone = append(gone, c.id)
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE parcels SET geom = ST_GeomFromEWKB($2) WHERE id = $1`, c.id, c.rest); err != nil {
			return fmt.Errorf("postgis: import parcels: carve parcel %d: %w", c.id, err)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE buildings SET parcel_id = NULL WHERE parcel_id = ANY($1)`, gone); err != nil {
		return fmt.Errorf("postgis: import parcels: release parcels: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM parcels WHERE id = ANY($1)`, gone); err != nil {
		return fmt.Errorf("postgis: import parcels: remove generated parcels: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE buildings b SET parcel_id = `+fmt.Sprintf(parcelOf, "b.grid_code", "b.geom")+`
		WHERE (b.parcel_id = ANY($1) OR b.parcel_id IS NULL) AND left(b.grid_code, 12) = ANY($2)`, changed, comms); err != nil {
		return fmt.Errorf("postgis: import parcels: buildings' parcels: %w", err)
	}
	return nil
}
