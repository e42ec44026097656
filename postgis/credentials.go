package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// AuthChannel carries credential and user changes (migration 0012): every
// replica drops what it cached for them.
const AuthChannel = "wangge_auth"

// Credential kinds.
const (
	KindSession = "session"
	KindToken   = "token"
)

// Credential is a session or bearer token as listed (never its secret).
type Credential struct {
	ID        int64      `json:"id"`
	User      string     `json:"user"`
	Kind      string     `json:"kind"`
	Label     string     `json:"label"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// MaxCredentialTTL bounds a token's life (a year); sessions are shorter.
const MaxCredentialTTL = 366 * 24 * time.Hour

// IssueCredential creates a session or token for an active user and
// returns its secret, which is shown once and stored only hashed.
func (db *DB) IssueCredential(ctx context.Context, userID int64, kind string, ttl time.Duration, label string) (string, Credential, error) {
	if ttl <= 0 || ttl > MaxCredentialTTL {
		return "", Credential{}, wangge.Invalid("ttl", "between 1s and %s", MaxCredentialTTL)
	}
	if err := wangge.CheckText("label", label, 0, 100); err != nil {
		return "", Credential{}, err
	}
	prefix := wangge.TokenPrefix
	if kind == KindSession {
		prefix = wangge.SessionPrefix
	}
	secret, err := wangge.NewSecret(prefix)
	if err != nil {
		return "", Credential{}, err
	}
	c := Credential{Kind: kind, Label: label}
	err = db.Pool.QueryRow(ctx, `INSERT INTO credentials (user_id, kind, secret_hash, label, expires_at)
		SELECT id, $2, $3, $4, now() + $5::interval FROM users WHERE id = $1 AND disabled_at IS NULL
		RETURNING id, (SELECT name FROM users WHERE id = $1), created_at, expires_at`,
		userID, kind, wangge.HashSecret(secret), label, ttl).Scan(&c.ID, &c.User, &c.CreatedAt, &c.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", Credential{}, fmt.Errorf("postgis: credential: user %d: %w", userID, wangge.ErrNotFound)
	} else if err != nil {
		return "", Credential{}, fmt.Errorf("postgis: credential: %w", err)
	}
	return secret, c, nil
}

// IssueToken creates a bearer token for the named user in scope.
func (db *DB) IssueToken(ctx context.Context, scope wangge.Scope, name string, ttl time.Duration, label string) (string, Credential, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT id FROM users WHERE name = $1 AND disabled_at IS NULL AND region LIKE $2`,
		name, scope.Like()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", Credential{}, fmt.Errorf("postgis: token: user %s: %w", name, wangge.ErrNotFound)
	} else if err != nil {
		return "", Credential{}, fmt.Errorf("postgis: token: %w", err)
	}
	return db.IssueCredential(ctx, id, KindToken, ttl, label)
}

// RevokeCredential ends the caller's own session or token (logout).
func (db *DB) RevokeCredential(ctx context.Context, id int64) error {
	return db.RevokeToken(ctx, wangge.CityScope(), id)
}

// RevokeToken ends a session or token of a user in scope at once, on
// every replica.
func (db *DB) RevokeToken(ctx context.Context, scope wangge.Scope, id int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE credentials SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 AND user_id IN (SELECT id FROM users WHERE region LIKE $2)`, id, scope.Like())
	if err != nil {
		return fmt.Errorf("postgis: revoke %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgis: credential %d: %w", id, wangge.ErrNotFound)
	}
	return nil
}

// Credentials lists the tokens (and, with sessions, the sessions) of the
// users in scope, newest first (the last 1,000).
func (db *DB) Credentials(ctx context.Context, scope wangge.Scope, sessions bool) ([]Credential, error) {
	rows, err := db.Pool.Query(ctx, `SELECT c.id, u.name, c.kind, c.label, c.created_at, c.expires_at, c.revoked_at
		FROM credentials c JOIN users u ON u.id = c.user_id
		WHERE ($1 OR c.kind = 'token') AND u.region LIKE $2 ORDER BY c.id DESC LIMIT `+maxListed, sessions, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: credentials: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Credential, error) {
		var c Credential
		err := r.Scan(&c.ID, &c.User, &c.Kind, &c.Label, &c.CreatedAt, &c.ExpiresAt, &c.RevokedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: credentials: %w", err)
	}
	return cs, nil
}

// Authenticate finds the principal of a presented secret: a live
// credential of an active user. Anything else is ErrForbidden with the
// reason (expired, revoked, unknown), and the time until which the answer
// may be cached.
func (db *DB) Authenticate(ctx context.Context, secret string) (wangge.Principal, time.Time, error) {
	var (
		p       wangge.Principal
		expires time.Time
		revoked bool
		off     bool
	)
	err := db.Pool.QueryRow(ctx, `SELECT c.id, c.expires_at, c.revoked_at IS NOT NULL,
			u.id, u.name, u.role, u.region, u.unit_id, u.disabled_at IS NOT NULL
		FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.secret_hash = $1`,
		wangge.HashSecret(secret)).Scan(&p.CredentialID, &expires, &revoked, &p.UserID, &p.Name, &p.Role, &p.Region, &p.UnitID, &off)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return wangge.Principal{}, time.Time{}, fmt.Errorf("unknown credential: %w", wangge.ErrForbidden)
	case err != nil:
		return wangge.Principal{}, time.Time{}, fmt.Errorf("postgis: authenticate: %w", err)
	case revoked:
		return wangge.Principal{}, time.Time{}, fmt.Errorf("credential revoked: %w", wangge.ErrForbidden)
	case off:
		return wangge.Principal{}, time.Time{}, fmt.Errorf("account disabled: %w", wangge.ErrForbidden)
	case !time.Now().Before(expires):
		return wangge.Principal{}, time.Time{}, fmt.Errorf("credential expired: %w", wangge.ErrForbidden)
	}
	return p, expires, nil
}
