package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// CredentialStore checks and issues credentials (postgis.DB).
type CredentialStore interface {
	Authenticate(ctx context.Context, secret string) (wangge.Principal, time.Time, error)
	Login(ctx context.Context, name, password string) (wangge.Principal, error)
	IssueCredential(ctx context.Context, userID int64, kind string, ttl time.Duration, label string) (string, postgis.Credential, error)
	RevokeCredential(ctx context.Context, id int64) error
}

// Auditor appends to the audit log and returns once the row is committed
// (postgis.AuditWriter).
type Auditor interface {
	Append(ctx context.Context, r postgis.AuditRecord) error
}

// Access is who may call: credentials, the audit log and the browser and
// network rules. Without it every route but the public ones answers 401.
type Access struct {
	Credentials CredentialStore
	Audit       Auditor
	Cache       *PrincipalCache // nil: a fresh cache
	SessionTTL  time.Duration   // 0: 12 h
	// AllowedHosts are the Host headers served (host or host:port); empty:
	// any (tests). `wangge serve` fills it with its listen address.
	AllowedHosts []string
	// CORSOrigins may call the API from a browser on another origin; empty:
	// none (no CORS headers at all).
	CORSOrigins []string
	// Open311Public keeps Open311 discovery and the service list open to
	// anonymous callers, as GeoReport clients expect.
	Open311Public bool
	Throttle      *LoginThrottle // nil: 5 failures per name, 20 per client, per 15 min
	Admin         AdminStore     // nil: no /users, /tokens
	AuditLog      AuditReader    // nil: no /audit
	OIDC          *OIDC          // nil: no single sign-on
}

const sessionCookie = "wangge_session"

const principalKey = "principal"

// principal is the caller of the request (Anonymous when none).
func principal(c *gin.Context) wangge.Principal {
	if p, ok := c.Get(principalKey); ok {
		return p.(wangge.Principal)
	}
	return wangge.Anonymous()
}

// scope is the caller's jurisdiction, the first argument of every store call.
func scope(c *gin.Context) wangge.Scope { return principal(c).Scope() }

// authorize turns the credential into a principal and applies the route's
// rule: no credential 401, a role without the permission 403. Reads outside
// the jurisdiction are the store's to refuse (404).
func (s *Server) authorize() gin.HandlerFunc {
	return func(c *gin.Context) {
		path := c.FullPath()
		if path == "" { // no route: NoRoute answers 404
			c.Next()
			return
		}
		r, ok := s.rules[routeID{c.Request.Method, path}]
		if !ok { // cannot happen after checkPolicy; closed all the same
			abortJSON(c, http.StatusForbidden, "forbidden", "no policy for this route")
			return
		}
		perm := r.permOf(c)
		p, err := s.authenticate(c)
		if errors.Is(err, wangge.ErrUnavailable) {
			c.Header("Retry-After", "5")
			abortJSON(c, http.StatusServiceUnavailable, "unavailable", "credentials cannot be checked now; retry")
			return
		}
		if err != nil && wangge.May(wangge.RoleAnonymous, perm, s.access.Open311Public) {
			p, err = wangge.Anonymous(), nil // a public route answers whatever credential came along
		}
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="wangge"`)
			abortJSON(c, http.StatusUnauthorized, "unauthorized", err.Error())
			return
		}
		c.Set(principalKey, p)
		switch {
		case wangge.May(p.Role, perm, s.access.Open311Public):
		case p.Role == wangge.RoleAnonymous:
			c.Header("WWW-Authenticate", `Bearer realm="wangge"`)
			abortJSON(c, http.StatusUnauthorized, "unauthorized", "log in or send a bearer token")
			return
		default:
			abortJSON(c, http.StatusForbidden, "forbidden", "the role "+string(p.Role)+" may not "+string(perm))
			return
		}
		if err := s.checkOrigin(c); err != nil {
			abortJSON(c, http.StatusForbidden, "forbidden_origin", err.Error())
			return
		}
		if r.audit == auditAlways || r.audit == auditIfPII && p.Can(r.pii) {
			s.audited(c, p, string(perm))
			return
		}
		c.Next()
	}
}

var (
	errMalformed = errors.New("malformed credential")
	errTooLong   = errors.New("credential too long")
)

// credential is the secret a request presents: a bearer token, else the
// session cookie; ok is false when it presents none.
func credential(c *gin.Context) (secret string, cookie bool, err error) {
	if h := c.GetHeader("Authorization"); h != "" {
		if len(h) > 16+wangge.MaxSecretBytes {
			return "", false, errTooLong
		}
		scheme, tok, found := strings.Cut(h, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || !wangge.WellFormedSecret(strings.TrimSpace(tok)) {
			return "", false, errMalformed
		}
		return strings.TrimSpace(tok), false, nil
	}
	if key, ok := open311Key(c); ok {
		if !wangge.WellFormedSecret(key) {
			return "", false, errMalformed
		}
		return key, false, nil
	}
	v, err := c.Cookie(sessionCookie)
	if err != nil || v == "" {
		return "", false, nil
	}
	if len(v) > wangge.MaxSecretBytes {
		return "", true, errTooLong
	}
	if !wangge.WellFormedSecret(v) {
		return "", true, errMalformed
	}
	return v, true, nil
}

// authenticate answers the principal of the request, through the cache.
// A cookie that no longer works is dropped silently to anonymous, so a
// login page can load after a session expired; a bad bearer token is an
// error (a program should learn its token is wrong).
func (s *Server) authenticate(c *gin.Context) (wangge.Principal, error) {
	secret, cookie, err := credential(c)
	switch {
	case err != nil && cookie:
		return wangge.Anonymous(), nil
	case err != nil:
		return wangge.Principal{}, err
	case secret == "":
		return wangge.Anonymous(), nil
	}
	if s.access.Credentials == nil {
		return wangge.Principal{}, errors.New("no credential store configured")
	}
	p, err := s.cache.Get(c.Request.Context(), secret, s.access.Credentials)
	if err != nil {
		if cookie && errors.Is(err, wangge.ErrForbidden) {
			return wangge.Anonymous(), nil
		}
		if errors.Is(err, wangge.ErrForbidden) {
			return wangge.Principal{}, errors.New(strings.TrimSuffix(err.Error(), ": "+wangge.ErrForbidden.Error()))
		}
		return wangge.Principal{}, fmt.Errorf("credentials cannot be checked now: %w", wangge.ErrUnavailable)
	}
	c.Set(cookieAuthKey, cookie)
	return p, nil
}

const cookieAuthKey = "cookie_auth"

// open311Key is GeoReport's api_key form field of a submission (POST
// requests.json|xml), which carries a gateway's token as a bearer header
// would: GeoReport clients cannot set headers. Elsewhere it is not read. A
// form that does not parse presents no key (the handler answers why).
func open311Key(c *gin.Context) (string, bool) {
	if c.Request.Method != http.MethodPost || c.FullPath() != "/open311/v2/:doc" ||
		!strings.HasPrefix(c.Param("doc"), "requests") {
		return "", false
	}
	if err := c.Request.ParseForm(); err != nil {
		return "", false
	}
	key := c.Request.PostForm.Get("api_key")
	return key, key != ""
}
