package postgis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wangge/wangge"
)

// statLevels maps a level to its code length.
var statLevels = map[string]int{"district": 6, "street": 9, "community": 12, "grid": 15}

// statMetrics maps a metric to the query of its value per region code
// prefix ($1 = the level's code length, $2 the scope's LIKE pattern).
// Resident and household figures come from the per-grid counts
// refresh_grid_counts keeps (migration 0008), so a choropleth never scans
// the PII tables; event figures follow the definitions of Counts.
var statMetrics = map[string]string{
	"households": `SELECT left(code, $1), sum(households)::float8 FROM grids WHERE status = 'active' AND code LIKE $2 GROUP BY 1`,
	"residents":  `SELECT left(code, $1), sum(residents)::float8 FROM grids WHERE status = 'active' AND code LIKE $2 GROUP BY 1`,
	"tagged":     `SELECT left(code, $1), sum(tagged)::float8 FROM grids WHERE status = 'active' AND code LIKE $2 GROUP BY 1`,
	"open_events": `SELECT left(grid_code, $1), count(*)::float8 FROM events
		WHERE grid_code LIKE $2 AND status IN ` + openStatuses + ` GROUP BY 1`,
	"overdue": `SELECT left(grid_code, $1), count(*)::float8 FROM events
		WHERE grid_code LIKE $2 AND status IN ` + openStatuses + ` AND deadline_at < now() GROUP BY 1`,
	"events_30d": `SELECT left(grid_code, $1), count(*)::float8 FROM events
		WHERE grid_code LIKE $2 AND reported_at >= now() - interval '30 days' GROUP BY 1`,
	"closure_rate": `SELECT left(grid_code, $1), (count(*) FILTER (WHERE status IN ('closed', 'evaluated')))::float8
		/ nullif(count(*) FILTER (WHERE status NOT IN ('rejected', 'duplicate')), 0) FROM events
		WHERE grid_code LIKE $2 AND reported_at >= now() - interval '30 days' GROUP BY 1`,
	"avg_handling_minutes": `SELECT left(grid_code, $1), avg(extract(epoch FROM closed_at - reported_at) / 60)::float8
		FROM events WHERE grid_code LIKE $2 AND reported_at >= now() - interval '30 days' AND closed_at IS NOT NULL
		GROUP BY 1`,
}

// ratioMetrics have no value (null) where nothing was measured, where the
// counts are 0.
var ratioMetrics = map[string]bool{"closure_rate": true, "avg_handling_minutes": true}

// StatMetrics lists the metrics Stats knows, sorted.
func StatMetrics() []string {
	var out []string
	for m := range statMetrics {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// CheckStat validates a level and metric.
func CheckStat(level, metric string) error {
	if _, ok := statLevels[level]; !ok {
		return wangge.Invalid("level", "unknown level %q (want district, street, community or grid)", level)
	}
	if _, ok := statMetrics[metric]; !ok {
		return wangge.Invalid("metric", "unknown metric %q (want %s)", metric, strings.Join(StatMetrics(), ", "))
	}
	return nil
}

// Stats computes metric for every region (or active grid) of level inside
// the scope: counts are 0 where nothing is there, ratios nil. A level
// coarser than the scope has no region inside it: the answer is empty
// (a district's figure would count its other streets).
func (db *DB) Stats(ctx context.Context, scope wangge.Scope, level, metric string) (map[string]*float64, error) {
	if err := CheckStat(level, metric); err != nil {
		return nil, err
	}
	n := statLevels[level]
	out := map[string]*float64{}
	q := `SELECT code FROM regions WHERE level = $1 AND code LIKE $2`
	if level == "grid" {
		q = `SELECT code FROM grids WHERE status = 'active' AND $1 = 'grid' AND code LIKE $2`
	}
	rows, err := db.Pool.Query(ctx, q, level, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
	}
	var code string
	for rows.Next() {
		if err := rows.Scan(&code); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
		}
		if ratioMetrics[metric] {
			out[code] = nil
		} else {
			out[code] = new(float64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
	}
	rows, err = db.Pool.Query(ctx, statMetrics[metric], n, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v *float64
		if err := rows.Scan(&code, &v); err != nil {
			return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
		}
		if _, known := out[code]; known { // events of retired grids stay out of a grid map
			out[code] = v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: stats %s/%s: %w", level, metric, err)
	}
	return out, nil
}

// DataVersion changes whenever a layer's tile version moves (every write
// to boundaries, buildings, objects, posts announces one) or an event is
// written (events.updated_at, indexed by migration 0010): cached
// statistics computed under another version are stale.
func (db *DB) DataVersion(ctx context.Context) (string, error) {
	var v string
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(version), 0) FROM tile_versions)::text || '.' ||
		coalesce((SELECT extract(epoch FROM max(updated_at))::text FROM events), '0')`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("postgis: data version: %w", err)
	}
	return v, nil
}
