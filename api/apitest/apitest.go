// Package apitest gives tests real credentials: users and bearer tokens in
// the test's own database (pgtest.User) and a real Access (credential
// store, audit writer), so tests about other things still pass through the
// real authentication path.
package apitest

import (
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// User creates an account with the role and jurisdiction (a unit for a
// responder) and returns its name and a bearer token for it.
func User(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) (name, token string) {
	t.Helper()
	return pgtest.User(t, db, role, region, unit)
}

// Token is User without the name.
func Token(t testing.TB, db *postgis.DB, role wangge.Role, region string, unit *int64) string {
	t.Helper()
	_, tok := pgtest.User(t, db, role, region, unit)
	return tok
}

// Password is the password of every account User creates.
const Password = pgtest.Password

// Access is a real api.Access over db: the credential store, an audit
// writer running until the test ends, and the admin and audit readers.
func Access(t testing.TB, db *postgis.DB) *api.Access {
	t.Helper()
	return &api.Access{Credentials: db, Audit: pgtest.AuditWriter(t, db), Admin: db, AuditLog: db, Open311Public: true}
}
