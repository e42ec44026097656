package frontend

import (
	"io/fs"
	"strings"
	"testing"
)

// The site always has an index.html: the built app's, or the placeholder
// that says how to build it.
func TestFSHasAnIndex(t *testing.T) {
	b, err := fs.ReadFile(FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if Built() != !strings.Contains(string(b), "without the map front end") {
		t.Errorf("Built() = %v but index.html is the %s", Built(), map[bool]string{true: "app", false: "placeholder"}[Built()])
	}
	if _, err := (placeholder{}).Open("assets/x.js"); err == nil {
		t.Error("the placeholder serves only index.html")
	}
	p, err := fs.ReadFile(placeholder{}, "index.html")
	if err != nil || !strings.Contains(string(p), "make build") {
		t.Errorf("placeholder: %v %q", err, p)
	}
}
