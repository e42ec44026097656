package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// TestAuditedRequests: writes and logins leave a row naming the caller
// from the credential, the target and the outcome (refusals too), and the
// chain verifies.
func TestAuditedRequests(t *testing.T) {
	db, _ := pgtest.New(t)
	hs := accessServer(t, db)
	admin, tok := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	_, auditorTok := apitest.User(t, db, wangge.RoleAuditor, "", nil)
	bearer := []string{"Authorization", "Bearer " + tok}

	send(t, "POST", hs.URL+"/api/v1/users", `{"name":"ok-user","role":"viewer","password":"a good long password"}`, bearer...).want(t, 201, "")
	send(t, "POST", hs.URL+"/api/v1/users", `{"name":"bad user!","role":"viewer","password":"a good long password"}`, bearer...).want(t, 400, "name")
	send(t, "POST", hs.URL+"/api/v1/users", `{"name":"short","role":"viewer","password":"short"}`, bearer...).want(t, 400, "password")
	send(t, "POST", hs.URL+"/api/v1/session", `{"name":"ok-user","password":"not it at all"}`).want(t, 401, "")
	send(t, "GET", hs.URL+"/api/v1/users", "", bearer...).want(t, 200, "") // a read without personal data: not audited

	var users int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE name IN ('bad user!', 'short')`).Scan(&users); err != nil || users != 0 {
		t.Fatalf("refused users stored: %d %v", users, err)
	}
	log := send(t, "GET", hs.URL+"/api/v1/audit?limit=10", "", "Authorization", "Bearer "+auditorTok)
	log.want(t, 200, "")
	entries, _ := log.body["entries"].([]any)
	var got []string
	for _, e := range entries {
		m := e.(map[string]any)
		got = append(got, m["actor"].(string)+" "+m["outcome"].(string)+" "+m["target"].(string))
	}
	want := []string{"login:ok-user 401 ", admin + " 400 ", admin + " 400 ", admin + " 201 user ok-user"}
	if len(got) != len(want) {
		t.Fatalf("audit rows %q, want %q", got, want)
	}
	for i := range want {
		if strings.TrimSpace(got[i]) != strings.TrimSpace(want[i]) {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
	// The auditor reading the log is itself recorded; the chain holds.
	if n, err := db.VerifyAudit(context.Background()); err != nil || n != 5 {
		t.Errorf("verify: %d rows, %v", n, err)
	}
	send(t, "GET", hs.URL+"/api/v1/audit", "", bearer...).want(t, 403, "may not audit.read")
}

type brokenAudit struct{}

func (brokenAudit) Append(context.Context, postgis.AuditRecord) error {
	return errors.New("disk full")
}

// TestAnswerWithheldWithoutAudit: when the audit row cannot be written the
// caller gets 503, not the answer.
func TestAnswerWithheldWithoutAudit(t *testing.T) {
	db, _ := pgtest.New(t)
	acc := apitest.Access(t, db)
	acc.Audit = brokenAudit{}
	hs := httptest.NewServer(api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: db,
		MaxBodyBytes: 1 << 16, Access: acc}).Handler())
	t.Cleanup(hs.Close)
	_, tok := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	a := send(t, "POST", hs.URL+"/api/v1/tokens", `{"user":"`+mustName(t, db)+`"}`, "Authorization", "Bearer "+tok)
	a.want(t, 503, "audit log cannot be written")
	if _, leaked := a.body["token"]; leaked {
		t.Error("the token left although its audit row was not written")
	}
}

func mustName(t *testing.T, db *postgis.DB) string {
	name, _ := apitest.User(t, db, wangge.RoleViewer, "", nil)
	return name
}
