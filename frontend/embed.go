// Package frontend holds the map wall (MapLibre, built by Vite) for the
// binary to serve at /. Vite writes into dist/app, which git ignores; the
// committed dist/placeholder.html is what a build without Node serves, so
// `go build` never needs Node.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS is the site root: the built app when dist/app/index.html exists,
// else the placeholder page as index.html.
func FS() fs.FS {
	if app, err := fs.Sub(dist, "dist/app"); err == nil {
		if _, err := fs.Stat(app, "index.html"); err == nil {
			return app
		}
	}
	return placeholder{}
}

// Built reports whether the binary carries the built app.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// placeholder serves dist/placeholder.html as the only file, index.html.
type placeholder struct{}

func (placeholder) Open(name string) (fs.File, error) {
	if name == "index.html" {
		return dist.Open("dist/placeholder.html")
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
