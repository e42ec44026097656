// Package apitest gives tests real credentials: users and bearer tokens in
// the test's own database, a real Access (credential store, audit writer)
// and a client-side shim that sends a token on every request, so tests
// about other things still pass through the real authentication path.
package apitest

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
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/postgis"
)

var seq atomic.Int64

// User creates an account with the role and jurisdiction (a unit for a
// responder) and returns a bearer token for it. Names are unique per
// process, so tests may create as many as they like.
func User(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) (name, token string) {
	t.Helper()
	ctx := context.Background()
	name = fmt.Sprintf("%s-%d-%d", role, time.Now().UnixNano()%1_000_000, seq.Add(1))
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, Region: region, UnitID: unit,
		Password: "correct horse battery staple"}); err != nil {
		t.Fatalf("apitest: user %s: %v", name, err)
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "test")
	if err != nil {
		t.Fatalf("apitest: token for %s: %v", name, err)
	}
	return name, tok
}

// Token is User without the name.
func Token(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) string {
	t.Helper()
	_, tok := User(t, db, role, region, unit)
	return tok
}

// Password is the password of every account User creates.
const Password = "correct horse battery staple"

// Access is a real api.Access over db: the credential store, an audit
// writer running until the test ends, and the admin and audit readers.
func Access(t testing.TB, db *postgis.DB) *api.Access {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := db.NewAuditWriter(log)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &api.Access{Credentials: db, Audit: w, Admin: db, AuditLog: db, Open311Public: true}
}

// As sends the token with every request that carries no Authorization
// header of its own, as a program holding that token would.
func As(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(w, r)
	})
}

// Header is the Authorization header of a token, for requests built by hand.
func Header(token string) (string, string) { return "Authorization", "Bearer " + token }
