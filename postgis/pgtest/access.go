package pgtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Password is the password of every account User creates.
const Password = "correct horse battery staple"

var userSeq atomic.Int64

// User creates an account with the role and jurisdiction (a unit for a
// responder) and returns its name and a bearer token for it. Names are
// unique per process, so tests may create as many as they like.
func User(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) (name, token string) {
	t.Helper()
	ctx := context.Background()
	name = fmt.Sprintf("%s-%d-%d", role, time.Now().UnixNano()%1_000_000, userSeq.Add(1))
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, Region: region, UnitID: unit, Password: Password}); err != nil {
		t.Fatalf("pgtest: user %s: %v", name, err)
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "test")
	if err != nil {
		t.Fatalf("pgtest: token for %s: %v", name, err)
	}
	return name, tok
}

// AuditWriter is a running audit writer on db, stopped when the test ends.
func AuditWriter(t testing.TB, db *postgis.DB) *postgis.AuditWriter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := db.NewAuditWriter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}
