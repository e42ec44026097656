package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis/pgtest"
)

// TestFailedStartLeavesNothingRunning: when the first load fails (here, a
// database without the schema), StartLocator and StartLive return the
// error with their LISTEN connections closed, not retrying in the
// background for ever.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	db, _ := pgtest.Empty(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := db.StartLocator(ctx, log); err == nil {
		t.Fatal("locator started on a database without grids")
	}
	if _, err := db.StartLive(ctx, log); err == nil {
		t.Fatal("responder index started on a database without units")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		var listening int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d LISTEN connections left after failed starts", listening)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
