package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis/pgtest"
)

// TestHangingStatementCancelledByDeadline: a read whose statement waits on
// a lock held elsewhere answers 503 at its class deadline, and the
// statement is gone from the server (cancelled, not left running).
func TestHangingStatementCancelledByDeadline(t *testing.T) {
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := httptest.NewServer(api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: apitest.Access(t, db),
		Query:  &api.Query{Regions: db, Stats: db, Features: db, Search: db},
		Limits: api.Limits{api.ClassRead: {Deadline: 300 * time.Millisecond}}}).Handler())
	t.Cleanup(hs.Close)
	tok := apitest.Token(t, db, wangge.RoleCommander, "", nil)

	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE grids, regions IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a := send(t, "GET", hs.URL+"/api/v1/stats?level=grid&metric=households", "", "Authorization", "Bearer "+tok)
	took := time.Since(start)
	a.want(t, 503, "took too long")
	if took > 3*time.Second || a.header.Get("Retry-After") == "" {
		t.Fatalf("answered after %v, Retry-After %q", took, a.header.Get("Retry-After"))
	}
	var waiting int
	deadline := time.Now().Add(2 * time.Second)
	for {
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND state = 'active'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waiting != 0 {
		t.Fatalf("%d statements still waiting on the lock after their request's deadline", waiting)
	}
}
