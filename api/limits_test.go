package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
)

func init() { routes["GET /wait"] = open(wangge.PermPublic) }

func TestLimitsPerClientAndDeadline(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: upHealth{}, MaxBodyBytes: 1024,
		Limits: Limits{ClassPublic: {Rate: 1, Burst: 2, Deadline: 50 * time.Millisecond}}})
	s.router.GET("/wait", func(c *gin.Context) {
		<-c.Request.Context().Done()
		abortJSON(c, http.StatusServiceUnavailable, "timeout", "deadline passed")
	})
	s.resolveRoutes()
	from := func(ip string) *http.Request {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.RemoteAddr = ip + ":5000"
		return r
	}
	for i := 0; i < 2; i++ {
		if w, _ := do(t, s, from("10.0.0.1")); w.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	w, eb := do(t, s, from("10.0.0.1"))
	if w.Code != http.StatusTooManyRequests || eb.Code != "rate_limited" || w.Header().Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d %q Retry-After %q", w.Code, eb.Code, w.Header().Get("Retry-After"))
	}
	if w, _ := do(t, s, from("10.0.0.2")); w.Code != 200 {
		t.Fatalf("another client was limited too: %d", w.Code)
	}
	start := time.Now()
	r := httptest.NewRequest("GET", "/wait", nil)
	r.RemoteAddr = "10.0.0.3:5000"
	if w, _ := do(t, s, r); w.Code != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
		t.Fatalf("deadline: %d after %v", w.Code, time.Since(start))
	}
}

func TestLimiterConcurrency(t *testing.T) {
	l := newLimiter(Limits{ClassRead: {Concurrent: 2}})
	now := time.Now()
	r1, _, ok1 := l.acquire("k", ClassRead, now)
	_, _, ok2 := l.acquire("k", ClassRead, now)
	_, wait, ok3 := l.acquire("k", ClassRead, now)
	if !ok1 || !ok2 || ok3 || wait <= 0 {
		t.Fatalf("two in flight allowed, the third refused: %v %v %v (wait %v)", ok1, ok2, ok3, wait)
	}
	r1()
	if _, _, ok := l.acquire("k", ClassRead, now); !ok {
		t.Fatal("a released slot was not given back")
	}
	if _, _, ok := l.acquire("other", ClassRead, now); !ok {
		t.Fatal("another principal shares the first one's slots")
	}
}

func TestRouteClasses(t *testing.T) {
	for key, want := range map[string]Class{
		"GET /tiles/:source/:z/:x/:y": ClassTiles, "GET /tiles/:source": ClassRead, "POST /api/v1/events": ClassIntake,
		"PUT /api/v1/units/:id/position": ClassIntake, "GET /api/v1/stream": ClassStream, "GET /healthz": ClassPublic,
		"GET /api/v1/search": ClassRead, "POST /api/v1/plans": ClassWrite, "POST /api/v1/session": ClassPublic,
	} {
		m, p, _ := strings.Cut(key, " ")
		if got := classOf(m, p, routes[key]); got != want {
			t.Errorf("%s: class %s, want %s", key, got, want)
		}
	}
}
