package postgis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wangge/wangge"
)

// statLevels maps a level to its code length.
var statLevels = map[string]int{"district": 6, "street": 9, "community": 12, "grid": 15}

// statMetrics lists the metrics Stats knows. What stands in a region
// comes from its rollup row, open and overdue from the open events, the
// 30-day event figures from the day rollups of districts and streets, or
// from the window's events for communities and grids.
var statMetrics = map[string]bool{"households": true, "residents": true, "tagged": true, "open_events": true,
	"overdue": true, "events_30d": true, "closure_rate": true, "avg_handling_minutes": true}

// statSQL is the query of metric's value per region code of a level ($1
// its code length, $2 the scope's LIKE pattern, then the window's first
// city-time midnight where the metric has a window, then the scope's
// region).
func statSQL(level, metric string) (string, bool) {
	switch metric {
	case "households", "residents", "tagged":
		return `SELECT code, n::float8 FROM rollup_counts WHERE key = '` + metric + `' AND length(code) = $1 AND code LIKE $2
			AND code BETWEEN rpad($3, $1, '0') AND rpad($3, $1, '9')`, false
	case "open_events":
		return `SELECT left(grid_code, $1), count(*)::float8 FROM events
			WHERE grid_code LIKE $2 AND grid_code BETWEEN rpad($3, 15, '0') AND rpad($3, 15, '9')
				AND status IN ` + openStatuses + ` GROUP BY 1`, false
	case "overdue":
		return `SELECT left(grid_code, $1), count(*)::float8 FROM events
			WHERE grid_code LIKE $2 AND grid_code BETWEEN rpad($3, 15, '0') AND rpad($3, 15, '9')
				AND status IN ` + openStatuses + ` AND deadline_at < now() GROUP BY 1`, false
	}
	value := map[string]string{
		"events_30d":           `sum(reported)::float8`,
		"closure_rate":         `sum(closed)::float8 / nullif(sum(reported - excluded), 0)`,
		"avg_handling_minutes": `sum(closed_minutes)::float8 / nullif(sum(closed_n), 0)`,
	}[metric]
	if level == "district" || level == "street" {
		return `SELECT code, ` + value + ` FROM event_rollups
			WHERE length(code) = $1 AND code LIKE $2 AND code BETWEEN rpad($4, $1, '0') AND rpad($4, $1, '9')
				AND tier = '' AND category = '' AND day >= $3::date GROUP BY 1`, true
	}
	return `SELECT left(grid_code, $1), ` + value + ` FROM (SELECT grid_code, 1 AS reported,
			(status IN ('closed', 'evaluated'))::int AS closed, (status IN ('rejected', 'duplicate'))::int AS excluded,
			(closed_at IS NOT NULL)::int AS closed_n, extract(epoch FROM closed_at - reported_at) / 60 AS closed_minutes
			FROM events WHERE grid_code LIKE $2 AND grid_code BETWEEN rpad($4, 15, '0') AND rpad($4, 15, '9')
				AND reported_at >= $3::timestamptz) e GROUP BY 1`, true
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
	if !statMetrics[metric] {
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
	// Every query also takes the scope's region as a code range ($3, or
	// $4 after a window's start): LIKE alone cannot use an index.
	q, windowed := statSQL(level, metric)
	args := []any{n, scope.Like(), scope.Region()}
	if windowed {
		args = []any{n, scope.Like(), windowStart(time.Now()), scope.Region()}
	}
	rows, err = db.Pool.Query(ctx, q, args...)
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
