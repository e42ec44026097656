package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// SSOUsers provisions accounts from an identity platform (postgis.DB).
type SSOUsers interface {
	ProvisionSSOUser(ctx context.Context, subject string, n postgis.NewUser) (wangge.Principal, error)
}

// OIDC is an optional OpenID Connect login (authorization code flow with
// PKCE) for cities with a unified identity platform. The role, region and
// unit come from claims of the ID token.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string // "": this server's /api/v1/session/oidc/callback
	RoleClaim    string // "": wangge_role
	RegionClaim  string // "": wangge_region
	UnitClaim    string // "": wangge_unit
	Users        SSOUsers
	HTTP         *http.Client // nil: 10 s timeout client

	mu       sync.Mutex
	provider *oidcProvider
	fetched  time.Time
}

type oidcProvider struct {
	Issuer   string `json:"issuer"`
	AuthURL  string `json:"authorization_endpoint"`
	TokenURL string `json:"token_endpoint"`
	JWKSURL  string `json:"jwks_uri"`
	keys     []jwk
}

const oidcCookie = "wangge_oidc"

func (o *OIDC) client() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (o *OIDC) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := o.client().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", u, res.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v)
}

// discover reads the issuer's metadata and keys, cached for an hour;
// refresh forces it (an unknown key id: the issuer rotated its keys).
func (o *OIDC) discover(ctx context.Context, refresh bool) (*oidcProvider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil && !refresh && time.Since(o.fetched) < time.Hour {
		return o.provider, nil
	}
	var p oidcProvider
	if err := o.getJSON(ctx, strings.TrimSuffix(o.Issuer, "/")+"/.well-known/openid-configuration", &p); err != nil {
		return nil, fmt.Errorf("oidc discovery: %w", err)
	}
	if p.Issuer != o.Issuer {
		return nil, fmt.Errorf("oidc discovery: issuer %q does not match %q", p.Issuer, o.Issuer)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := o.getJSON(ctx, p.JWKSURL, &set); err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	p.keys = set.Keys
	o.provider, o.fetched = &p, time.Now()
	return &p, nil
}

func (s *Server) routeOIDC(o *OIDC) {
	v1 := s.router.Group("/api/v1")
	v1.GET("/session/oidc", func(c *gin.Context) { s.oidcStart(c, o) })
	v1.GET("/session/oidc/callback", func(c *gin.Context) { s.oidcCallback(c, o) })
}

func randomURLSafe(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (o *OIDC) redirectURL(c *gin.Context) string {
	if o.RedirectURL != "" {
		return o.RedirectURL
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + "/api/v1/session/oidc/callback"
}

// oidcStart sends the browser to the identity platform with a fresh state,
// nonce and PKCE verifier, kept in a short-lived HttpOnly cookie.
func (s *Server) oidcStart(c *gin.Context, o *OIDC) {
	p, err := o.discover(c.Request.Context(), false)
	if err != nil {
		s.log.Warn("oidc unavailable", "err", err)
		abortJSON(c, http.StatusServiceUnavailable, "unavailable", "the identity platform cannot be reached")
		return
	}
	state, nonce, verifier := randomURLSafe(24), randomURLSafe(24), randomURLSafe(48)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {o.ClientID}, "redirect_uri": {o.redirectURL(c)},
		"scope": {"openid profile"}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	// Lax, not Strict: the identity platform's redirect back is a
	// cross-site top-level navigation, which Strict would strip.
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier,
		Path: "/api/v1/session/oidc", MaxAge: 600, HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
	sep := "?"
	if strings.Contains(p.AuthURL, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusFound, p.AuthURL+sep+q.Encode())
}

var ssoName = regexp.MustCompile(`[^A-Za-z0-9._@-]`)

// oidcCallback checks the state, exchanges the code, verifies the ID token,
// maps its claims to an account and starts a session.
func (s *Server) oidcCallback(c *gin.Context, o *OIDC) {
	ck, _ := c.Cookie(oidcCookie)
	parts := strings.Split(ck, ".")
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: "", Path: "/api/v1/session/oidc", MaxAge: -1, HttpOnly: true})
	if e := c.Query("error"); e != "" {
		abortJSON(c, http.StatusUnauthorized, "unauthorized", "the identity platform refused the login: "+quoteShort(e))
		return
	}
	if len(parts) != 3 || c.Query("state") == "" || c.Query("state") != parts[0] {
		abortJSON(c, http.StatusUnauthorized, "unauthorized", "login state missing or does not match; start again")
		return
	}
	claims, err := o.exchange(c, parts[1], parts[2])
	if err != nil {
		abortJSON(c, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	role, err := wangge.ParseRole(claims.claim(o.claimName(o.RoleClaim, "wangge_role")))
	if err != nil {
		abortJSON(c, http.StatusForbidden, "forbidden", "the identity platform gives this account no wangge role")
		return
	}
	n := postgis.NewUser{Role: role, Region: claims.claim(o.claimName(o.RegionClaim, "wangge_region"))}
	if u := claims.claim(o.claimName(o.UnitClaim, "wangge_unit")); u != "" {
		id, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			abortJSON(c, http.StatusForbidden, "forbidden", "the unit claim is not a unit id")
			return
		}
		n.UnitID = &id
	}
	base := claims.Username
	if base == "" {
		base = claims.Sub
	}
	n.Name = "sso." + ssoName.ReplaceAllString(base, "_")
	if len(n.Name) > 64 {
		n.Name = n.Name[:64]
	}
	c.Set(loginNameKey, n.Name)
	p, err := o.Users.ProvisionSSOUser(c.Request.Context(), claims.Iss+"#"+claims.Sub, n)
	if err != nil {
		fail(c, s.log, err)
		return
	}
	if _, _, ok := s.startSession(c, p, "oidc login"); ok {
		c.Redirect(http.StatusSeeOther, "/")
	}
}

func (o *OIDC) claimName(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// exchange trades the code for tokens and verifies the ID token.
func (o *OIDC) exchange(c *gin.Context, nonce, verifier string) (idClaims, error) {
	ctx := c.Request.Context()
	p, err := o.discover(ctx, false)
	if err != nil {
		return idClaims{}, errors.New("the identity platform cannot be reached")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {c.Query("code")},
		"redirect_uri": {o.redirectURL(c)}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return idClaims{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
	res, err := o.client().Do(req)
	if err != nil {
		return idClaims{}, errors.New("the identity platform's token endpoint cannot be reached")
	}
	defer res.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&tok); err != nil || res.StatusCode != http.StatusOK || tok.IDToken == "" {
		return idClaims{}, fmt.Errorf("the code was not accepted by the identity platform (%d %s)", res.StatusCode, quoteShort(tok.Error))
	}
	claims, err := verifyIDToken(tok.IDToken, p.keys, o.Issuer, o.ClientID, nonce, time.Now())
	if err != nil && strings.Contains(err.Error(), "signature") {
		// The platform may have rotated its keys since we fetched them.
		if p, err2 := o.discover(ctx, true); err2 == nil {
			claims, err = verifyIDToken(tok.IDToken, p.keys, o.Issuer, o.ClientID, nonce, time.Now())
		}
	}
	return claims, err
}
