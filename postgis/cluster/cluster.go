// Package cluster runs the project's private PostGIS: one PostgreSQL cluster
// per checkout that listens only on 127.0.0.1 and a Unix socket on a
// non-default port. It installs PostGIS with apt when missing, creates the
// cluster once, and reuses it afterwards. The checkout's .data/pg.json
// records where the cluster lives and its port (see place.go for where and
// which). It may import only the standard library and pgx.
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
	Root string // the checkout's .data folder (absolute): pg.json lives here
	// Port is the port a new cluster would like (0: DefaultPort). When
	// another checkout's cluster holds it, a new cluster takes the next free
	// one; pg.json remembers the port a cluster got, and that one wins.
	Port int
	// PortExplicit says Port was asked for (-pg-port, WANGGE_PG_PORT): then
	// a program other than a wangge cluster holding it is an error, not a
	// reason to move on.
	PortExplicit bool
	// MachineDir holds what the checkouts of this machine share: the port
	// claims and, as root, the clusters' data ("": DefaultMachineDir()).
	MachineDir string
	Log        *slog.Logger
}

// DefaultPort is the private cluster's preferred port.
const DefaultPort = 54329

// state is what Up records in .data/pg.json so later calls reuse it.
type state struct {
	Port     int    `json:"port"`
	Password string `json:"password"`
	DataDir  string `json:"data_dir"`
	Socket   string `json:"socket_dir"`
}

const dbName, dbUser = "wangge", "wangge"

func (c *Cluster) statePath() string { return filepath.Join(c.Root, "pg.json") }

func (st state) logPath() string { return filepath.Join(st.Socket, "postgresql.log") }

func binDir() string { return "/usr/lib/postgresql/" + PGVersion + "/bin" }

