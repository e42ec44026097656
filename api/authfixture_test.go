package api

import (
	"net/http"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// Internal tests cannot import api/apitest (it imports this package); these
// are its helpers for them, over the same real credential store.

// testToken creates an account with the role and region in db and
// returns a bearer token for it.
func testToken(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) string {
	t.Helper()
	_, tok := pgtest.User(t, db, role, region, unit)
	return tok
}

// testAccess is a real Access over db with an audit writer running until
// the test ends.
func testAccess(t testing.TB, db *postgis.DB) *Access {
	t.Helper()
	return &Access{Credentials: db, Audit: pgtest.AuditWriter(t, db), Admin: db, AuditLog: db, Open311Public: true}
}

// bearer sets the token on a request built by hand.
func bearer(r *http.Request, tok string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
