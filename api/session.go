package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// whoAmI is GET /api/v1/session: the caller and what the policy lets it do.
type whoAmI struct {
	Name        string              `json:"name"`
	Role        wangge.Role         `json:"role"`
	Region      string              `json:"region"` // "" the whole city
	UnitID      *int64              `json:"unit_id,omitempty"`
	Permissions []wangge.Permission `json:"permissions"`
	ExpiresAt   *time.Time          `json:"expires_at,omitempty"`
}

func whoAmIOf(p wangge.Principal) whoAmI {
	return whoAmI{Name: p.Name, Role: p.Role, Region: p.Region, UnitID: p.UnitID, Permissions: wangge.Permissions(p.Role)}
}

type loginBody struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) routeSession() {
	v1 := s.router.Group("/api/v1")
	v1.POST("/session", s.login)
	v1.GET("/session", func(c *gin.Context) { c.JSON(http.StatusOK, whoAmIOf(principal(c))) })
	v1.DELETE("/session", s.logout)
}

// login: POST /api/v1/session {name, password} → a session cookie
// (HttpOnly, SameSite=Strict, Secure under TLS). Failures are one answer
// whatever failed, and throttled per name and per client.
func (s *Server) login(c *gin.Context) {
	if c.ContentType() != "application/json" {
		abortJSON(c, http.StatusUnsupportedMediaType, "invalid", "send the login as application/json")
		return
	}
	var b loginBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, s.log, err)
		return
	}
	if len(b.Name) > 64 || len(b.Password) > wangge.MaxPasswordBytes {
		abortJSON(c, http.StatusBadRequest, "invalid", "name or password too long")
		return
	}
	c.Set(loginNameKey, b.Name)
	ip, now := c.ClientIP(), time.Now()
	if wait := s.throttle.Wait(b.Name, ip, now); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		abortJSON(c, http.StatusTooManyRequests, "too_many_attempts", "too many failed logins; try again later")
		return
	}
	p, err := s.access.Credentials.Login(c.Request.Context(), b.Name, b.Password)
	if errors.Is(err, wangge.ErrForbidden) {
		s.throttle.Failed(b.Name, ip, now)
		abortJSON(c, http.StatusUnauthorized, "unauthorized", "wrong name or password")
		return
	} else if err != nil {
		fail(c, s.log, err)
		return
	}
	s.throttle.Succeeded(b.Name)
	p, expires, ok := s.startSession(c, p, "login from "+ip)
	if !ok {
		return
	}
	who := whoAmIOf(p)
	who.ExpiresAt = &expires
	c.JSON(http.StatusCreated, who)
}

// startSession issues a session for p, sets its cookie and makes p the
// request's principal (the audit row names it); false: answered already.
func (s *Server) startSession(c *gin.Context, p wangge.Principal, label string) (wangge.Principal, time.Time, bool) {
	secret, cred, err := s.access.Credentials.IssueCredential(c.Request.Context(), p.UserID, postgis.KindSession, s.sessionTTL(), label)
	if err != nil {
		fail(c, s.log, err)
		return p, time.Time{}, false
	}
	p.CredentialID = cred.ID
	c.Set(principalKey, p)
	setTarget(c, "user "+p.Name)
	s.setSessionCookie(c, secret, int(s.sessionTTL().Seconds()))
	return p, cred.ExpiresAt, true
}

func (s *Server) sessionTTL() time.Duration {
	if s.access.SessionTTL > 0 {
		return s.access.SessionTTL
	}
	return 12 * time.Hour
}

func (s *Server) setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// logout: DELETE /api/v1/session revokes the credential used (a session,
// or the bearer token itself) and clears the cookie.
func (s *Server) logout(c *gin.Context) {
	p := principal(c)
	if err := s.access.Credentials.RevokeCredential(c.Request.Context(), p.CredentialID); err != nil {
		fail(c, s.log, err)
		return
	}
	s.cache.Invalidate("credential:" + strconv.FormatInt(p.CredentialID, 10))
	setTarget(c, "credential "+strconv.FormatInt(p.CredentialID, 10))
	s.setSessionCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}
