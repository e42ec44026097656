package postgis

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
)

// checksumTables are digested by Checksum, each ordered by its key.
var checksumTables = []struct{ name, order string }{
	{"regions", "code"}, {"grids", "id"}, {"parcels", "id"}, {"buildings", "id"}, {"households", "id"},
	{"residents", "id"}, {"objects", "id"}, {"posts", "id"}, {"units", "id"}, {"events", "id"},
	{"event_log", "id"},
}

// volatile tables have an updated_at set to the wall-clock time of the
// load (DEFAULT now()), left out of their digests.
var volatile = map[string]bool{"regions": true, "grids": true}

// Checksum digests every seeded table: md5 over its rows' text in key
// order, plus "all", the md5 of the table digests. Two databases hold the
// same data exactly when the digests agree.
func (db *DB) Checksum(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	all := md5.New()
	for _, t := range checksumTables {
		row := "t"
		if volatile[t.name] {
			err := db.Pool.QueryRow(ctx, `
				SELECT 'ROW(' || string_agg('t.' || quote_ident(column_name), ', ' ORDER BY ordinal_position) || ')'
				FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 AND column_name <> 'updated_at'`, t.name).Scan(&row)
			if err != nil {
				return nil, fmt.Errorf("postgis: checksum %s: columns: %w", t.name, err)
			}
		}
		q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(%s::text, E'\n' ORDER BY t.%s)), '') FROM %s t`, row, t.order, t.name)
		var sum string
		if err := db.Pool.QueryRow(ctx, q).Scan(&sum); err != nil {
			return nil, fmt.Errorf("postgis: checksum %s: %w", t.name, err)
		}
		out[t.name] = sum
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range out {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(all, "%s %s\n", k, out[k])
	}
	out["all"] = hex.EncodeToString(all.Sum(nil))
	return out, nil
}
