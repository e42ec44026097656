// Package cluster runs the project's private PostGIS: a PostgreSQL cluster
// under ./.data/pg that listens only on 127.0.0.1 and a Unix socket on a
// non-default port. It installs PostGIS with apt when missing, creates the
// cluster once, and reuses it afterwards. It may import only the standard
// library and pgx.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGVersion is the PostgreSQL major version whose Debian packages we use.
const PGVersion = "15"

// Cluster is the private PostGIS of one checkout.
type Cluster struct {
	Root string // the .data folder
	Port int    // TCP and socket port
	Log  *slog.Logger
}

// state is what Up records in .data/pg.json so later calls reuse it.
type state struct {
	Port     int    `json:"port"`
	Password string `json:"password"`
	DataDir  string `json:"data_dir"`
	Socket   string `json:"socket_dir"`
}

const dbName, dbUser = "wangge", "wangge"

func (c *Cluster) statePath() string { return filepath.Join(c.Root, "pg.json") }
func (c *Cluster) dataDir() string   { return filepath.Join(c.Root, "pg") }
func (c *Cluster) sockDir() string   { return filepath.Join(c.Root, "run") }
func (c *Cluster) logPath() string   { return filepath.Join(c.sockDir(), "postgresql.log") }

func binDir() string { return "/usr/lib/postgresql/" + PGVersion + "/bin" }

// URL is the connection string of the cluster (after Up has run once).
func (c *Cluster) URL() (string, error) {
	st, err := c.readState()
	if err != nil {
		return "", err
	}
	return st.url(), nil
}

func (st state) url() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(dbUser, st.Password),
		Host:     "127.0.0.1:" + strconv.Itoa(st.Port),
		Path:     "/" + dbName,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *Cluster) readState() (state, error) {
	var st state
	b, err := os.ReadFile(c.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("cluster: no private PostGIS in %s yet: run `wangge db up`", c.Root)
	}
	if err != nil {
		return st, fmt.Errorf("cluster: read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("cluster: parse %s: %w", c.statePath(), err)
	}
	return st, nil
}

// Up installs PostGIS if needed, creates the cluster on first use, starts it
// unless it already runs, and makes sure the database and its postgis
// extension exist. It returns the connection string. Calling it again is
// cheap and changes nothing.
func (c *Cluster) Up(ctx context.Context) (string, error) {
	if err := c.ensurePackages(ctx); err != nil {
		return "", err
	}
	if err := os.MkdirAll(c.Root, 0o755); err != nil {
		return "", fmt.Errorf("cluster: create %s: %w", c.Root, err)
	}
	st, err := c.readState()
	if err != nil || !exists(filepath.Join(c.dataDir(), "PG_VERSION")) {
		if st, err = c.initdb(ctx); err != nil {
			return "", err
		}
	}
	if !c.running(ctx) {
		if err := c.start(ctx, st); err != nil {
			return "", err
		}
	}
	if err := c.bootstrap(ctx, st); err != nil {
		return "", err
	}
	return st.url(), nil
}

// Stop stops the cluster if it runs.
func (c *Cluster) Stop(ctx context.Context) error {
	if !exists(filepath.Join(c.dataDir(), "PG_VERSION")) || !c.running(ctx) {
		return nil
	}
	return c.pgctl(ctx, "stop", "-D", c.dataDir(), "-m", "fast", "-w")
}

// Running tells whether the cluster's postmaster is up.
func (c *Cluster) Running(ctx context.Context) bool { return c.running(ctx) }

func (c *Cluster) running(ctx context.Context) bool {
	if !exists(filepath.Join(c.dataDir(), "PG_VERSION")) {
		return false
	}
	return c.pgctl(ctx, "status", "-D", c.dataDir()) == nil
}

// ensurePackages installs postgresql-15-postgis-3 when the server or the
// extension is missing: a fresh Debian machine has neither.
func (c *Cluster) ensurePackages(ctx context.Context) error {
	control := "/usr/share/postgresql/" + PGVersion + "/extension/postgis.control"
	if exists(filepath.Join(binDir(), "initdb")) && exists(control) {
		return nil
	}
	pkg := "postgresql-" + PGVersion + "-postgis-3"
	if os.Geteuid() != 0 {
		return fmt.Errorf("cluster: PostGIS is not installed and we are not root: run `sudo apt-get install -y %s`, or set DATABASE_URL to an existing PostGIS", pkg)
	}
	c.Log.Info("installing PostGIS with apt (once per machine)", "package", pkg)
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", pkg}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cluster: apt-get %s: %w\n%s", args[0], err, tail(out, 20))
		}
	}
	if !exists(control) {
		return fmt.Errorf("cluster: %s installed but %s is missing", pkg, control)
	}
	return nil
}

