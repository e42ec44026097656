package main

// The baseline is "today's code": the SQL of the wall's answers as it stood
// at commit 3abff08, copied verbatim from postgis/regions.go (openStatuses,
// inRange, visibleSQL, the Region batch with childrenSQL, gridWorkerSQL and
// regionCountsSQL, and Districts), postgis/kpi.go (KPI) and postgis/stats.go
// (statMetrics and Stats). It goes to the database with pgx, without the
// server, so later work on postgis cannot move the yardstick the server is
// measured against. Only the Go around the SQL is cut down: rows are
// scanned and dropped.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wangge/wangge"
)

// From postgis/regions.go.
const (
	openStatuses = `('reported', 'accepted', 'dispatched', 'on_site')`
	inRange      = `BETWEEN rpad($1, 15, '0') AND rpad($1, 15, '9')`
)

// From postgis/regions.go.
func visibleSQL(col string, like, region int) string {
	return fmt.Sprintf("(%[1]s LIKE $%[2]d OR $%[3]d LIKE %[1]s || '%%')", col, like, region)
}

// From postgis/regions.go (Districts).
func districtsSQL() string {
	return `SELECT code, name FROM regions WHERE level = 'district' AND ` + visibleSQL("code", 1, 2) + ` ORDER BY code`
}

// From postgis/regions.go.
func childrenSQL(level wangge.Level) (q string, ok bool) {
	switch level {
	case wangge.LevelDistrict:
		return `SELECT code, name FROM regions WHERE parent_code = $1 AND ` + visibleSQL("code", 2, 3) + ` ORDER BY code`, true
	case wangge.LevelStreet:
		return `SELECT code, name FROM regions WHERE parent_code = $1 AND ` + visibleSQL("code", 2, 3) + ` ORDER BY code`, true
	case wangge.LevelCommunity:
		return `SELECT code, name FROM grids WHERE community_code = $1 AND status = 'active' AND ` + visibleSQL("code", 2, 3) +
			` ORDER BY code`, true
	}
	return "", false
}

// From postgis/regions.go.
const gridWorkerSQL = `SELECT id, name, coalesce(phone, '') FROM units WHERE kind = 'grid_worker' AND grid_code = $1 ORDER BY id LIMIT 1`

// From postgis/regions.go.
const regionCountsSQL = `SELECT
	(SELECT count(*) FROM residents WHERE grid_code ` + inRange + `),
	(SELECT coalesce(json_object_agg(tag, n), '{}') FROM (SELECT tag, count(*) AS n
		FROM residents, unnest(tags) AS tag WHERE grid_code ` + inRange + ` GROUP BY tag) t),
	(SELECT count(*) FROM households WHERE grid_code ` + inRange + `),
	(SELECT count(*) FROM buildings WHERE grid_code ` + inRange + `),
	(SELECT coalesce(json_object_agg(category, n), '{}') FROM (SELECT category, count(*) AS n
		FROM objects WHERE grid_code ` + inRange + ` GROUP BY category) t),
	(SELECT coalesce(json_object_agg(kind, n), '{}') FROM (SELECT kind, count(*) AS n
		FROM posts WHERE grid_code ` + inRange + ` GROUP BY kind) t),
	(SELECT coalesce(json_object_agg(kind, n), '{}') FROM (SELECT u.kind, count(*) AS n
		FROM units u LEFT JOIN posts p ON p.id = u.post_id
		WHERE coalesce(u.grid_code, p.grid_code) ` + inRange + ` GROUP BY u.kind) t),
	(SELECT count(*) FROM grids WHERE status = 'active' AND code ` + inRange + `),
	e.open, e.n30, e.closure, e.handling, e.overdue
	FROM (SELECT
		count(*) FILTER (WHERE status IN ` + openStatuses + `) AS open,
		count(*) FILTER (WHERE reported_at >= now() - interval '30 days') AS n30,
		(count(*) FILTER (WHERE reported_at >= now() - interval '30 days' AND status IN ('closed', 'evaluated')))::float8
			/ nullif(count(*) FILTER (WHERE reported_at >= now() - interval '30 days'
				AND status NOT IN ('rejected', 'duplicate')), 0) AS closure,
		avg(extract(epoch FROM closed_at - reported_at) / 60) FILTER (WHERE reported_at >= now() - interval '30 days'
			AND closed_at IS NOT NULL)::float8 AS handling,
		count(*) FILTER (WHERE status IN ` + openStatuses + ` AND deadline_at < now()) AS overdue
		FROM events WHERE grid_code ` + inRange + `) e`

