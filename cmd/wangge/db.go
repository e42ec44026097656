package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/cluster"
)

// privateCluster is the checkout's cluster. A port other than the default,
// or one set in WANGGE_PG_PORT, was asked for: a program that is not a
// wangge cluster holding it is then an error rather than a reason to take
// the next free port. (-pg-port 54329 given explicitly counts as the
// default.) The machine folder is WANGGE_MACHINE_DIR, else /var/lib/wangge
// as root (cluster.DefaultMachineDir).
func privateCluster(cfg Config, log *slog.Logger) *cluster.Cluster {
	explicit := os.Getenv("WANGGE_PG_PORT") != "" || cfg.PGPort != cluster.DefaultPort
	return &cluster.Cluster{Root: cfg.DataDir, Port: cfg.PGPort, PortExplicit: explicit, Log: log}
}

// dbCmd manages the private PostGIS: up (install, create, start; idempotent),
// stop, url (print the connection string) and status.
func dbCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("db: want one of up, stop, url, status")
	}
	sub := args[0]
	cfg, _, err := parse("db "+sub, args[1:], nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	c := privateCluster(cfg, log)
	switch sub {
	case "up":
		u, err := c.Up(ctx)
		if err != nil {
			return err
		}
		log.Info("private PostGIS ready", "url", redact(u))
		return nil
	case "stop":
		return c.Stop(ctx)
	case "url":
		u, err := c.URL()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, u)
		return err
	case "status":
		if c.Running(ctx) {
			_, err = fmt.Fprintln(stdout, "running")
		} else {
			_, err = fmt.Fprintln(stdout, "stopped")
		}
		return err
	}
	return fmt.Errorf("db: unknown subcommand %q: want up, stop, url or status", sub)
}

// openDB builds the command's logger and connects to DATABASE_URL, or
// brings up the private cluster (the embedded default) and connects to it.
func openDB(ctx context.Context, cfg Config) (*postgis.DB, *slog.Logger, error) {
	return openDBWith(ctx, cfg, "")
}

// openBulkDB is openDB for loads that can simply be run again (the demo
// city): its sessions commit without waiting for the WAL flush.
func openBulkDB(ctx context.Context, cfg Config) (*postgis.DB, *slog.Logger, error) {
	return openDBWith(ctx, cfg, "synchronous_commit=off")
}

// openDBWith connects with param (name=value, "" for none) set on every
// session; pgx passes a connection string's unknown keys to the server.
func openDBWith(ctx context.Context, cfg Config, param string) (*postgis.DB, *slog.Logger, error) {
	log := newLogger(cfg)
	u := cfg.DatabaseURL
	if u == "" {
		var err error
		if u, err = privateCluster(cfg, log).Up(ctx); err != nil {
			return nil, log, err
		}
	}
	if param != "" {
		u = withParam(u, param)
	}
	db, err := postgis.Open(ctx, u, int32(cfg.DBMaxConns), cfg.DBTimeout)
	return db, log, err
}

// withParam adds name=value to a connection URL or a key/value string.
func withParam(conn, param string) string {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " " + param
	}
	if strings.Contains(conn, "?") {
		return conn + "&" + param
	}
	return conn + "?" + param
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, _, err := parse("migrate", args, nil)
	if err != nil {
		return err
	}
	db, log, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	applied, err := db.Migrate(ctx, log)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		_, err = fmt.Fprintln(stdout, "schema is current; nothing to apply")
		return err
	}
	_, err = fmt.Fprintf(stdout, "applied %d migration(s) in %s\n", len(applied), time.Since(start).Round(time.Millisecond))
	return err
}
