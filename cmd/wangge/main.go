// Command wangge is the grid-governance GIS service: one binary with the
// subcommands serve, migrate, seed, import, db and version. It is the only
// package that sees every other one and wires them together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `wangge — grid-governance GIS service and map tile server

usage: wangge <command> [flags]

commands:
  serve              run the HTTP server (map, tiles, API) on -addr (default 127.0.0.1:8080)
  migrate            apply pending schema migrations (safe to run twice, or from two replicas at once)
  seed               fill an empty database with the generated demo city (see wangge seed -h)
  seed checksum      print a digest of every table (same seed → same digest)
  import             load your own boundaries or layers from a GeoJSON file (see wangge import -h)
  db up|stop|url|status
                     manage the private PostGIS cluster under ./.data (the default database)
  user add NAME -role ROLE [-region CODE] [-unit ID]
                     add an account (password read from stdin); user list; user disable NAME
  token create NAME [-ttl 720h] [-label L]
                     a bearer token for a user, alone on the last line; token list; token revoke ID
  audit verify       check the audit log's hash chain (non-zero exit when broken)
  rollups verify|rebuild
                     recompute the region and event rollups from the base tables: list any drift
                     (non-zero exit), or replace them
  version            print the version

Every command takes -h. Configuration: flag, then environment (WANGGE_*, DATABASE_URL), then default.
`

type command func(ctx context.Context, args []string, stdout io.Writer) error

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		// One clear line for a person; the details were logged already.
		fmt.Fprintln(os.Stderr, "wangge:", oneLine(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmds := map[string]command{
		"serve":   serve,
		"migrate": migrate,
		"seed":    seed,
		"import":  importCmd,
		"db":      dbCmd,
		"user":    userCmd,
		"token":   tokenCmd,
		"audit":   auditCmd,
		"rollups": rollupsCmd,
		"version": func(_ context.Context, _ []string, w io.Writer) error { _, err := fmt.Fprintln(w, version); return err },
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return nil
		}
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout)
}

// parse reads the shared flags plus the command's own, and validates.
func parse(name string, args []string, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	var cfg Config
	fs := flag.NewFlagSet("wangge "+name, flag.ContinueOnError)
	cfg.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, fs, err
	}
	return cfg, fs, cfg.validate()
}

// oneLine folds a multi-line error (pgx joins its attempts with newlines)
// into the single line an operator reads first.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