// From postgis/kpi.go (KPI).
const kpiSQL = `
SELECT p.name, coalesce(e.tier, ''), coalesce(e.category_code, ''), GROUPING(e.tier), GROUPING(e.category_code),
	count(*),
	count(*) FILTER (WHERE e.resolved_at IS NOT NULL OR e.status IN ('resolved', 'closed', 'evaluated')),
	count(*) FILTER (WHERE e.status IN ('closed', 'evaluated')),
	count(*) FILTER (WHERE e.status IN ('reported', 'accepted', 'dispatched', 'on_site') AND e.deadline_at < $4),
	count(*) FILTER (WHERE e.status IN ('reported', 'accepted', 'dispatched', 'on_site')),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.resolved_at - e.reported_at) / 60)
		FILTER (WHERE e.resolved_at IS NOT NULL),
	count(e.satisfaction), avg(e.satisfaction)::float8
FROM events e
CROSS JOIN LATERAL (SELECT 'window' UNION ALL SELECT 'today' WHERE e.reported_at >= $3) AS p(name)
WHERE e.reported_at >= $2 AND e.reported_at < $4 AND e.grid_code LIKE $1 AND e.grid_code LIKE $5
GROUP BY GROUPING SETS ((p.name), (p.name, e.tier), (p.name, e.category_code))`

// From postgis/stats.go.
var statLevels = map[string]int{"district": 6, "street": 9, "community": 12, "grid": 15}

// From postgis/stats.go.
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

// metrics are statMetrics' names, sorted: the walls and the baseline
// draw from the same list.
var metrics = func() []string {
	var out []string
	for m := range statMetrics {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}()

// baseline runs the answers' SQL on one pool.
type baseline struct{ pool *pgxpool.Pool }

// districts is GET /api/v1/regions: the top of the drill-down.
func (b baseline) districts(ctx context.Context, scope wangge.Scope) error {
	rows, err := b.pool.Query(ctx, districtsSQL(), scope.Like(), scope.Region())
	if err != nil {
		return err
	}
	_, err = pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Code, Name string }])
	return err
}

// region is GET /api/v1/regions/:code (no geometry), the batch of
// postgis.DB.Region.
func (b baseline) region(ctx context.Context, scope wangge.Scope, code string) error {
	level, ok := wangge.LevelOf(code)
	if !ok {
		return fmt.Errorf("baseline: region %q", code)
	}
	in := scope.Covers(code)
	if !in && !scope.Within(code) {
		return fmt.Errorf("baseline: region %s: %w", code, wangge.ErrNotFound)
	}
	geometry := false
	batch := &pgx.Batch{}
	head := `SELECT name, kind, CASE WHEN $2 THEN ST_AsGeoJSON(geom, 7) END FROM regions WHERE code = $1 AND ` + visibleSQL("code", 3, 4)
	if level == wangge.LevelGrid {
		head = `SELECT name, '', CASE WHEN $2 THEN ST_AsGeoJSON(geom, 7) END FROM grids WHERE code = $1 AND ` + visibleSQL("code", 3, 4)
	}
	batch.Queue(head, code, geometry, scope.Like(), scope.Region()).QueryRow(func(row pgx.Row) error {
		var name, kind string
		var geom *string
		err := row.Scan(&name, &kind, &geom)
		if errors.Is(err, pgx.ErrNoRows) {
			return wangge.ErrNotFound
		}
		return err
	})
	if p := wangge.ParentCode(code); p != "" {
		batch.Queue(`SELECT name FROM regions WHERE code = $1`, p).QueryRow(func(row pgx.Row) error {
			var name string
			return row.Scan(&name)
		})
	}
	if q, ok := childrenSQL(level); ok {
		batch.Queue(q, code, scope.Like(), scope.Region()).Query(func(rows pgx.Rows) error {
			_, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Code, Name string }])
			return err
		})
	}
	if in {
		batch.Queue(regionCountsSQL, code).QueryRow(func(row pgx.Row) error {
			var (
				residents, households, buildings, grids, open, n30, overdue int64
				tags, cats, posts, units                                    []byte
				closure, handling                                           *float64
			)
			return row.Scan(&residents, &tags, &households, &buildings, &cats, &posts, &units, &grids,
				&open, &n30, &closure, &handling, &overdue)
		})
	}
	if level == wangge.LevelGrid && in {
		batch.Queue(gridWorkerSQL, code).Query(func(rows pgx.Rows) error {
			_, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
				ID          int64
				Name, Phone string
			}])
			return err
		})
	}
	if err := b.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("baseline: region %s: %w", code, err)
	}
	return nil
}

