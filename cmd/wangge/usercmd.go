package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// stdin is where `user add` reads the password (a test sets it).
var stdin io.Reader = os.Stdin

// splitName takes `NAME -flags…` or `-flags… NAME`: the one positional
// argument of user and token commands.
func splitName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// openNamed parses a subcommand's flags (the shared ones and its own) with
// its one positional NAME, and opens the database.
func openNamed(ctx context.Context, cmd string, args []string, flags func(*flag.FlagSet)) (*postgis.DB, string, error) {
	name, rest := splitName(args)
	cfg, fs, err := parse(cmd, rest, flags)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = fs.Arg(0)
	}
	db, _, err := openDB(ctx, cfg)
	return db, name, err
}

// userCmd: wangge user add NAME -role ROLE [-region CODE] [-unit ID]
// [-no-password] (the password is read from stdin), user list, user
// disable NAME.
func userCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: add, list or disable")
	}
	sub := args[0]
	var (
		role, region string
		unit         int64
		noPassword   bool
	)
	db, name, err := openNamed(ctx, "user "+sub, args[1:], func(fs *flag.FlagSet) {
		if sub == "add" {
			fs.StringVar(&role, "role", "", "admin, commander, grid_worker, planner, approver, responder, auditor, viewer, gateway or sensor")
			fs.StringVar(&region, "region", "", "jurisdiction: a district, street, community or grid code; empty: the whole city")
			fs.Int64Var(&unit, "unit", 0, "a responder's unit id")
			fs.BoolVar(&noPassword, "no-password", false, "an account for programs: bearer tokens only, no login")
		}
	})
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		return userAdd(ctx, db, stdout, name, role, region, unit, noPassword)
	case "list":
		return userList(ctx, db, stdout)
	case "disable":
		if name == "" {
			return errors.New("user disable: give the name")
		}
		if err := db.DisableUser(ctx, wangge.CityScope(), name); err != nil {
			return err
		}
		cliAudit(ctx, db, "users.manage disable", "user "+name)
		_, err := fmt.Fprintf(stdout, "disabled %s; its sessions and tokens are revoked\n", name)
		return err
	}
	return fmt.Errorf("user: unknown subcommand %q (add, list, disable)", sub)
}

func userAdd(ctx context.Context, db *postgis.DB, stdout io.Writer, name, role, region string, unit int64, noPassword bool) error {
	if name == "" || role == "" {
		return errors.New("user add: usage: wangge user add NAME -role ROLE [-region CODE] [-unit ID] < password")
	}
	n := postgis.NewUser{Name: name, Role: wangge.Role(role), Region: region}
	if unit > 0 {
		n.UnitID = &unit
	}
	if !noPassword {
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		n.Password = pw
	}
	u, err := db.CreateUser(ctx, n)
	if err != nil {
		return err
	}
	cliAudit(ctx, db, "users.manage add", "user "+u.Name)
	_, err = fmt.Fprintf(stdout, "added %s: %s of %s\n", u.Name, u.Role, regionName(u.Region))
	return err
}

// readPassword takes the first line of r (a pipe or a terminal).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, wangge.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("user add: read the password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("user add: no password on stdin (pipe one in, or -no-password for a program's account)")
	}
	return pw, nil
}

func regionName(r string) string {
	if r == "" {
		return "city"
	}
	return r
}

func userList(ctx context.Context, db *postgis.DB, stdout io.Writer) error {
	us, err := db.Users(ctx, wangge.CityScope())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tREGION\tUNIT\tSTATE\tCREATED")
	for _, u := range us {
		unit, state := "", "active"
		if u.UnitID != nil {
			unit = strconv.FormatInt(*u.UnitID, 10)
		}
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, regionName(u.Region), unit, state, u.CreatedAt.Format(time.RFC3339))
	}
	return w.Flush()
}

// tokenCmd: wangge token create NAME [-ttl 720h] [-label L] (the token
// alone on the last line), token revoke ID, token list.
func tokenCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: create, revoke or list")
	}
	sub := args[0]
	var (
		ttl   time.Duration
		label string
	)
	db, name, err := openNamed(ctx, "token "+sub, args[1:], func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.DurationVar(&ttl, "ttl", 720*time.Hour, "how long the token works")
			fs.StringVar(&label, "label", "", "what the token is for")
		}
	})
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		if name == "" {
			return errors.New("token create: usage: wangge token create NAME [-ttl 720h] [-label L]")
		}
		secret, c, err := db.IssueToken(ctx, wangge.CityScope(), name, ttl, label)
		if err != nil {
			return err
		}
		cliAudit(ctx, db, "users.manage token", "credential "+strconv.FormatInt(c.ID, 10))
		fmt.Fprintf(stdout, "token %d for %s, expires %s (shown once; send it as Authorization: Bearer …)\n", c.ID, c.User, c.ExpiresAt.Format(time.RFC3339))
		_, err = fmt.Fprintln(stdout, secret)
		return err
	case "revoke":
		id, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			return fmt.Errorf("token revoke: give the token's id (wangge token list), not %q", name)
		}
		if err := db.RevokeCredential(ctx, id); err != nil {
			return err
		}
		cliAudit(ctx, db, "users.manage revoke", "credential "+name)
		_, err = fmt.Fprintf(stdout, "revoked %d on every replica\n", id)
		return err
	case "list":
		cs, err := db.Credentials(ctx, wangge.CityScope(), false)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSER\tLABEL\tEXPIRES\tSTATE")
		for _, c := range cs {
			state := "active"
			if c.RevokedAt != nil {
				state = "revoked"
			} else if time.Now().After(c.ExpiresAt) {
				state = "expired"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", c.ID, c.User, c.Label, c.ExpiresAt.Format(time.RFC3339), state)
		}
		return w.Flush()
	}
	return fmt.Errorf("token: unknown subcommand %q (create, revoke, list)", sub)
}

// auditCmd: wangge audit verify exits non-zero when the chain is broken.
func auditCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("audit: verify")
	}
	db, _, err := openNamed(ctx, "audit verify", args[1:], nil)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit log broken after %d intact rows: %w", max(n-1, 0), err)
	}
	_, err = fmt.Fprintf(stdout, "audit log intact: %d rows chained\n", n)
	return err
}

// cliAudit records an operator's action; the command has already
// succeeded, so a failure to record it is reported, not fatal.
func cliAudit(ctx context.Context, db *postgis.DB, action, target string) {
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	err := postgis.AppendAudit(ctx, db, []postgis.AuditRecord{{Actor: actor, Role: "operator", Action: action,
		Target: target, RequestID: "-", Client: "cli", Outcome: "ok"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wangge: warning: the audit row was not written:", err)
	}
}
