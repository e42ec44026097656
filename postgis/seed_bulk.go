package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wangge/wangge"
)

// SeedTables are the tables a seed fills, parents first.
var SeedTables = []string{"regions", "grids", "parcels", "buildings", "households", "residents",
	"objects", "posts", "units", "events", "event_log", "grid_versions"}

// bulkTables lose their secondary indexes and foreign keys during a seed.
var bulkTables = []string{"parcels", "buildings", "households", "residents", "objects", "posts", "units",
	"events", "event_log"}

// BulkDDL holds the definitions dropped before a bulk load, read from
// the catalog so that migrations stay the one source of truth.
type BulkDDL struct {
	Indexes     []string // CREATE INDEX statements
	Constraints []Constraint
}

// Constraint is a foreign key to add back, then validate.
type Constraint struct {
	Add, Validate string // ALTER TABLE … ADD CONSTRAINT …; ALTER TABLE … VALIDATE CONSTRAINT …
}

// SeedCheckEmpty fails with wangge.ErrConflict unless every seeded table
// is empty, and with wangge.ErrUnavailable when the schema is missing.
func (db *DB) SeedCheckEmpty(ctx context.Context) error {
	for _, t := range SeedTables {
		var n bool
		if err := db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t+")").Scan(&n); err != nil {
			return fmt.Errorf("postgis: table %s (is the database migrated?): %w: %w", t, wangge.ErrUnavailable, err)
		}
		if n {
			return fmt.Errorf("postgis: table %s is not empty: %w", t, wangge.ErrConflict)
		}
	}
	return nil
}

// DropBulkIndexes drops the secondary indexes and foreign keys of the
// bulk tables and returns what it takes to recreate them.
func (db *DB) DropBulkIndexes(ctx context.Context) (BulkDDL, error) {
	var ddl BulkDDL
	var drops []string
	rows, err := db.Pool.Query(ctx, `
		SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)),
		       format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.conrelid::regclass, c.conname),
		       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
		FROM pg_constraint c
		WHERE c.contype = 'f' AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))
		ORDER BY c.conrelid::regclass::text, c.conname`, bulkTables)
	if err != nil {
		return ddl, fmt.Errorf("postgis: list foreign keys: %w", err)
	}
	for rows.Next() {
		var add, validate, drop string
		if err := rows.Scan(&add, &validate, &drop); err != nil {
			return ddl, fmt.Errorf("postgis: list foreign keys: %w", err)
		}
		ddl.Constraints = append(ddl.Constraints, Constraint{add, validate})
		drops = append(drops, drop)
	}
	if err := rows.Err(); err != nil {
		return ddl, fmt.Errorf("postgis: list foreign keys: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `
		SELECT pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
		FROM pg_index i
		WHERE i.indrelid::regclass::text = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indexrelid::regclass::text`, bulkTables)
	if err != nil {
		return ddl, fmt.Errorf("postgis: list indexes: %w", err)
	}
	for rows.Next() {
		var create, drop string
		if err := rows.Scan(&create, &drop); err != nil {
			return ddl, fmt.Errorf("postgis: list indexes: %w", err)
		}
		ddl.Indexes = append(ddl.Indexes, create)
		drops = append(drops, drop)
	}
	if err := rows.Err(); err != nil {
		return ddl, fmt.Errorf("postgis: list indexes: %w", err)
	}
	for _, q := range drops {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return ddl, fmt.Errorf("postgis: %s: %w", q, err)
		}
	}
	return ddl, nil
}

// RestoreBulkIndexes recreates what DropBulkIndexes dropped (indexes on
// two connections at once, then the foreign keys, which validate every
// row), sets the identity sequences past the seeded ids and analyzes.
func (db *DB) RestoreBulkIndexes(ctx context.Context, ddl BulkDDL, log *slog.Logger) error {
	t0 := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, q := range ddl.Indexes {
		g.Go(func() error {
			if _, err := db.Pool.Exec(gctx, q); err != nil {
				return fmt.Errorf("postgis: %s: %w", q, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("seed: indexes rebuilt", "indexes", len(ddl.Indexes), "duration", time.Since(t0).Round(time.Millisecond))
	// Adding a key NOT VALID is instant; VALIDATE then checks every row
	// under a lock that lets two validations run side by side.
	t0 = time.Now()
	for _, c := range ddl.Constraints {
		if _, err := db.Pool.Exec(ctx, c.Add+" NOT VALID"); err != nil {
			return fmt.Errorf("postgis: %s: %w", c.Add, err)
		}
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, c := range ddl.Constraints {
		g.Go(func() error {
			if _, err := db.Pool.Exec(gctx, c.Validate); err != nil {
				return fmt.Errorf("postgis: %s: %w", c.Validate, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("seed: foreign keys validated", "constraints", len(ddl.Constraints), "duration", time.Since(t0).Round(time.Millisecond))
	return nil
}

// SeedFinish moves the identity sequences past the seeded ids, fills the
// per-grid counts that tiles read (when the schema has them) and
// refreshes planner statistics.
func (db *DB) SeedFinish(ctx context.Context) error {
	for _, t := range []string{"events", "event_log", "grid_versions"} {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), coalesce((SELECT max(id) FROM %[1]s), 0) + 1, false)`, t)
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: setval %s: %w", t, err)
		}
	}
	// Tiles read per-grid resident counts ready-made (migration 0008).
	if _, err := db.Pool.Exec(ctx, `SELECT refresh_grid_counts('')`); err != nil {
		return fmt.Errorf("postgis: grid counts: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, t := range SeedTables {
		g.Go(func() error {
			if _, err := db.Pool.Exec(gctx, "ANALYZE "+t); err != nil {
				return fmt.Errorf("postgis: analyze %s: %w", t, err)
			}
			return nil
		})
	}
	return g.Wait()
}
