package postgis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wangge/wangge"
)

// ImportRow is one feature of an import, checked by the importer.
type ImportRow struct {
	Index int            // the feature's index in the file, for errors
	WKB   []byte         // the geometry, WGS-84, ISO WKB
	Vals  map[string]any // column → value; a missing optional column takes its default
}

// ImportResult counts what an import did.
type ImportResult struct{ Inserted, Updated int }

// RowError is a row the database refused, with the feature it came from.
type RowError struct {
	Index int
	Err   error // a *wangge.InputError
}

func (e *RowError) Error() string { return fmt.Sprintf("feature %d: %v", e.Index, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// importBatch bounds how many statements go to the server in one round trip.
const importBatch = 500

// ImportFeatures loads rows into a layer's table in one transaction: all
// rows or none. With replace, a row whose key exists is updated in place
// (a grid's version is bumped and its old geometry kept in grid_versions);
// without, it is an error. The first refused row is reported as a
// *RowError with the feature index and a reason fit for the user.
func (db *DB) ImportFeatures(ctx context.Context, layer string, rows []ImportRow, replace bool, actor string) (res ImportResult, err error) {
	spec, ok := importSpecs[layer]
	if !ok {
		return res, fmt.Errorf("postgis: import: %w", wangge.Invalid("layer", "unknown layer %q", layer))
	}
	sql := spec.insertSQL(replace)
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgis: import %s: begin: %w", layer, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// Ids are allocated as max(id)+1; keep concurrent importers out. A
	// grids import makes parcels too (afterImport).
	tables := spec.table
	if layer == "grids" {
		tables += ", parcels"
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+tables+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return res, fmt.Errorf("postgis: import %s: lock: %w", layer, err)
	}
	for start := 0; start < len(rows); start += importBatch {
		part := rows[start:min(start+importBatch, len(rows))]
		b := &pgx.Batch{}
		for _, r := range part {
			if replace && spec.history != "" {
				b.Queue(spec.history, spec.keyArg(r), actor)
			}
			b.Queue(sql, spec.args(r, actor)...)
		}
		br := tx.SendBatch(ctx, b)
		for _, r := range part {
			if replace && spec.history != "" {
				if _, err := br.Exec(); err != nil {
					br.Close()
					return res, db.rowError(ctx, layer, r, err)
				}
			}
			var inserted bool
			if err := br.QueryRow().Scan(&inserted); err != nil {
				br.Close()
				return res, db.rowError(ctx, layer, r, err)
			}
			if inserted {
				res.Inserted++
			} else {
				res.Updated++
			}
		}
		if err := br.Close(); err != nil {
			return res, fmt.Errorf("postgis: import %s: %w", layer, err)
		}
	}
	also, err := afterImport(ctx, tx, layer, rows, replace)
	if err != nil {
		return res, err
	}
	// Running servers evict the tiles the new features cover, on commit.
	wkbs := make([][]byte, len(rows))
	for i, r := range rows {
		wkbs[i] = r.WKB
	}
	if _, err := tx.Exec(ctx, `SELECT tile_changed(l, (SELECT ST_SetSRID(ST_Extent(ST_GeomFromWKB(w)), 4326)::geometry
		FROM unnest($2::bytea[]) w)) FROM unnest($1::text[]) l`, append([]string{layer}, also...), wkbs); err != nil {
		return res, fmt.Errorf("postgis: import %s: tile versions: %w", layer, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("postgis: import %s: commit: %w", layer, err)
	}
	return res, nil
}

var (
	keyDetail = regexp.MustCompile(`^Key \((.+?)\)=\((.*)\) (is not present in table "(.+)"|already exists)`)
)

// rowError turns a refusal into a reason that names the column, never SQL.
func (db *DB) rowError(ctx context.Context, layer string, r ImportRow, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("postgis: import %s: feature %d: %w", layer, r.Index, err)
	}
	var in error
	m := keyDetail.FindStringSubmatch(pe.Detail)
	switch {
	case pe.Code == "23503" && m != nil: // foreign key
		in = wangge.Invalid("properties."+m[1], "%s %q does not exist", strings.TrimSuffix(m[4], "s"), m[2])
	case pe.Code == "23505" && m != nil: // unique
		in = wangge.Invalid("properties."+m[1], "%q already exists (import with replace to update it)", m[2])
	case pe.Code == "23502" && pe.ColumnName == "grid_code":
		in = wangge.Invalid("properties.grid_code", "no active grid covers the feature; give grid_code")
	case pe.Code == "23502":
		in = wangge.Invalid("properties."+pe.ColumnName, "required")
	case pe.Code == "23514" && strings.Contains(pe.ConstraintName, "geom"):
		in = wangge.Invalid("geometry", "PostGIS finds it invalid: %s", db.invalidReason(ctx, r.WKB))
	case pe.Code == "23514":
		in = wangge.Invalid("properties", "breaks the rule %s of table %s", pe.ConstraintName, pe.TableName)
	case strings.HasPrefix(pe.Code, "22"): // data exceptions: out of range, bad text
		in = wangge.Invalid("properties", "a value does not fit its column (%s)", pe.Code)
	default:
		return fmt.Errorf("postgis: import %s: feature %d: %w", layer, r.Index, err)
	}
	return &RowError{Index: r.Index, Err: in}
}

// invalidReason asks PostGIS why a geometry is invalid, outside the
// aborted transaction.
func (db *DB) invalidReason(ctx context.Context, wkb []byte) string {
	var s string
	if err := db.Pool.QueryRow(ctx, "SELECT ST_IsValidReason(ST_GeomFromWKB($1, 4326))", wkb).Scan(&s); err != nil {
		return "unknown reason"
	}
	return s
}