// initdb creates a fresh cluster. initdb refuses to run as root, so as root
// the cluster belongs to the postgres OS user.
func (c *Cluster) initdb(ctx context.Context) (state, error) {
	st := state{Port: c.Port, Password: randomHex(16), DataDir: c.dataDir(), Socket: c.sockDir()}
	_ = os.RemoveAll(c.dataDir())
	for _, d := range []string{c.dataDir(), c.sockDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return st, fmt.Errorf("cluster: create %s: %w", d, err)
		}
		if err := c.chownToServer(d); err != nil {
			return st, err
		}
	}
	if err := c.checkReachable(); err != nil {
		return st, err
	}
	pw := filepath.Join(c.sockDir(), "pwfile")
	if err := os.WriteFile(pw, []byte(st.Password+"\n"), 0o600); err != nil {
		return st, fmt.Errorf("cluster: write password file: %w", err)
	}
	defer os.Remove(pw)
	if err := c.chownToServer(pw); err != nil {
		return st, err
	}
	c.Log.Info("creating private PostGIS cluster", "dir", c.dataDir(), "port", c.Port)
	// Trust only on the Unix socket, whose folder is private to the server
	// user; TCP on 127.0.0.1 needs the password.
	if err := c.runAsServer(ctx, filepath.Join(binDir(), "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pw, "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		return st, err
	}
	conf := fmt.Sprintf(`
# wangge private cluster
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
shared_buffers = '512MB'
work_mem = '32MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
max_connections = 200
timezone = 'Asia/Shanghai'
`, st.Port, st.Socket)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return st, fmt.Errorf("cluster: open postgresql.conf: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("cluster: write postgresql.conf: %w", err)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(c.statePath(), b, 0o600); err != nil {
		return st, fmt.Errorf("cluster: write state: %w", err)
	}
	return st, nil
}

func (c *Cluster) start(ctx context.Context, st state) error {
	c.Log.Info("starting private PostGIS", "port", st.Port)
	// Commits are durable: an incident answered 201 survives a crash of
	// the machine. (Clusters made before this line said otherwise in
	// postgresql.conf; the command line wins.) Bulk loads that can be
	// redone, the demo-city seed, turn it off for their own sessions.
	if err := c.pgctl(ctx, "start", "-D", c.dataDir(), "-l", c.logPath(), "-w", "-t", "60",
		"-o", "-c synchronous_commit=on"); err != nil {
		log, _ := os.ReadFile(c.logPath())
		return fmt.Errorf("cluster: start failed (is port %d in use?): %w\n%s", st.Port, err, tail(log, 10))
	}
	return nil
}

// bootstrap creates the login role, its database and the postgis extension
// through the trusted socket. The role is a superuser of this private
// cluster so tests can create throwaway databases with extensions.
func (c *Cluster) bootstrap(ctx context.Context, st state) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", st.Socket, st.Port))
	if err != nil {
		return fmt.Errorf("cluster: connect as postgres: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, dbUser).Scan(&n); err != nil {
		return fmt.Errorf("cluster: look up role: %w", err)
	}
	if n == 0 {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE ROLE %s LOGIN SUPERUSER PASSWORD '%s'`, dbUser, st.Password)); err != nil {
			return fmt.Errorf("cluster: create role: %w", err)
		}
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, dbName).Scan(&n); err != nil {
		return fmt.Errorf("cluster: look up database: %w", err)
	}
	if n == 0 {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, dbName, dbUser)); err != nil {
			return fmt.Errorf("cluster: create database: %w", err)
		}
	}
	db, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", st.Socket, st.Port, dbName))
	if err != nil {
		return fmt.Errorf("cluster: connect to %s: %w", dbName, err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		return fmt.Errorf("cluster: create extension postgis: %w", err)
	}
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) error {
	return c.runAsServer(ctx, filepath.Join(binDir(), "pg_ctl"), args...)
}

// runAsServer runs a PostgreSQL program as the postgres OS user when we are
// root (the server refuses root), as ourselves otherwise.
func (c *Cluster) runAsServer(ctx context.Context, prog string, args ...string) error {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.Dir = "/" // the server user may not be allowed into our working directory
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(prog), args[0], err, strings.TrimSpace(string(tail(out, 10))))
	}
	return nil
}

func (c *Cluster) chownToServer(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("cluster: the postgres OS user is missing (is postgresql installed?): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("cluster: chown %s: %w", path, err)
	}
	return nil
}

// checkReachable fails early, with the fix, when the postgres user cannot
// reach the data folder (e.g. a checkout under a 0700 home directory).
func (c *Cluster) checkReachable() error {
	if os.Geteuid() != 0 {
		return nil
	}
	cmd := exec.Command("runuser", "-u", "postgres", "--", "test", "-w", c.dataDir())
	cmd.Dir = "/"
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster: the postgres OS user cannot write %s: make its parent folders traversable (chmod o+x) or set DATABASE_URL", c.dataDir())
	}
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(b []byte, lines int) []byte {
	s := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(s) > lines {
		s = s[len(s)-lines:]
	}
	return []byte(strings.Join(s, "\n"))
}

// Wait polls until the cluster accepts connections or the timeout passes.
func Wait(ctx context.Context, dsn string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: not ready after %s: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
