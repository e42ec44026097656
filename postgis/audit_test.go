package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// auditRows writes n rows through the group-commit writer from concurrent
// callers, as requests do.
func auditRows(t *testing.T, db *postgis.DB, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := db.NewAuditWriter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.Append(ctx, postgis.AuditRecord{Actor: fmt.Sprintf("user%d", i%7), Role: "commander",
				Action: "events.handle POST /api/v1/events/:id/transitions", Target: fmt.Sprintf("id=%d", i),
				RequestID: fmt.Sprintf("r%d", i), Client: "127.0.0.1", Outcome: "200"})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cancel()
	<-done
}

func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	tamper := []struct {
		name, sql string
	}{
		{"a field changed", `UPDATE audit_log SET actor = 'someone else' WHERE id = 17`},
		{"an outcome changed", `UPDATE audit_log SET outcome = '403' WHERE id = 40`},
		{"a row deleted", `DELETE FROM audit_log WHERE id = 23`},
		{"the last row deleted", `DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`},
		{"a row rehashed alone", `UPDATE audit_log SET actor = 'x', hash = encode(sha256('x'), 'hex') WHERE id = 5`},
		{"a row inserted", `INSERT INTO audit_log SELECT 1000, at, actor, role, action, target, request_id, client, outcome, prev_hash, hash FROM audit_log WHERE id = 3`},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := pgtest.New(t)
			auditRows(t, db, 60)
			n, err := db.VerifyAudit(ctx)
			if err != nil || n != 60 {
				t.Fatalf("untouched log: %d rows, %v", n, err)
			}
			if _, err := db.Pool.Exec(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			_, err = db.VerifyAudit(ctx)
			var br *postgis.AuditBreak
			if !errors.As(err, &br) {
				t.Fatalf("tampered log verified: %v", err)
			}
		})
	}
}

func TestAuditQuery(t *testing.T) {
	db, _ := pgtest.New(t)
	auditRows(t, db, 30)
	ctx := context.Background()
	all, err := db.AuditLog(ctx, postgis.AuditQuery{Scope: wangge.CityScope(), Limit: 10})
	if err != nil || len(all) != 10 || all[0].ID != 30 {
		t.Fatalf("newest 10: %d rows, first %v, %v", len(all), all, err)
	}
	next, err := db.AuditLog(ctx, postgis.AuditQuery{Scope: wangge.CityScope(), Limit: 10, Before: all[9].ID})
	if err != nil || len(next) != 10 || next[0].ID != all[9].ID-1 {
		t.Fatalf("keyset page: %v %v", next, err)
	}
	mine, err := db.AuditLog(ctx, postgis.AuditQuery{Scope: wangge.CityScope(), Actor: "user3", Action: "events.handle"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mine {
		if r.Actor != "user3" {
			t.Errorf("actor filter let %q through", r.Actor)
		}
	}
	if len(mine) != 4 { // i%7 == 3 for i in 0..29: 3, 10, 17, 24
		t.Errorf("user3 has %d rows, want 4", len(mine))
	}
}
