package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// staticFile is one file of the front end, read once at start: the
// embedded site is small (about 1 MB) and never changes while we run.
type staticFile struct {
	body, gz []byte // gz: nil when compressing does not pay
	etag     string
	ctype    string
	cache    string
}

// loadStatic reads every file of site. Vite names everything under
// assets/ by its content hash, so those are immutable; index.html and the
// rest are revalidated (ETag) so a new binary is picked up at once.
func loadStatic(site fs.FS) (map[string]*staticFile, error) {
	files := map[string]*staticFile{}
	err := fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(site, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, cache: "no-cache"}
		if f.ctype = mime.TypeByExtension(path.Ext(p)); f.ctype == "" {
			f.ctype = http.DetectContentType(b)
		}
		if strings.HasPrefix(p, "assets/") {
			f.cache = "public, max-age=31536000, immutable"
		}
		if compressible(f.ctype) {
			f.gz = gzipped(b, gzip.BestCompression)
		}
		files[p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("front end: %w", err)
	}
	if files["index.html"] == nil {
		return nil, fmt.Errorf("front end: no index.html")
	}
	return files, nil
}

func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg", "application/wasm"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

// routeStatic serves the front end: / is index.html, every other file at
// its path. Only the files that exist get a route, so any other path
// (unknown /api/… included) still falls through to the JSON 404.
func (s *Server) routeStatic(site fs.FS) error {
	files, err := loadStatic(site)
	if err != nil {
		return err
	}
	serve := func(f *staticFile) gin.HandlerFunc {
		return func(c *gin.Context) { f.serve(c) }
	}
	s.router.GET("/", serve(files["index.html"]))
	s.router.HEAD("/", serve(files["index.html"]))
	s.static["/"] = true
	for p, f := range files {
		s.router.GET("/"+p, serve(f))
		s.router.HEAD("/"+p, serve(f))
		s.static["/"+p] = true
	}
	return nil
}

func (f *staticFile) serve(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", f.cache)
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	body := pickBody(c, f.body, f.gz)
	// ServeContent answers If-None-Match (304), HEAD and Range.
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(body))
}
