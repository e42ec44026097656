package api

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the Prometheus registry of one replica: request latency per
// route, refusals by the limits and the policy, plus gauges and counters
// the wiring adds for what lives outside api (pool, indexes, caches).
type Metrics struct {
	reg      *prometheus.Registry
	latency  *prometheus.HistogramVec
	refused  *prometheus.CounterVec
	auditLag prometheus.Histogram
}

// NewMetrics makes a registry with the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wangge_http_request_duration_seconds",
		Help:    "Time to answer a request, by route template, method and status class.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"route", "method", "status"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wangge_http_refused_total",
		Help: "Requests refused before any work, by reason (unauthorized, forbidden, rate_limited, bad_host)."}, []string{"reason"})
	m.auditLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wangge_audit_append_seconds",
		Help: "Time an answer waited for its audit row to commit.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.reg.MustRegister(m.latency, m.refused, m.auditLag)
	return m
}

// Gauge adds a value read at scrape time (pool connections, index sizes).
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter adds a monotonic count read at scrape time (cache hits, drops).
func (m *Metrics) Counter(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Histogram adds a histogram the wiring observes (intake batch sizes).
func (m *Metrics) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	m.reg.MustRegister(h)
	return h
}

// observe is the middleware: one histogram sample per request.
func (m *Metrics) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		m.latency.WithLabelValues(route, c.Request.Method, strconv.Itoa(status/100)+"xx").Observe(time.Since(start).Seconds())
		if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests ||
			status == http.StatusMisdirectedRequest {
			if code := c.GetString(refusedKey); code != "" {
				m.refused.WithLabelValues(code).Inc()
			}
		}
	}
}

const refusedKey = "refused"

// routeMetrics serves /metrics and /debug/pprof to the admin role only
// (the policy table): both reveal how the city's system is loaded.
func (s *Server) routeMetrics(m *Metrics) {
	s.router.GET("/metrics", gin.WrapH(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})))
	s.router.GET("/debug/pprof/", gin.WrapF(pprof.Index))
	s.router.GET("/debug/pprof/:profile", func(c *gin.Context) {
		switch p := c.Param("profile"); p {
		case "cmdline":
			pprof.Cmdline(c.Writer, c.Request)
		case "profile":
			pprof.Profile(c.Writer, c.Request)
		case "symbol":
			pprof.Symbol(c.Writer, c.Request)
		case "trace":
			pprof.Trace(c.Writer, c.Request)
		default:
			pprof.Handler(p).ServeHTTP(c.Writer, c.Request)
		}
	})
}