// URL is the connection string of the cluster (after Up has run once).
func (c *Cluster) URL() (string, error) {
	st, ok, err := c.current()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("cluster: no private PostGIS for %s yet: run `wangge db up`", c.Root)
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

func (c *Cluster) readState() (state, error) { return readState(c.Root) }

func readState(root string) (state, error) {
	var st state
	path := filepath.Join(root, "pg.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("cluster: no private PostGIS in %s yet: run `wangge db up`: %w", root, err)
	}
	if err != nil {
		return st, fmt.Errorf("cluster: read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("cluster: parse %s: %w", path, err)
	}
	return st, nil
}

func (c *Cluster) writeState(st state) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(c.statePath(), b, 0o600); err != nil {
		return fmt.Errorf("cluster: write state: %w", err)
	}
	return nil
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
	// One checkout at a time chooses a port and starts on it.
	unlock := c.lock()
	defer unlock()
	st, ok, err := c.current()
	if err != nil {
		return "", err
	}
	if !ok {
		if st, err = c.initdb(ctx); err != nil {
			return "", err
		}
	}
	if !c.running(ctx, st) {
		if err := c.relocateSocket(&st); err != nil {
			return "", err
		}
		// The remembered port may have been taken while the cluster was
		// stopped (another checkout's cluster, or one whose .data was
		// copied from this one): move to a free one and remember it, so
		// `wangge db url` stays right.
		if other := c.portHolder(st.Port); other != "" {
			port, err := c.choosePort(st.Port+1, false)
			if err != nil {
				return "", err
			}
			c.lg().Warn("private PostGIS: its port is taken; moving", "port", st.Port, "holder", other, "new_port", port)
			st.Port = port
			if err := c.writeState(st); err != nil {
				return "", err
			}
		}
		if err := c.start(ctx, st); err != nil {
			return "", err
		}
	}
	c.claim(st.Port)
	if err := c.bootstrap(ctx, st); err != nil {
		return "", err
	}
	return st.url(), nil
}

// Stop stops the cluster if it runs.
func (c *Cluster) Stop(ctx context.Context) error {
	st, ok, err := c.current()
	if err != nil || !ok || !c.running(ctx, st) {
		return err
	}
	return c.pgctl(ctx, "stop", "-D", st.DataDir, "-m", "fast", "-w")
}

// Running tells whether the cluster's postmaster is up.
func (c *Cluster) Running(ctx context.Context) bool {
	st, ok, err := c.current()
	return err == nil && ok && c.running(ctx, st)
}

func (c *Cluster) running(ctx context.Context, st state) bool {
	if !exists(filepath.Join(st.DataDir, "PG_VERSION")) {
		return false
	}
	return c.pgctl(ctx, "status", "-D", st.DataDir) == nil
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
	c.lg().Info("installing PostGIS with apt (once per machine)", "package", pkg)
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

// initdb creates a fresh cluster on a free port. initdb refuses to run as
// root, so as root the cluster belongs to the postgres OS user.
func (c *Cluster) initdb(ctx context.Context) (state, error) {
	port, err := c.choosePort(c.preferredPort(), c.PortExplicit)
	if err != nil {
		return state{}, err
	}
	dataDir, sockDir, err := c.newPlace()
	if err != nil {
		return state{}, err
	}
	st := state{Port: port, Password: randomHex(16), DataDir: dataDir, Socket: sockDir}
	_ = os.RemoveAll(st.DataDir)
	for _, d := range []string{st.DataDir, st.Socket} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return st, fmt.Errorf("cluster: create %s: %w", d, err)
		}
		if err := c.chownToServer(d); err != nil {
			return st, err
		}
	}
	if err := checkReachable(st.DataDir); err != nil {
		return st, err
	}
	pw := filepath.Join(st.Socket, "pwfile")
	if err := os.WriteFile(pw, []byte(st.Password+"\n"), 0o600); err != nil {
		return st, fmt.Errorf("cluster: write password file: %w", err)
	}
	defer os.Remove(pw)
	if err := c.chownToServer(pw); err != nil {
		return st, err
	}
	c.lg().Info("creating private PostGIS cluster", "dir", st.DataDir, "port", st.Port)
	// Trust only on the Unix socket, whose folder is private to the server
	// user; TCP on 127.0.0.1 needs the password.
	if err := c.runAsServer(ctx, filepath.Join(binDir(), "initdb"), "-D", st.DataDir, "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pw, "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		return st, err
	}
	// The port here is informative: start passes pg.json's on the command
	// line, which wins.
	conf := fmt.Sprintf(`
# wangge private cluster of %s
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
shared_buffers = '512MB'
work_mem = '32MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
max_connections = 200
timezone = 'Asia/Shanghai'
`, c.Root, st.Port, st.Socket)
	f, err := os.OpenFile(filepath.Join(st.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
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
	if err := c.writeState(st); err != nil {
		return st, err
	}
	c.claim(st.Port)
	return st, nil
}

func (c *Cluster) start(ctx context.Context, st state) error {
	c.lg().Info("starting private PostGIS", "port", st.Port)
	// Commits are durable: an incident answered 201 survives a crash of
	// the machine. (Clusters made before this line said otherwise in
	// postgresql.conf; the command line wins.) Bulk loads that can be
	// redone, the demo-city seed, turn it off for their own sessions.
	// The port is pg.json's, so the one `wangge db url` prints is the one
	// the server listens on, whatever postgresql.conf says.
	if err := c.pgctl(ctx, "start", "-D", st.DataDir, "-l", st.logPath(), "-w", "-t", "60",
		"-o", fmt.Sprintf("-c synchronous_commit=on -c port=%d", st.Port)); err != nil {
		log, _ := os.ReadFile(st.logPath())
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
// reach the data folder (e.g. WANGGE_MACHINE_DIR under a 0700 folder).
func checkReachable(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	cmd := exec.Command("runuser", "-u", "postgres", "--", "test", "-w", dir)
	cmd.Dir = "/"
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster: the postgres OS user cannot write %s: make its parent folders traversable (chmod o+x) or set DATABASE_URL", dir)
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
