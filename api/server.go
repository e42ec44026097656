package api

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge/tiles"
)

// Deps is everything the HTTP layer needs, as small interfaces.
type Deps struct {
	Log          *slog.Logger
	Health       Health
	MaxBodyBytes int64
	Version      string
	Tiles        *tiles.Service // nil: no tile routes
	Responders   *Responders    // nil: no responder/unit routes
	Query        *Query         // nil: no locate/regions/stats/features/search routes
	Events       *Events        // nil: no event/alarm routes
	Stream       *Stream        // nil: no live stream
	Plans        *Plans         // nil: no grid plan/history routes
	Static       fs.FS          // the front end served at /; nil: none
	Open311      *Open311       // nil: no /open311/v2 gateway
	// Metrics is the replica's Prometheus registry, served at /metrics
	// (admin); nil: no metrics.
	Metrics *Metrics
	// Limits are the per-class deadlines and per-principal limits; nil:
	// none (tests and benchmarks that measure the server, not the guard).
	Limits Limits
	// Access is who may call (credentials, audit, host and origin rules).
	// nil: only public routes answer; every other one is 401.
	Access *Access
}

// Server holds the router and its dependencies.
type Server struct {
	log     *slog.Logger
	health  Health
	version string
	router  *gin.Engine
	tiles   *tiles.Service

	access   Access
	cache    *PrincipalCache
	throttle *LoginThrottle
	static   map[string]bool // the front end's files: public
	limiter  *limiter        // nil: no limits
	metrics  *Metrics        // nil: none
	rules    map[routeID]resolved
	versions *dataVersion // shared by the answer caches; nil until one needs it
	kpi      *kpiAnswers  // nil: no KPI source (nothing to push on the stream)
}

// dataVersion is the replica's one data-version reader, made from the
// first source a route group brings (every store reads the same version).
func (s *Server) dataVersion(src DataVersioner) *dataVersion {
	if s.versions == nil {
		s.versions = &dataVersion{src: src, now: time.Now}
	}
	return s.versions
}

// New builds the router with its middleware and routes.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true // c.Done()/Err() follow the request context
	s := &Server{log: d.Log, health: d.Health, version: d.Version, router: r, tiles: d.Tiles, static: map[string]bool{}}
	if d.Access != nil {
		s.access = *d.Access
	}
	s.cache = s.access.Cache
	if s.cache == nil {
		s.cache = NewPrincipalCache(0)
	}
	s.throttle = s.access.Throttle
	if s.throttle == nil {
		s.throttle = NewLoginThrottle(15*time.Minute, 5, 20)
	}
	if d.Limits != nil {
		s.limiter = newLimiter(d.Limits)
	}
	s.metrics = d.Metrics
	mw := []gin.HandlerFunc{withRequestID(), accessLog(d.Log), recovery(d.Log)}
	if d.Metrics != nil {
		mw = append(mw, d.Metrics.observe())
	}
	r.Use(append(mw, s.hygiene(), cleanText(), bodyLimit(d.MaxBodyBytes), s.authorize(), s.limit())...)
	r.NoRoute(func(c *gin.Context) {
		abortJSON(c, http.StatusNotFound, "not_found", "no such route: "+c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		abortJSON(c, http.StatusMethodNotAllowed, "method_not_allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})
	r.GET("/healthz", healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/version", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"version": s.version}) })
	if d.Access != nil && d.Access.Credentials != nil {
		s.routeSession()
		s.routeAdmin(d.Access)
		if d.Access.OIDC != nil {
			s.routeOIDC(d.Access.OIDC)
		}
	}
	if d.Metrics != nil {
		s.routeMetrics(d.Metrics)
	}
	if s.tiles != nil {
		s.tileRoutes(r)
	}
	if d.Responders != nil {
		s.routeResponders(d.Responders)
	}
	if d.Query != nil {
		s.routeQuery(d.Query)
	}
	if d.Events != nil {
		s.routeEvents(d.Events)
	}
	if d.Stream != nil {
		s.routeStream(d.Stream)
	}
	if d.Plans != nil {
		s.routePlans(d.Plans)
	}
	if d.Open311 != nil {
		s.routeOpen311(d.Open311)
	}
	if d.Static != nil {
		if err := s.routeStatic(d.Static); err != nil {
			d.Log.Error("front end not served", "err", err)
		}
	}
	if err := s.checkPolicy(); err != nil {
		panic(err) // a programming error: the route would be open or unreachable
	}
	s.resolveRoutes()
	return s
}

// Handler is the root http.Handler.
func (s *Server) Handler() http.Handler { return s.router }
