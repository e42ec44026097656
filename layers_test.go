package wangge_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wangge/wangge"

// allowed lists, per package folder, which of our own packages it may
// depend on (directly or not): DESIGN.md §2, lower layers never import upper
// ones; geo and the root package do no I/O.
var allowed = map[string][]string{
	"":           {},
	"migrations": {},
	"geo":        {""},
	"postgis":    {"", "geo", "migrations", "postgis"},
	"tiles":      {"", "geo", "migrations", "postgis"},
	"data":       {"", "geo", "migrations", "postgis", "data"},
	"api":        {"", "geo", "migrations", "postgis", "tiles", "api"}, // api/apitest builds on api
}

// forbiddenOutside are third-party packages that only some layers may use.
var forbiddenOutside = map[string][]string{
	"github.com/jackc/pgx":     {"postgis", "data", "cmd", "bench"},
	"github.com/gin-gonic/gin": {"api", "cmd", "bench"},
	"net/http":                 {"api", "tiles", "cmd", "bench"},
	"os/exec":                  {"postgis", "cmd", "bench"},
}

type pkg struct {
	ImportPath string
	Imports    []string // direct
	Deps       []string // transitive
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		top, _, _ := strings.Cut(rel, "/")
		for _, d := range p.Deps {
			checkDep(t, rel, top, d)
		}
		for _, d := range p.Imports {
			checkThirdParty(t, rel, top, d)
		}
	}
	if n < 5 {
		t.Fatalf("go list saw only %d packages", n)
	}
}

// checkThirdParty keeps drivers and frameworks in their layer: only a
// direct import counts (api reaches pgx through postgis, as it should).
func checkThirdParty(t *testing.T, rel, top, dep string) {
	t.Helper()
	for prefix, layers := range forbiddenOutside {
		if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
			if !contains(layers, top) {
				t.Errorf("package %q imports %s, which only %v may use", rel, dep, layers)
			}
		}
	}
}

func checkDep(t *testing.T, rel, top, dep string) {
	t.Helper()
	if dep != module && !strings.HasPrefix(dep, module+"/") {
		return
	}
	if top == "cmd" || top == "bench" {
		return
	}
	ok, known := allowed[top]
	if !known {
		t.Errorf("package %q is in no layer of DESIGN.md §2: add it to the table", rel)
		return
	}
	depRel := strings.TrimPrefix(strings.TrimPrefix(dep, module), "/")
	depTop, _, _ := strings.Cut(depRel, "/")
	if depTop == "cmd" || depTop == "bench" || !contains(ok, depTop) {
		t.Errorf("package %q depends on %q: against the direction of DESIGN.md §2", rel, depRel)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
