package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// SeedTables are the tables a seed fills, parents first.
var SeedTables = []string{"regions", "grids", "parcels", "buildings", "households", "residents",
	"objects", "posts", "units", "events", "event_log", "grid_versions"}

// bulkTables lose their secondary indexes and foreign keys during a seed.
var bulkTables = []string{"parcels", "buildings", "households", "residents", "objects", "posts", "units",
	"events", "event_log"}

// StreamTables are loaded by one CopyStream each; they also lose their
// primary keys and unique constraints, which are built afterwards from
// the sorted heap far faster than they are kept up row by row (for
// residents, 2.3 µs of a row's 5.6 µs).
var StreamTables = []string{"buildings", "households", "residents", "objects", "events", "event_log"}

// BulkDDL holds the definitions dropped before a bulk load, read from
// the catalog so that migrations stay the one source of truth.
type BulkDDL struct {
	Keys        []Statement // ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY / UNIQUE
	Indexes     []Statement // CREATE INDEX …
	ForeignKeys []ForeignKey
	Autovacuum  []string // tables whose autovacuum the seed switched off
}

// Statement is one statement that rebuilds something of Table.
type Statement struct {
	Table, Name, SQL string
}

// ForeignKey is a foreign key of Table referencing Parent, added back
// NOT VALID (instant), then validated (every row checked).
type ForeignKey struct {
	Table, Parent, Name, Add, Validate string
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
// bulk tables and the keys of the stream tables, switches their
// autovacuum off (it would vacuum and analyze them while they load and
// are indexed, and its locks would hold up the index builds), and
// returns what it takes to put everything back.
func (db *DB) DropBulkIndexes(ctx context.Context) (BulkDDL, error) {
	var ddl BulkDDL
	var drops []string
	err := db.rows(ctx, "list foreign keys", `
		SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, c.conname,
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)),
		       format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.conrelid::regclass, c.conname),
		       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
		FROM pg_constraint c
		WHERE c.contype = 'f' AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))
		ORDER BY c.conrelid::regclass::text, c.conname`, []any{bulkTables}, func(r pgx.Rows) error {
		var fk ForeignKey
		var drop string
		if err := r.Scan(&fk.Table, &fk.Parent, &fk.Name, &fk.Add, &fk.Validate, &drop); err != nil {
			return err
		}
		ddl.ForeignKeys = append(ddl.ForeignKeys, fk)
		drops = append(drops, drop)
		return nil
	})
	if err != nil {
		return ddl, err
	}
	err = db.rows(ctx, "list keys", `
		SELECT c.conrelid::regclass::text, c.conname,
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)),
		       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
		FROM pg_constraint c
		WHERE c.contype IN ('p', 'u') AND c.conrelid::regclass::text = ANY($1)
		ORDER BY c.conrelid::regclass::text, c.contype, c.conname`, []any{StreamTables}, func(r pgx.Rows) error {
		var s Statement
		var drop string
		if err := r.Scan(&s.Table, &s.Name, &s.SQL, &drop); err != nil {
			return err
		}
		ddl.Keys = append(ddl.Keys, s)
		drops = append(drops, drop)
		return nil
	})
	if err != nil {
		return ddl, err
	}
	err = db.rows(ctx, "list indexes", `
		SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
		       format('DROP INDEX %s', i.indexrelid::regclass)
		FROM pg_index i
		WHERE i.indrelid::regclass::text = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indexrelid::regclass::text`, []any{bulkTables}, func(r pgx.Rows) error {
		var s Statement
		var drop string
		if err := r.Scan(&s.Table, &s.Name, &s.SQL, &drop); err != nil {
			return err
		}
		ddl.Indexes = append(ddl.Indexes, s)
		drops = append(drops, drop)
		return nil
	})
	if err != nil {
		return ddl, err
	}
	// A table whose migration chose its autovacuum setting keeps it.
	err = db.rows(ctx, "list autovacuum", `
		SELECT c.relname FROM pg_class c
		WHERE c.oid::regclass::text = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum_enabled=%')
		ORDER BY 1`, []any{bulkTables}, func(r pgx.Rows) error {
		var t string
		if err := r.Scan(&t); err != nil {
			return err
		}
		ddl.Autovacuum = append(ddl.Autovacuum, t)
		drops = append(drops, "ALTER TABLE "+pgx.Identifier{t}.Sanitize()+" SET (autovacuum_enabled = off)")
		return nil
	})
	if err != nil {
		return ddl, err
	}
	for _, q := range drops {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return ddl, fmt.Errorf("postgis: %s: %w", q, err)
		}
	}
	return ddl, nil
}

// rows runs q and calls scan for every row.
func (db *DB) rows(ctx context.Context, what, q string, args []any, scan func(pgx.Rows) error) error {
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("postgis: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("postgis: %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis: %s: %w", what, err)
	}
	return nil
}

// RestoreBulkIndexes recreates, one statement at a time, whatever of ddl
// is missing from the catalog: the way back after a failed or cancelled
// seed, whatever state it stopped in. Failures are logged and the rest is
// still tried; the first is returned.
func (db *DB) RestoreBulkIndexes(ctx context.Context, ddl BulkDDL, log *slog.Logger) error {
	var have []string
	err := db.rows(ctx, "list catalog", `
		SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) AND convalidated
		UNION ALL SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text = ANY($1)`,
		[]any{bulkTables}, func(r pgx.Rows) error {
			var n string
			err := r.Scan(&n)
			have = append(have, n)
			return err
		})
	if err != nil {
		return err
	}
	var first error
	run := func(q string) {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			log.Error("seed: restoring the schema", "statement", q, "err", err)
			if first == nil {
				first = fmt.Errorf("postgis: %s: %w", q, err)
			}
		}
	}
	for _, s := range slices.Concat(ddl.Keys, ddl.Indexes) {
		if !slices.Contains(have, s.Name) {
			run(s.SQL)
		}
	}
	for _, fk := range ddl.ForeignKeys {
		if slices.Contains(have, fk.Name) {
			continue
		}
		var exists bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass)`,
			fk.Name, fk.Table).Scan(&exists); err == nil && !exists {
			run(fk.Add)
		}
		run(fk.Validate)
	}
	for _, t := range ddl.Autovacuum {
		run("ALTER TABLE " + pgx.Identifier{t}.Sanitize() + " RESET (autovacuum_enabled)")
	}
	return first
}

// SeedSequences moves the identity sequences past the seeded ids.
func (db *DB) SeedSequences(ctx context.Context) error {
	for _, t := range []string{"events", "event_log", "grid_versions"} {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), coalesce((SELECT max(id) FROM %[1]s), 0) + 1, false)`, t)
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgis: setval %s: %w", t, err)
		}
	}
	return nil
}

// SeedGridCounts fills the per-grid counts that tiles read ready-made
// (migration 0008) from the buildings, logging progress while it runs.
func (db *DB) SeedGridCounts(ctx context.Context, log *slog.Logger) error {
	c, err := db.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if err := db.execWatched(ctx, c, log, "grid counts", `SELECT refresh_grid_counts('')`); err != nil {
		return fmt.Errorf("postgis: grid counts: %w", err)
	}
	return nil
}
