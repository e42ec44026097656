package benchkit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/postgis"
)

// AuthToken is the bearer token the bench's clients send (GetRequest and
// every client passed to Authorize); Login sets it.
var AuthToken string

// Login creates the bench's account (role over the whole city) and makes
// GetRequest and http.DefaultClient send its token.
func Login(ctx context.Context, db *postgis.DB, role wangge.Role) error {
	tok, err := Token(ctx, db, role, nil)
	if err != nil {
		return fmt.Errorf("bench login: %w", err)
	}
	AuthToken = tok
	Authorize(http.DefaultClient, tok)
	return nil
}

// Access is the real access control of a served replica: credentials from
// db, an audit writer running until ctx ends.
func Access(ctx context.Context, db *postgis.DB, log *slog.Logger) *api.Access {
	w := db.NewAuditWriter(log)
	go w.Run(ctx)
	return &api.Access{Credentials: db, Audit: w, Admin: db, AuditLog: db, Open311Public: true}
}

// Token creates a bench account with the role over the whole city (a
// responder gets unit) and returns a bearer token for it.
func Token(ctx context.Context, db *postgis.DB, role wangge.Role, unit *int64) (string, error) {
	name := fmt.Sprintf("bench.%s.%d", role, time.Now().UnixNano())
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, UnitID: unit}); err != nil {
		return "", err
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, 24*time.Hour, "bench")
	return tok, err
}

type bearer struct {
	tok string
	rt  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.tok)
	}
	return b.rt.RoundTrip(r)
}

// Authorize makes c send the token with every request, as a program
// holding it would.
func Authorize(c *http.Client, tok string) {
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = bearer{tok: tok, rt: rt}
}

// RegionToken creates a bench account with the role over region ("" the
// whole city) and returns a bearer token for it.
func RegionToken(ctx context.Context, db *postgis.DB, role wangge.Role, region string) (string, error) {
	name := fmt.Sprintf("bench.%s.%d", role, time.Now().UnixNano())
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, Region: region}); err != nil {
		return "", err
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, 24*time.Hour, "bench")
	return tok, err
}
