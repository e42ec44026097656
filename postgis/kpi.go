package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// KPIFigures are the figures a command centre quotes for a set of events
// reported in a period.
type KPIFigures struct {
	Reported int64 `json:"reported"`
	Resolved int64 `json:"resolved"` // resolved, closed or evaluated
	Closed   int64 `json:"closed"`   // closed or evaluated
	// ClosureRate is Closed / Reported (0 when nothing was reported).
	ClosureRate float64 `json:"closure_rate"`
	// Overdue: still open with the current tier's deadline passed.
	Overdue int64 `json:"overdue"`
	Open    int64 `json:"open"`
	// MedianHandlingMinutes: report → resolution, over the resolved ones.
	MedianHandlingMinutes *float64 `json:"median_handling_minutes"`
	Evaluated             int64    `json:"evaluated"`
	Satisfaction          *float64 `json:"satisfaction"` // mean score 1–5 of the evaluated
}

// KPIPeriod is one period's figures, overall and broken down.
type KPIPeriod struct {
	From       time.Time             `json:"from"`
	To         time.Time             `json:"to"`
	All        KPIFigures            `json:"all"`
	ByTier     map[string]KPIFigures `json:"by_tier"`
	ByCategory map[string]KPIFigures `json:"by_category"`
}

// KPI computes the figures of events reported under region (a code
// prefix, "" for the city) in [windowFrom, to) and in [todayFrom, to), in
// one scan of the window; only events inside scope count.
func (db *DB) KPI(ctx context.Context, scope wangge.Scope, region string, windowFrom, todayFrom, to time.Time) (window, today KPIPeriod, err error) {
	rows, err := db.Pool.Query(ctx, `
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
GROUP BY GROUPING SETS ((p.name), (p.name, e.tier), (p.name, e.category_code))`,
		region+"%", windowFrom, todayFrom, to, scope.Like())
	if err != nil {
		return window, today, fmt.Errorf("postgis: kpi %s: %w", region, err)
	}
	window = KPIPeriod{From: windowFrom, To: to, ByTier: map[string]KPIFigures{}, ByCategory: map[string]KPIFigures{}}
	today = KPIPeriod{From: todayFrom, To: to, ByTier: map[string]KPIFigures{}, ByCategory: map[string]KPIFigures{}}
	var (
		name, tier, cat string
		gTier, gCat     int32
		f               KPIFigures
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &tier, &cat, &gTier, &gCat, &f.Reported, &f.Resolved, &f.Closed,
		&f.Overdue, &f.Open, &f.MedianHandlingMinutes, &f.Evaluated, &f.Satisfaction}, func() error {
		if f.Reported > 0 {
			f.ClosureRate = float64(f.Closed) / float64(f.Reported)
		}
		p := &window
		if name == "today" {
			p = &today
		}
		switch {
		case gTier == 1 && gCat == 1:
			p.All = f
		case gTier == 0:
			p.ByTier[tier] = f
		default:
			p.ByCategory[cat] = f
		}
		f = KPIFigures{}
		return nil
	})
	if err != nil {
		return window, today, fmt.Errorf("postgis: kpi %s: %w", region, err)
	}
	return window, today, nil
}
