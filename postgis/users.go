package postgis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wangge/wangge"
)

// User is an account as the admin sees it (never its password hash).
type User struct {
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	Role      wangge.Role `json:"role"`
	Region    string      `json:"region"`
	UnitID    *int64      `json:"unit_id,omitempty"`
	Disabled  bool        `json:"disabled"`
	CreatedAt time.Time   `json:"created_at"`
}

// NewUser is an account to create. Password "" makes an account that only
// bearer tokens (machines) or single sign-on can use.
type NewUser struct {
	Name     string
	Role     wangge.Role
	Region   string
	UnitID   *int64
	Password string
	Subject  string // OpenID Connect subject; "" none
}

// Check validates the account before anything is hashed or stored.
func (n NewUser) Check() error {
	if _, err := wangge.ParseRole(string(n.Role)); err != nil {
		return err
	}
	if err := wangge.CheckText("name", n.Name, 1, 64); err != nil {
		return err
	}
	if err := wangge.CheckRegion(n.Role, n.Region); err != nil {
		return err
	}
	if n.Role == wangge.RoleResponder && n.UnitID == nil {
		return wangge.Invalid("unit", "a responder is one unit: give its id")
	}
	if n.Password != "" {
		return wangge.CheckPassword(n.Password)
	}
	return nil
}

// CreateUser stores an account; a taken name is a conflict.
func (db *DB) CreateUser(ctx context.Context, n NewUser) (User, error) {
	if err := n.Check(); err != nil {
		return User{}, err
	}
	var hash *string
	if n.Password != "" {
		h, err := wangge.HashPassword(n.Password)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	var subject *string
	if n.Subject != "" {
		subject = &n.Subject
	}
	u := User{Name: n.Name, Role: n.Role, Region: n.Region, UnitID: n.UnitID}
	err := db.Pool.QueryRow(ctx, `INSERT INTO users (name, role, region, unit_id, password_hash, subject)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		n.Name, n.Role, n.Region, n.UnitID, hash, subject).Scan(&u.ID, &u.CreatedAt)
	if err != nil {
		return User{}, fmt.Errorf("postgis: user %s: %w", n.Name, userErr(err))
	}
	return u, nil
}

func userErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("the name is taken: %w", wangge.ErrConflict)
		case "23503":
			return wangge.Invalid("unit", "no such unit")
		case "23514":
			return wangge.Invalid("name", "refused: names are 1–64 letters, digits, '.', '_', '@' or '-'")
		}
	}
	return err
}

// maxListed bounds the admin lists (accounts, credentials): every login
// adds a session, and an answer must not grow with the history.
const maxListed = "1000"

// Users lists the accounts whose region lies in scope, by name (the first
// 1,000).
func (db *DB) Users(ctx context.Context, scope wangge.Scope) ([]User, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, name, role, region, unit_id, disabled_at IS NOT NULL, created_at
		FROM users WHERE region LIKE $1 ORDER BY name LIMIT `+maxListed, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: users: %w", err)
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Name, &u.Role, &u.Region, &u.UnitID, &u.Disabled, &u.CreatedAt)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: users: %w", err)
	}
	return us, nil
}

// DisableUser stops an account in scope and revokes its sessions and
// tokens; every replica drops them from its cache (NOTIFY wangge_auth).
func (db *DB) DisableUser(ctx context.Context, scope wangge.Scope, name string) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, now())
			WHERE name = $1 AND region LIKE $2 RETURNING id`, name, scope.Like()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgis: user %s: %w", name, wangge.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("postgis: disable user %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE credentials SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id); err != nil {
			return fmt.Errorf("postgis: disable user %s: %w", name, err)
		}
		return nil
	})
}

// Login checks a name and password. Unknown names, wrong passwords and
// disabled accounts are one answer (ErrForbidden), and an unknown name
// still costs an argon2 hash so timing does not tell names apart.
func (db *DB) Login(ctx context.Context, name, password string) (wangge.Principal, error) {
	var (
		p    wangge.Principal
		hash *string
		off  bool
	)
	err := db.Pool.QueryRow(ctx, `SELECT id, name, role, region, unit_id, password_hash, disabled_at IS NOT NULL
		FROM users WHERE name = $1`, name).Scan(&p.UserID, &p.Name, &p.Role, &p.Region, &p.UnitID, &hash, &off)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("postgis: login: %w", err)
	}
	stored := ""
	if hash == nil {
		stored = dummyHash()
	} else {
		stored = *hash
	}
	ok := wangge.PasswordMatches(stored, password)
	if err != nil || hash == nil || off || !ok {
		return wangge.Principal{}, fmt.Errorf("wrong name or password: %w", wangge.ErrForbidden)
	}
	return p, nil
}

// dummyHash is checked for names that do not exist (same cost as a real
// one). Made on the first such login, not when the package loads: an
// argon2 hash is 64 MiB and tens of milliseconds every CLI call and test
// binary would otherwise pay.
var dummyHash = sync.OnceValue(func() string {
	h, _ := wangge.HashPassword("not a password of anyone")
	return h
})

// ProvisionSSOUser creates or updates the account of a single-sign-on
// subject with the role and region the identity platform asserts (its
// claims are authoritative at every login); a disabled account stays
// disabled and is refused.
func (db *DB) ProvisionSSOUser(ctx context.Context, subject string, n NewUser) (wangge.Principal, error) {
	n.Password, n.Subject = "", subject
	if err := n.Check(); err != nil {
		return wangge.Principal{}, err
	}
	var (
		p   wangge.Principal
		off bool
	)
	err := db.Pool.QueryRow(ctx, `INSERT INTO users (name, role, region, unit_id, subject) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (subject) DO UPDATE SET role = EXCLUDED.role, region = EXCLUDED.region, unit_id = EXCLUDED.unit_id
		RETURNING id, name, role, region, unit_id, disabled_at IS NOT NULL`,
		n.Name, n.Role, n.Region, n.UnitID, subject).Scan(&p.UserID, &p.Name, &p.Role, &p.Region, &p.UnitID, &off)
	if err != nil {
		return p, fmt.Errorf("postgis: sso user %s: %w", n.Name, userErr(err))
	}
	if off {
		return wangge.Principal{}, fmt.Errorf("account disabled: %w", wangge.ErrForbidden)
	}
	return p, nil
}
