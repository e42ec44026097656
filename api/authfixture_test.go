package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Internal tests cannot import api/apitest (it imports this package); these
// are its two helpers for them, over the same real credential store.

var internalSeq atomic.Int64

// testToken creates an account with the role and region in db and
// returns a bearer token for it.
func testToken(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("it-%s-%d-%d", role, time.Now().UnixNano()%1_000_000, internalSeq.Add(1))
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, Region: region, UnitID: unit}); err != nil {
		t.Fatalf("test user %s: %v", name, err)
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "test")
	if err != nil {
		t.Fatalf("test token %s: %v", name, err)
	}
	return tok
}

// testAccess is a real Access over db with an audit writer running until
// the test ends.
func testAccess(t testing.TB, db *postgis.DB) *Access {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := db.NewAuditWriter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &Access{Credentials: db, Audit: w, Admin: db, AuditLog: db, Open311Public: true}
}

// bearer sets the token on a request built by hand.
func bearer(r *http.Request, tok string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
