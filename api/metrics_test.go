package api_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis/pgtest"
)

func TestMetricsAdminOnly(t *testing.T) {
	db, _ := pgtest.New(t)
	m := api.NewMetrics()
	m.Gauge("wangge_test_gauge", "a gauge the wiring adds", func() float64 { return 42 })
	hs := httptest.NewServer(api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: db,
		MaxBodyBytes: 1 << 16, Access: apitest.Access(t, db), Metrics: m}).Handler())
	t.Cleanup(hs.Close)
	admin := apitest.Token(t, db, wangge.RoleAdmin, "", nil)
	viewer := apitest.Token(t, db, wangge.RoleViewer, "", nil)
	send(t, "GET", hs.URL+"/metrics", "").want(t, 401, "")
	send(t, "GET", hs.URL+"/metrics", "", "Authorization", "Bearer "+viewer).want(t, 403, "metrics.read")
	send(t, "GET", hs.URL+"/debug/pprof/heap", "", "Authorization", "Bearer "+viewer).want(t, 403, "")
	send(t, "GET", hs.URL+"/healthz", "")
	body := fetch(t, hs.URL+"/metrics", admin)
	for _, want := range []string{`wangge_http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"} 1`,
		`wangge_http_refused_total{reason="unauthorized"} 1`, `wangge_http_refused_total{reason="forbidden"} 2`,
		"wangge_test_gauge 42", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if body := fetch(t, hs.URL+"/debug/pprof/goroutine?debug=1", admin); !strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof for the admin: %.200s", body)
	}
}

func fetch(t *testing.T, url, tok string) string {
	t.Helper()
	a := send(t, "GET", url, "", "Authorization", "Bearer "+tok)
	if a.status != 200 {
		t.Fatalf("%s: %d", url, a.status)
	}
	return a.raw
}
