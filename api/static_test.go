package api

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func staticServer(t *testing.T) *Server {
	t.Helper()
	js := strings.Repeat("console.log('wangge');\n", 200)
	site := fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>网格</title>")},
		"assets/index-abc1.js": {Data: []byte(js)},
		"favicon.svg":          {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
	}
	return New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 1 << 20, Static: site})
}

func get(s *Server, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func TestStaticIndexRevalidatesAssetsAreImmutable(t *testing.T) {
	s := staticServer(t)
	w := get(s, "/", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "网格") {
		t.Fatalf("GET / = %d %q", w.Code, w.Body.String())
	}
	if got := w.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("index Cache-Control = %q, want no-cache", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("index Content-Type = %q", got)
	}
	etag := w.Header().Get("ETag")
	if w2 := get(s, "/", map[string]string{"If-None-Match": etag}); w2.Code != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", w2.Code)
	}

	a := get(s, "/assets/index-abc1.js", nil)
	if a.Code != 200 || !strings.Contains(a.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("asset = %d, Cache-Control %q", a.Code, a.Header().Get("Cache-Control"))
	}
	if a.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip without Accept-Encoding")
	}
	g := get(s, "/assets/index-abc1.js", map[string]string{"Accept-Encoding": "gzip, br"})
	if g.Header().Get("Content-Encoding") != "gzip" || g.Body.Len() >= a.Body.Len() {
		t.Fatalf("gzip: encoding %q, %d vs %d bytes", g.Header().Get("Content-Encoding"), g.Body.Len(), a.Body.Len())
	}
	zr, err := gzip.NewReader(g.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != a.Body.String() {
		t.Errorf("gzip body differs from plain body")
	}
	if w := get(s, "/favicon.svg", nil); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "image/svg") {
		t.Errorf("favicon = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestStaticLeavesUnknownPathsJSON404(t *testing.T) {
	s := staticServer(t)
	for _, p := range []string{"/api/v1/nope", "/nope.html", "/assets/missing.js", "/index.html/x"} {
		w := get(s, p, nil)
		var body errorBody
		if w.Code != http.StatusNotFound || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Code != "not_found" {
			t.Errorf("GET %s = %d %q, want a JSON 404", p, w.Code, w.Body.String())
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
}
