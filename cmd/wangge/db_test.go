package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/cluster"
	"github.com/wangge/wangge/postgis/pgtest"
)

func TestWithParam(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@127.0.0.1:5432/db", "postgres://u:p@127.0.0.1:5432/db?synchronous_commit=off"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?sslmode=disable&synchronous_commit=off"},
		{"host=/run/pg port=5432 dbname=db", "host=/run/pg port=5432 dbname=db synchronous_commit=off"},
	} {
		if got := withParam(c.in, "synchronous_commit=off"); got != c.want {
			t.Errorf("withParam(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The seed's sessions skip the WAL flush (a load that can be redone);
// every other command's sessions keep the server's setting.
func TestBulkSessionsCommitAsynchronously(t *testing.T) {
	plain, url := pgtest.New(t)
	ctx := context.Background()
	cfg := Config{DatabaseURL: url, DBMaxConns: 2, DBTimeout: 5 * time.Second, LogLevel: "error"}
	show := func(open func(context.Context, Config) (*postgis.DB, *slog.Logger, error)) string {
		db, _, err := open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v string
		if err := db.Pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := show(openBulkDB); v != "off" {
		t.Fatalf("seed session: synchronous_commit = %s, want off", v)
	}
	var server string
	if err := plain.Pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&server); err != nil {
		t.Fatal(err)
	}
	if v := show(openDB); v != server {
		t.Fatalf("serve session: synchronous_commit = %s, the server's is %s", v, server)
	}
}

// needCluster skips a test that starts real private clusters when it cannot
// (not root, or no PostgreSQL 15 binaries), unless WANGGE_REQUIRE_DB=1.
func needCluster(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root: the private cluster's 0700-folder case is root's (its server runs as the postgres OS user)"
	} else if _, err := os.Stat("/usr/lib/postgresql/" + cluster.PGVersion + "/bin/initdb"); err != nil {
		why = "no PostgreSQL " + cluster.PGVersion + " binaries (`wangge db up` installs them)"
	}
	if why == "" {
		return
	}
	if os.Getenv("WANGGE_REQUIRE_DB") == "1" {
		t.Fatal("WANGGE_REQUIRE_DB=1 but " + why)
	}
	t.Skip(why)
}

// freePort is a port nothing listens on, away from the developer's 54329.
func freePort(t *testing.T) int {
	t.Helper()
	for p := 56200; p < 60000; p += 7 {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// The newcomer's machine: a checkout in a 0700 folder (root's home on
// Debian) brings its private cluster up, and a second checkout does too
// while the first runs, on another port; `wangge db url` of each connects
// to its own. Restarting keeps the port. The machine folder is the test's
// own, so the developer's clusters and port claims are left alone.
func TestFreshMachineClusters(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	machine, err := os.MkdirTemp("", "wangge-machine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(machine) })
	t.Setenv("WANGGE_MACHINE_DIR", machine)
	port := freePort(t)
	// Both checkouts ask for the same port, as two clones with the same
	// environment would.
	t.Setenv("WANGGE_PG_PORT", strconv.Itoa(port))
	t.Setenv("WANGGE_LOG_LEVEL", "warn")

	home := t.TempDir() // 0700, like /root
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if exec.Command("runuser", "-u", "postgres", "--", "test", "-x", home).Run() == nil {
		t.Fatalf("the postgres OS user can enter %s; the test wants a folder it cannot reach", home)
	}
	checkout := func(name string) string {
		dir := filepath.Join(home, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	db := func(dir string, args ...string) string {
		t.Helper()
		var out strings.Builder
		args = append(args[:1:1], append([]string{"-data-dir", filepath.Join(dir, ".data")}, args[1:]...)...)
		if err := dbCmd(ctx, args, &out); err != nil {
			t.Fatalf("wangge db %s in %s: %v", args[0], dir, err)
		}
		return strings.TrimSpace(out.String())
	}
	connect := func(u string) (port int, postgis string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatalf("connect %s: %v", redact(u), err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT current_setting('port')::int, postgis_lib_version()`).Scan(&port, &postgis); err != nil {
			t.Fatal(err)
		}
		return port, postgis
	}

	first, second := checkout("wangge"), checkout("wangge-2")
	for _, dir := range []string{first, second} {
		t.Cleanup(func() { _ = dbCmd(ctx, []string{"stop", "-data-dir", filepath.Join(dir, ".data")}, io.Discard) })
	}

	db(first, "up")
	u1 := db(first, "url")
	if p, _ := connect(u1); p != port {
		t.Fatalf("first checkout listens on %d, want the asked-for %d", p, port)
	}
	st1 := readPGJSON(t, first)
	if !strings.HasPrefix(st1.DataDir, machine+"/") {
		t.Fatalf("first checkout's data in %s, want it under the machine folder %s", st1.DataDir, machine)
	}

	db(second, "up")
	u2 := db(second, "url")
	p2, _ := connect(u2)
	if p2 == port {
		t.Fatalf("second checkout got the first one's port %d", port)
	}
	if p, _ := connect(u1); p != port {
		t.Fatalf("first checkout moved to %d", p)
	}
	if s := db(first, "status"); s != "running" {
		t.Fatalf("first checkout: status %q", s)
	}
	if st2 := readPGJSON(t, second); st2.Port != p2 || st2.DataDir == st1.DataDir {
		t.Fatalf("second checkout's pg.json: %+v (first: %+v)", st2, st1)
	}

	// The first, stopped, keeps its port: a third checkout asking for it
	// gets another one, and the first comes back up with the same URL.
	db(first, "stop")
	if s := db(first, "status"); s != "stopped" {
		t.Fatalf("first checkout after stop: status %q", s)
	}
	third := checkout("wangge-3")
	t.Cleanup(func() { _ = dbCmd(ctx, []string{"stop", "-data-dir", filepath.Join(third, ".data")}, io.Discard) })
	if err := dbCmd(ctx, []string{"url", "-data-dir", filepath.Join(third, ".data")}, io.Discard); err == nil {
		t.Fatal("a checkout without a cluster has a URL")
	}
	db(third, "up")
	if p3, _ := connect(db(third, "url")); p3 == port || p3 == p2 {
		t.Fatalf("third checkout took port %d, held by a stopped or a running checkout's cluster", p3)
	}
	db(first, "up")
	if u := db(first, "url"); u != u1 {
		t.Fatalf("first checkout's URL changed over a restart: %s → %s", redact(u1), redact(u))
	}
	connect(u1)
}

// An explicit port that a program other than a wangge cluster holds is
// refused with the reason, before anything is created.
func TestExplicitPortTakenIsRefused(t *testing.T) {
	needCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	t.Setenv("WANGGE_MACHINE_DIR", t.TempDir())
	data := filepath.Join(t.TempDir(), "wangge", ".data")
	err = dbCmd(context.Background(), []string{"up", "-data-dir", data, "-pg-port", strconv.Itoa(port), "-log-level", "error"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is in use by a program that is not a wangge checkout's cluster") {
		t.Fatalf("db up on a taken explicit port %d: err = %v", port, err)
	}
	if _, err := os.Stat(filepath.Join(data, "pg.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused db up left a pg.json: %v", err)
	}
}

func readPGJSON(t *testing.T, checkout string) (st struct {
	Port    int    `json:"port"`
	DataDir string `json:"data_dir"`
}) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(checkout, ".data", "pg.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}
