package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis/pgtest"
)

// bin is the wangge binary built once for these end-to-end tests, which
// boot the real program the way an operator does.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wangge-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "wangge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic("build wangge: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runWangge runs the binary to completion and returns its exit code and output.
func runWangge(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("wangge %v did not finish in time:\n%s", args, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "WANGGE_") {
			env = append(env, kv)
		}
	}
	return env
}

var servingRE = regexp.MustCompile(`msg=serving url=(http://\S+)`)

// startServer boots `wangge serve` on a free port and returns its base URL
// and the running command.
func startServer(t *testing.T, dbURL string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = append(cleanEnv(), "DATABASE_URL="+dbURL)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u, cmd
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start within 20s")
	}
	return "", nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeHealthAndGracefulShutdown(t *testing.T) {
	_, dbURL := pgtest.New(t)
	base, cmd := startServer(t, dbURL)
	if code, body := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if code, body := get(t, base+"/no/such/route"); code != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("unknown route = %d %s, want a 404 JSON error", code, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop within 10s of SIGTERM")
	}
}

func TestReadyzWaitsForMigrations(t *testing.T) {
	_, dbURL := pgtest.Empty(t)
	base, _ := startServer(t, dbURL)
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d, want 200 while the schema is missing", code)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "migrations pending") {
		t.Fatalf("/readyz = %d %s, want 503 migrations pending", code, body)
	}
	if code, out := runWangge(t, []string{"DATABASE_URL=" + dbURL}, "migrate"); code != 0 {
		t.Fatalf("migrate exit %d:\n%s", code, out)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz after migrate = %d %s", code, body)
	}
}

func TestMigrateTwice(t *testing.T) {
	_, dbURL := pgtest.Empty(t)
	env := []string{"DATABASE_URL=" + dbURL}
	if code, out := runWangge(t, env, "migrate"); code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("first migrate: exit %d\n%s", code, out)
	}
	if code, out := runWangge(t, env, "migrate"); code != 0 || !strings.Contains(out, "nothing to apply") {
		t.Fatalf("second migrate: exit %d\n%s", code, out)
	}
}

// Bad configuration fails fast: exit ≠ 0 and one clear line on stderr.
func TestBadConfigurationFailsFast(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, dbURL := pgtest.New(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unreachable database", []string{"DATABASE_URL=postgres://u:p@127.0.0.1:1/none?connect_timeout=2"},
			[]string{"serve", "-addr", "127.0.0.1:0"}, "cannot reach 127.0.0.1:1/none"},
		{"port in use", []string{"DATABASE_URL=" + dbURL}, []string{"serve", "-addr", busy.Addr().String()}, "address already in use"},
		{"malformed address", nil, []string{"serve", "-addr", "nowhere"}, "-addr"},
		{"malformed env number", []string{"WANGGE_PG_PORT=fifty"}, []string{"serve"}, "WANGGE_PG_PORT"},
		{"bad log level", nil, []string{"migrate", "-log-level", "loud"}, "-log-level"},
		{"demo feed too fast", nil, []string{"serve", "-demo-feed", "1ms"}, "-demo-feed"},
		{"unknown command", nil, []string{"fly"}, `unknown command "fly"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out := runWangge(t, tt.env, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure:\n%s", out)
			}
			if time.Since(start) > 15*time.Second {
				t.Errorf("took %s to fail", time.Since(start))
			}
			last := lastLine(out)
			if !strings.HasPrefix(last, "wangge: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q, want a `wangge: ` line containing %q\nfull output:\n%s", last, tt.want, out)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestImportCommand(t *testing.T) {
	_, dbURL := pgtest.New(t)
	env := []string{"DATABASE_URL=" + dbURL}
	dir := t.TempDir()
	good := filepath.Join(dir, "districts.geojson")
	bad := filepath.Join(dir, "bad.geojson")
	os.WriteFile(good, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"500103","name":"渝中区"},
		"geometry":{"type":"Polygon","coordinates":[[[106.5,29.5],[106.6,29.5],[106.6,29.6],[106.5,29.6],[106.5,29.5]]]}}]}`), 0o644)
	os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"500104","name":"大渡口区"},
		"geometry":{"type":"Polygon","coordinates":[[[106.4,29.4],[106.5,29.5],[106.5,29.4],[106.4,29.5],[106.4,29.4]]]}}]}`), 0o644)
	if code, out := runWangge(t, env, "import", "-layer", "districts", good); code != 0 || !strings.Contains(out, "imported 1 districts") {
		t.Fatalf("good import: exit %d\n%s", code, out)
	}
	code, out := runWangge(t, env, "import", "-layer", "districts", bad)
	if code == 0 || !strings.Contains(lastLine(out), "feature 0") || !strings.Contains(lastLine(out), "self-intersects") {
		t.Fatalf("bad import: exit %d, last line %q", code, lastLine(out))
	}
}
