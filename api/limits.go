package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/wangge/wangge"
)

// Class groups routes that share a deadline and per-principal limits
// (issue #18): cheap cached tiles, reads, intake (incidents, alarms, unit
// positions: what must never starve), other writes, the live stream and
// the public routes.
type Class string

const (
	ClassPublic Class = "public"
	ClassTiles  Class = "tiles"
	ClassRead   Class = "read"
	ClassIntake Class = "intake"
	ClassWrite  Class = "write"
	ClassStream Class = "stream"
)

// ClassLimits bounds one class per credential (a session or token: each
// screen of a command centre has its own, even under one account), else
// per client address.
type ClassLimits struct {
	Deadline   time.Duration // request deadline; 0: none (the stream)
	Rate       float64       // requests per second; 0: unlimited
	Burst      int           // requests allowed at once above the rate
	Concurrent int           // requests in flight; 0: unlimited
}

// Limits are the classes' limits; a class without an entry is unlimited.
type Limits map[Class]ClassLimits

// DefaultLimits fit a wall (a city view asks for ~100 tiles at once, then
// pans), a hotline desk and a sensor hub, while one client cannot hold the
// database: reads of seconds are bounded by deadline and by how many one
// principal may run at once.
func DefaultLimits() Limits {
	return Limits{
		ClassPublic: {Deadline: 5 * time.Second},
		ClassTiles:  {Deadline: 10 * time.Second, Rate: 400, Burst: 800, Concurrent: 32},
		ClassRead:   {Deadline: 15 * time.Second, Rate: 30, Burst: 100, Concurrent: 8},
		ClassIntake: {Deadline: 10 * time.Second, Rate: 100, Burst: 200, Concurrent: 32},
		ClassWrite:  {Deadline: 30 * time.Second, Rate: 5, Burst: 20, Concurrent: 2},
		ClassStream: {Rate: 1, Burst: 5, Concurrent: 8},
	}
}

var intakeRoutes = map[string]bool{
	"POST /api/v1/events": true, "POST /api/v1/alarms": true, "PUT /api/v1/units/:id/position": true,
	"PUT /api/v1/units/:id/status": true, "POST /open311/v2/:doc": true,
}

// classOf puts a route in its class.
func classOf(method, path string, r rule) Class {
	key := routeKey(method, path)
	switch {
	case intakeRoutes[key]:
		return ClassIntake
	case key == "GET /api/v1/stream":
		return ClassStream
	case r.perm == wangge.PermPublic:
		return ClassPublic
	case strings.HasPrefix(path, "/tiles/") && strings.Count(path, "/") == 5:
		return ClassTiles
	case method == http.MethodGet || method == http.MethodHead:
		return ClassRead
	}
	return ClassWrite
}

// limiter holds each principal's token buckets and in-flight counts.
type limiter struct {
	limits Limits
	mu     sync.Mutex
	keys   map[string]*principalLimits
}

type principalLimits struct {
	buckets  map[Class]*rate.Limiter
	inflight map[Class]int
	seen     time.Time
}

func newLimiter(l Limits) *limiter { return &limiter{limits: l, keys: map[string]*principalLimits{}} }

// maxLimited bounds the table; idle principals are swept past it.
const maxLimited = 50_000

// acquire takes a request of class for key: ok, or how long to wait.
func (l *limiter) acquire(key string, class Class, now time.Time) (release func(), wait time.Duration, ok bool) {
	cl, limited := l.limits[class]
	if !limited || cl.Rate == 0 && cl.Concurrent == 0 {
		return func() {}, 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.keys[key]
	if p == nil {
		if len(l.keys) >= maxLimited {
			l.sweep(now)
		}
		p = &principalLimits{buckets: map[Class]*rate.Limiter{}, inflight: map[Class]int{}}
		l.keys[key] = p
	}
	p.seen = now
	if cl.Concurrent > 0 && p.inflight[class] >= cl.Concurrent {
		return nil, time.Second, false
	}
	if cl.Rate > 0 {
		b := p.buckets[class]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(cl.Rate), max(cl.Burst, 1))
			p.buckets[class] = b
		}
		r := b.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, d, false
		}
	}
	p.inflight[class]++
	return func() {
		l.mu.Lock()
		p.inflight[class]--
		l.mu.Unlock()
	}, 0, true
}

func (l *limiter) sweep(now time.Time) {
	for k, p := range l.keys {
		idle := true
		for _, n := range p.inflight {
			idle = idle && n == 0
		}
		if idle && now.Sub(p.seen) > time.Minute {
			delete(l.keys, k)
		}
	}
}

// limit applies the class's deadline and the caller's limits: over them,
// 429 with Retry-After, before any work is done.
func (s *Server) limit() gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := s.rules[routeID{c.Request.Method, c.FullPath()}]
		if !ok || s.limiter == nil {
			c.Next()
			return
		}
		class := r.class
		p := principal(c)
		key := "ip:" + c.ClientIP()
		if p.Role != wangge.RoleAnonymous {
			key = "cred:" + strconv.FormatInt(p.CredentialID, 10)
		}
		release, wait, ok := s.limiter.acquire(key, class, time.Now())
		if !ok {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			abortJSON(c, http.StatusTooManyRequests, "rate_limited", "too many "+string(class)+" requests from "+p.Actor()+"; retry later")
			return
		}
		defer release()
		if d := s.limiter.limits[class].Deadline; d > 0 {
			ctx, cancel := context.WithTimeout(c.Request.Context(), d)
			defer cancel()
			c.Request = c.Request.WithContext(ctx)
		}
		c.Next()
	}
}
