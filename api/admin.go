package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// AdminStore manages accounts and tokens (postgis.DB).
type AdminStore interface {
	CreateUser(ctx context.Context, n postgis.NewUser) (postgis.User, error)
	Users(ctx context.Context, scope wangge.Scope) ([]postgis.User, error)
	DisableUser(ctx context.Context, scope wangge.Scope, name string) error
	IssueToken(ctx context.Context, scope wangge.Scope, name string, ttl time.Duration, label string) (string, postgis.Credential, error)
	Credentials(ctx context.Context, scope wangge.Scope, sessions bool) ([]postgis.Credential, error)
	RevokeToken(ctx context.Context, scope wangge.Scope, id int64) error
}

// AuditReader reads the audit log (postgis.DB).
type AuditReader interface {
	AuditLog(ctx context.Context, q postgis.AuditQuery) ([]postgis.AuditRecord, error)
}

func (s *Server) routeAdmin(a *Access) {
	v1 := s.router.Group("/api/v1")
	if a.Admin != nil {
		h := adminHandlers{store: a.Admin, s: s}
		v1.GET("/users", h.users)
		v1.POST("/users", h.createUser)
		v1.POST("/users/:name/disable", h.disable)
		v1.GET("/tokens", h.tokens)
		v1.POST("/tokens", h.createToken)
		v1.DELETE("/tokens/:id", h.revoke)
	}
	if a.AuditLog != nil {
		v1.GET("/audit", func(c *gin.Context) { auditLog(c, s, a.AuditLog) })
	}
}

type adminHandlers struct {
	store AdminStore
	s     *Server
}

func (h adminHandlers) users(c *gin.Context) {
	us, err := h.store.Users(c.Request.Context(), scope(c))
	if err != nil {
		fail(c, h.s.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": us})
}

type userBody struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Region   string `json:"region"`
	UnitID   *int64 `json:"unit_id"`
	Password string `json:"password"`
}

// createUser: POST /api/v1/users. An admin creates accounts inside its own
// jurisdiction only.
func (h adminHandlers) createUser(c *gin.Context) {
	var b userBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.s.log, err)
		return
	}
	if !scope(c).Covers(b.Region) {
		fail(c, h.s.log, fmt.Errorf("region %q is outside your jurisdiction: %w", b.Region, wangge.ErrForbidden))
		return
	}
	u, err := h.store.CreateUser(c.Request.Context(), postgis.NewUser{Name: b.Name, Role: wangge.Role(b.Role),
		Region: b.Region, UnitID: b.UnitID, Password: b.Password})
	if err != nil {
		fail(c, h.s.log, err)
		return
	}
	setTarget(c, "user "+u.Name)
	c.JSON(http.StatusCreated, u)
}

func (h adminHandlers) disable(c *gin.Context) {
	if err := h.store.DisableUser(c.Request.Context(), scope(c), c.Param("name")); err != nil {
		fail(c, h.s.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h adminHandlers) tokens(c *gin.Context) {
	cs, err := h.store.Credentials(c.Request.Context(), scope(c), c.Query("sessions") == "true")
	if err != nil {
		fail(c, h.s.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": cs})
}

type tokenBody struct {
	User  string `json:"user"`
	TTL   string `json:"ttl"` // Go duration, "720h" by default
	Label string `json:"label"`
}

// createToken: POST /api/v1/tokens → the secret, shown once.
func (h adminHandlers) createToken(c *gin.Context) {
	var b tokenBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.s.log, err)
		return
	}
	ttl := 720 * time.Hour
	if b.TTL != "" {
		d, err := time.ParseDuration(b.TTL)
		if err != nil {
			fail(c, h.s.log, wangge.Invalid("ttl", "a duration such as 720h, got %q", b.TTL))
			return
		}
		ttl = d
	}
	secret, cred, err := h.store.IssueToken(c.Request.Context(), scope(c), b.User, ttl, b.Label)
	if err != nil {
		fail(c, h.s.log, err)
		return
	}
	setTarget(c, "credential "+strconv.FormatInt(cred.ID, 10))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"token": secret, "credential": cred})
}

func (h adminHandlers) revoke(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.s.log, err)
		return
	}
	if err := h.store.RevokeToken(c.Request.Context(), scope(c), id); err != nil {
		fail(c, h.s.log, err)
		return
	}
	h.s.cache.Invalidate("credential:" + strconv.FormatInt(id, 10))
	c.Status(http.StatusNoContent)
}

// auditLog: GET /api/v1/audit?actor=&target=&action=&since=&until=&before=&limit=
func auditLog(c *gin.Context, s *Server, r AuditReader) {
	q := postgis.AuditQuery{Scope: scope(c), Actor: c.Query("actor"), Target: c.Query("target"), Action: c.Query("action")}
	var err error
	for _, f := range []struct {
		name string
		into *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := c.Query(f.name); v != "" {
			if *f.into, err = time.Parse(time.RFC3339, v); err != nil {
				fail(c, s.log, wangge.Invalid(f.name, "an RFC 3339 time, got %q", v))
				return
			}
		}
	}
	for _, f := range []struct {
		name string
		into *int64
	}{{"before", &q.Before}} {
		if v := c.Query(f.name); v != "" {
			if *f.into, err = strconv.ParseInt(v, 10, 64); err != nil || *f.into < 0 {
				fail(c, s.log, wangge.Invalid(f.name, "a row id, got %q", v))
				return
			}
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(c, s.log, wangge.Invalid("limit", "1–1000, got %q", v))
			return
		}
		q.Limit = n
	}
	rows, err := r.AuditLog(c.Request.Context(), q)
	if err != nil {
		fail(c, s.log, err)
		return
	}
	out := gin.H{"entries": rows}
	if len(rows) > 0 && (q.Limit == 0 || len(rows) == q.Limit) {
		out["next_before"] = rows[len(rows)-1].ID
	}
	c.JSON(http.StatusOK, out)
}
