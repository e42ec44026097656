package api

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows our own scripts, styles and tiles only.
// MapLibre runs its workers from blob: URLs and draws glyph-less canvases;
// inline styles are MapLibre's own positioning of markers and popups.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src blob:; " +
	"img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; font-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// hygiene refuses other Host headers (DNS rebinding), sets the security
// headers on every answer and answers CORS only for configured origins.
func (s *Server) hygiene() gin.HandlerFunc {
	hosts := s.access.AllowedHosts
	cors := s.access.CORSOrigins
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		if len(hosts) > 0 && !hostAllowed(c.Request.Host, hosts) {
			abortJSON(c, http.StatusMisdirectedRequest, "bad_host", "this server does not answer for host "+quoteShort(c.Request.Host))
			return
		}
		if o := c.GetHeader("Origin"); o != "" && slices.Contains(cors, o) {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			if c.Request.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, If-Match, Last-Event-ID")
				c.AbortWithStatus(http.StatusNoContent)
				return
			}
		}
		c.Next()
	}
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// hostAllowed matches host[:port] against the list; an entry without a
// port matches any port.
func hostAllowed(host string, allowed []string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, a := range allowed {
		if strings.EqualFold(a, host) || !strings.Contains(strings.TrimPrefix(strings.TrimSuffix(a, "]"), "["), ":") && strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// DefaultAllowedHosts is the Host allow-list for a listen address: the
// address itself and localhost on its port.
func DefaultAllowedHosts(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{addr}
	}
	out := []string{net.JoinHostPort(host, port), net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port),
		net.JoinHostPort("::1", port)}
	if host == "" || host == "0.0.0.0" || host == "::" {
		return nil // listening everywhere: the operator names the hosts (-allowed-hosts)
	}
	return out
}

var (
	errNotJSON   = errors.New("a write with a session cookie must send Content-Type: application/json")
	errNoOrigin  = errors.New("a write with a session cookie must come from this site (Origin header missing)")
	errBadOrigin = errors.New("a write with a session cookie must come from this site (Origin does not match)")
	safeMethods  = []string{http.MethodGet, http.MethodHead, http.MethodOptions}
)

// checkOrigin guards cookie-authenticated writes against cross-site
// requests: SameSite=Strict already keeps the cookie off them in current
// browsers; JSON and a same-origin Origin also stop older ones and forms.
// Bearer tokens are not sent by browsers on their own, so they need neither.
func (s *Server) checkOrigin(c *gin.Context) error {
	if slices.Contains(safeMethods, c.Request.Method) || !c.GetBool(cookieAuthKey) {
		return nil
	}
	if ct := c.ContentType(); ct != "application/json" && c.Request.ContentLength != 0 {
		return errNotJSON
	}
	o := c.GetHeader("Origin")
	if o == "" {
		return errNoOrigin
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Host, c.Request.Host) && !slices.Contains(s.access.CORSOrigins, o) {
		return errBadOrigin
	}
	return nil
}

// cleanText refuses a NUL byte or invalid UTF-8 in the path or the query,
// whatever the route: PostgreSQL text cannot hold NUL, and such input is
// never a real client's (before, `/search?q=%00` answered 500).
func cleanText() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := badText("path", c.Request.URL.Path); err != nil {
			abortJSON(c, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		if raw := c.Request.URL.RawQuery; raw != "" && needsDecoding(raw) {
			q, err := url.ParseQuery(raw)
			if err != nil {
				abortJSON(c, http.StatusBadRequest, "invalid", "malformed query string: "+quoteShort(c.Request.URL.RawQuery))
				return
			}
			for k, vs := range q {
				for _, v := range append(vs, k) {
					if err := badText("query parameter "+quoteShort(k), v); err != nil {
						abortJSON(c, http.StatusBadRequest, "invalid", err.Error())
						return
					}
				}
			}
		}
		c.Next()
	}
}

// needsDecoding tells whether a raw query could hide a NUL or invalid
// UTF-8: only escapes and bytes outside ASCII can. Tiles carry `?v=123`,
// which is then not parsed a second time on the hottest path.
func needsDecoding(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '%' || c >= 0x80 || c == 0 {
			return true
		}
	}
	return false
}

func badText(what, s string) error {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return errors.New(what + " contains a NUL byte")
	case !utf8.ValidString(s):
		return errors.New(what + " is not valid UTF-8")
	}
	return nil
}