// cityZone is api's: KPI days start at midnight, Beijing time.
var cityZone = time.FixedZone("CST", 8*3600)

// kpi is GET /api/v1/kpi?region= with the default 7-day window.
func (b baseline) kpi(ctx context.Context, scope wangge.Scope, region string) error {
	if region == "" {
		region = scope.Region()
	}
	now := time.Now().In(cityZone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cityZone)
	from := today.AddDate(0, 0, 1-7)
	rows, err := b.pool.Query(ctx, kpiSQL, region+"%", from, today, now, scope.Like())
	if err != nil {
		return fmt.Errorf("baseline: kpi %s: %w", region, err)
	}
	var (
		name, tier, cat                                  string
		gTier, gCat                                      int32
		reported, resolved, closed, overdue, open, nEval int64
		median, satisfaction                             *float64
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &tier, &cat, &gTier, &gCat, &reported, &resolved, &closed,
		&overdue, &open, &median, &nEval, &satisfaction}, func() error { return nil })
	if err != nil {
		return fmt.Errorf("baseline: kpi %s: %w", region, err)
	}
	return nil
}

// stats is GET /api/v1/stats?level=&metric=, uncached (the server caches
// an answer while the data version holds; incidents move it every second).
func (b baseline) stats(ctx context.Context, scope wangge.Scope, level, metric string) error {
	q := `SELECT code FROM regions WHERE level = $1 AND code LIKE $2`
	if level == "grid" {
		q = `SELECT code FROM grids WHERE status = 'active' AND $1 = 'grid' AND code LIKE $2`
	}
	rows, err := b.pool.Query(ctx, q, level, scope.Like())
	if err != nil {
		return fmt.Errorf("baseline: stats %s/%s: %w", level, metric, err)
	}
	out := map[string]*float64{}
	var code string
	if _, err := pgx.ForEachRow(rows, []any{&code}, func() error { out[code] = nil; return nil }); err != nil {
		return fmt.Errorf("baseline: stats %s/%s: %w", level, metric, err)
	}
	rows, err = b.pool.Query(ctx, statMetrics[metric], statLevels[level], scope.Like())
	if err != nil {
		return fmt.Errorf("baseline: stats %s/%s: %w", level, metric, err)
	}
	var v *float64
	if _, err := pgx.ForEachRow(rows, []any{&code, &v}, func() error {
		if _, known := out[code]; known {
			out[code] = v
		}
		return nil
	}); err != nil {
		return fmt.Errorf("baseline: stats %s/%s: %w", level, metric, err)
	}
	return nil
}

// runBaseline runs n clients back to back until ctx ends, with the walls'
// mix of jurisdictions (the last share of them a district's) and
// drill-downs: a region, its level below coloured, its KPI.
func runBaseline(ctx context.Context, b baseline, n int, share float64, c *city, p *phase) {
	nDistrict := int(float64(n)*share + 0.5)
	var wg sync.WaitGroup
	for i := range n {
		district := ""
		if i >= n-nDistrict {
			district = c.districts[i%len(c.districts)]
		}
		scope := wangge.ScopeOf(district)
		r := rand.New(rand.NewPCG(uint64(i), 41))
		wg.Add(1)
		go func() {
			defer wg.Done()
			timed := func(kind string, tier int, f func() error) {
				start := time.Now()
				status := 200
				if err := f(); err != nil {
					status = 0
				}
				if ctx.Err() == nil { // a query cut by the phase's end is not an answer
					p.answer(kind, tier, status, time.Since(start))
				}
			}
			for ctx.Err() == nil {
				tier, code := c.pick(r, district)
				level := statLevel(tier)
				metric := metrics[r.IntN(len(metrics))]
				if tier == tCity {
					timed("drill-down", tier, func() error { return b.districts(ctx, scope) })
				} else {
					timed("drill-down", tier, func() error { return b.region(ctx, scope, code) })
				}
				timed("stats", level, func() error { return b.stats(ctx, scope, tiers[level], metric) })
				timed("kpi", tier, func() error { return b.kpi(ctx, scope, code) })
			}
		}()
	}
	wg.Wait()
}
