package postgis

import (
	"context"
	"fmt"
)

// SeedCategory is an event category as the seed needs it.
type SeedCategory struct {
	Code, NameZh, DefaultTier string
	Priority                  int16
	SLAMinutes                int
}

// SeedCategories lists the event categories, ordered by code.
func (db *DB) SeedCategories(ctx context.Context) ([]SeedCategory, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code, name_zh, default_tier, priority, sla_minutes FROM event_categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("postgis: event categories: %w", err)
	}
	defer rows.Close()
	var out []SeedCategory
	for rows.Next() {
		var c SeedCategory
		if err := rows.Scan(&c.Code, &c.NameZh, &c.DefaultTier, &c.Priority, &c.SLAMinutes); err != nil {
			return nil, fmt.Errorf("postgis: event categories: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: event categories: %w", err)
	}
	return out, nil
}
