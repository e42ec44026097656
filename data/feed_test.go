package data

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis/pgtest"
)

// TestFeedReportsInsideTheirGrid runs the demo feed against the real
// intake for a moment: every report is stored, in a known category and
// channel, inside the grid it names, and routed to a tier.
func TestFeedReportsInsideTheirGrid(t *testing.T) {
	db, _ := pgtest.New(t)
	seedTest(t, db, 1, []string{"500103"})
	ctx := context.Background()
	var before int
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	f, err := NewFeed(ctx, db, 7)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	RunFeed(fctx, f, 10*time.Millisecond, db.CreateEvent, slog.New(slog.NewTextHandler(io.Discard, nil)))

	rows, err := db.Pool.Query(ctx, `SELECT e.category_code, e.source, e.tier, e.status,
			ST_Covers(g.geom, e.geom), c.code IS NOT NULL
		FROM events e JOIN grids g ON g.code = e.grid_code LEFT JOIN event_categories c ON c.code = e.category_code
		WHERE e.id > $1`, before)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var cat, src, tier, status string
		var inside, known bool
		if err := rows.Scan(&cat, &src, &tier, &status, &inside, &known); err != nil {
			t.Fatal(err)
		}
		n++
		if _, err := wangge.ParseSource(src); err != nil || !inside || !known || tier == "" {
			t.Errorf("report %s from %s: source ok %v, inside its grid %v, known category %v, tier %q", cat, src, err == nil, inside, known, tier)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("%d reports in 400 ms at one per 10 ms", n)
	}
}
