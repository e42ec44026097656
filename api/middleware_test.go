package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
)

// upHealth is a fake store that is always ready; the real database path
// is tested end to end in cmd/wangge.
type upHealth struct{}

func (upHealth) Ping(context.Context) error                { return nil }
func (upHealth) Pending(context.Context) ([]string, error) { return nil, nil }

// The test routes below are public in the policy, so the middleware under
// test sees them as any public route.
func init() {
	for _, k := range []string{"POST /echo", "GET /panic", "GET /fail/:kind"} {
		routes[k] = open(wangge.PermPublic)
	}
}

func testServer(t *testing.T) *Server {
	t.Helper()
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: upHealth{}, MaxBodyBytes: 1024})
	s.router.POST("/echo", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			abortJSON(c, http.StatusRequestEntityTooLarge, "too_large", err.Error())
			return
		}
		c.String(http.StatusOK, "%d", len(b))
	})
	s.router.GET("/panic", func(c *gin.Context) { panic("boom") })
	s.router.GET("/fail/:kind", func(c *gin.Context) {
		errs := map[string]error{
			"invalid":     wangge.Invalid("lon", "must be within [-180, 180]"),
			"notfound":    wangge.ErrNotFound,
			"stale":       wangge.ErrStale,
			"unavailable": wangge.ErrUnavailable,
			"other":       io.ErrUnexpectedEOF,
		}
		fail(c, s.log, errs[c.Param("kind")])
	})
	s.resolveRoutes() // routes added after New, as the server indexes its own
	return s
}

func do(t *testing.T, s *Server, req *http.Request) (*httptest.ResponseRecorder, errorBody) {
	t.Helper()
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	var eb errorBody
	_ = json.Unmarshal(w.Body.Bytes(), &eb)
	return w, eb
}

func TestMiddleware(t *testing.T) {
	s := testServer(t)
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantError  string // substring of the JSON error; "" for success
	}{
		{"body within limit", httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("a", 1000))), 200, ""},
		{"declared body over limit", httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("a", 2000))), 413, "exceeds the limit"},
		{"panic becomes 500", httptest.NewRequest("GET", "/panic", nil), 500, "internal error"},
		{"NUL in the query", httptest.NewRequest("GET", "/fail/invalid?q=%00", nil), 400, "NUL byte"},
		{"invalid UTF-8 in the query", httptest.NewRequest("GET", "/fail/invalid?q=%FF%FE", nil), 400, "not valid UTF-8"},
		{"invalid UTF-8 in a key", httptest.NewRequest("GET", "/fail/invalid?%FF=1", nil), 400, "not valid UTF-8"},
		{"NUL in the path", httptest.NewRequest("GET", "/fail/a%00b", nil), 400, "NUL byte"},
		{"malformed query", httptest.NewRequest("GET", "/fail/invalid?q=%zz", nil), 400, "malformed query"},
		{"invalid input is 400 with the reason", httptest.NewRequest("GET", "/fail/invalid", nil), 400, "lon: must be within [-180, 180]"},
		{"not found is 404", httptest.NewRequest("GET", "/fail/notfound", nil), 404, "not found"},
		{"stale version is 412", httptest.NewRequest("GET", "/fail/stale", nil), 412, "stale"},
		{"unavailable is 503 without detail", httptest.NewRequest("GET", "/fail/unavailable", nil), 503, "temporarily unavailable"},
		{"unknown error is 500 without detail", httptest.NewRequest("GET", "/fail/other", nil), 500, "internal error"},
		{"unknown route is 404 JSON", httptest.NewRequest("GET", "/nowhere", nil), 404, "no such route"},
		{"wrong method is 405 JSON", httptest.NewRequest("DELETE", "/healthz", nil), 405, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, eb := do(t, s, tt.req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantError != "" && !strings.Contains(eb.Error, tt.wantError) {
				t.Fatalf("error %q, want it to contain %q", eb.Error, tt.wantError)
			}
			if tt.wantError != "" && eb.RequestID == "" {
				t.Fatal("error body has no request_id")
			}
		})
	}
}

func TestChunkedBodyOverLimit(t *testing.T) {
	s := testServer(t)
	req := httptest.NewRequest("POST", "/echo", io.MultiReader(strings.NewReader(strings.Repeat("b", 4096))))
	req.ContentLength = -1 // unknown length: the limit must still hold while reading
	w, _ := do(t, s, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
}

func TestRequestID(t *testing.T) {
	s := testServer(t)
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", "lb-123.abc")
	w, _ := do(t, s, req)
	if got := w.Header().Get("X-Request-ID"); got != "lb-123.abc" {
		t.Fatalf("X-Request-ID %q, want the caller's id kept", got)
	}
	req = httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", "<script>")
	w, _ = do(t, s, req)
	if got := w.Header().Get("X-Request-ID"); got == "<script>" || len(got) != 16 {
		t.Fatalf("X-Request-ID %q, want a fresh id instead of an unsafe one", got)
	}
}

// TestRouteWithoutPolicyIsRefused: a route the policy table does not name
// is a programming error caught when the server is built, not an open door.
func TestRouteWithoutPolicyIsRefused(t *testing.T) {
	s := testServer(t)
	if err := s.checkPolicy(); err != nil {
		t.Fatalf("the test server's own routes: %v", err)
	}
	s.router.GET("/api/v1/forgotten", func(c *gin.Context) { c.String(http.StatusOK, "secret") })
	err := s.checkPolicy()
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/forgotten") {
		t.Fatalf("a route without a policy entry passed the check: %v", err)
	}
	// And were it served anyway, the middleware refuses it.
	w, eb := do(t, s, httptest.NewRequest("GET", "/api/v1/forgotten", nil))
	if w.Code != http.StatusForbidden || eb.Code != "forbidden" {
		t.Fatalf("unlisted route answered %d %q", w.Code, w.Body)
	}
}
