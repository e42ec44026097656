package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// demoAccountsFile is where the demo accounts' passwords go, beside the
// private cluster (git-ignored with it).
const demoAccountsFile = "demo-accounts.txt"

type demoAccount struct {
	name   string
	role   wangge.Role
	region string
	unit   int64
	token  bool // a machine: a bearer token instead of a password
}

// demoAccounts is one account per role, at the tiers of the issue: the
// city, a district, a street, a community and a grid.
func demoAccounts(p postgis.DemoPlaces) []demoAccount {
	return []demoAccount{
		{name: "admin", role: wangge.RoleAdmin},
		{name: "commander", role: wangge.RoleCommander},
		{name: "district.commander", role: wangge.RoleCommander, region: p.District},
		{name: "street.commander", role: wangge.RoleCommander, region: p.Street},
		{name: "community.commander", role: wangge.RoleCommander, region: p.Community},
		{name: "grid.worker", role: wangge.RoleGridWorker, region: p.Grid},
		{name: "planner", role: wangge.RolePlanner, region: p.Street},
		{name: "approver", role: wangge.RoleApprover, region: p.District},
		{name: "responder", role: wangge.RoleResponder, region: p.District, unit: p.Unit},
		{name: "auditor", role: wangge.RoleAuditor},
		{name: "viewer", role: wangge.RoleViewer},
		{name: "gateway", role: wangge.RoleGateway, token: true},
		{name: "sensor", role: wangge.RoleSensor, region: p.District, token: true},
	}
}

// ensureDemoAccounts creates the demo accounts when the database has no
// account at all, writes their passwords (and the machines' tokens) to
// dataDir/demo-accounts.txt (mode 0600) and prints them once.
func ensureDemoAccounts(ctx context.Context, db *postgis.DB, dataDir string, stdout io.Writer) error {
	if has, err := db.HasUsers(ctx); err != nil || has {
		return err
	}
	places, err := db.DemoPlaces(ctx)
	if err != nil {
		return fmt.Errorf("demo accounts: %w", err)
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "# wangge demo accounts, created %s. Log in at the map with a name and password;\n", time.Now().Format(time.RFC3339))
	fmt.Fprintln(w, "# programs send a token as Authorization: Bearer …. Delete these accounts before real use.")
	fmt.Fprintln(w, "NAME\tROLE\tREGION\tPASSWORD OR TOKEN")
	for _, a := range demoAccounts(places) {
		n := postgis.NewUser{Name: a.name, Role: a.role, Region: a.region}
		if a.unit > 0 {
			n.UnitID = &a.unit
		}
		secret := ""
		if !a.token {
			if secret, err = demoPassword(); err != nil {
				return err
			}
			n.Password = secret
		}
		if _, err := db.CreateUser(ctx, n); err != nil {
			return fmt.Errorf("demo account %s: %w", a.name, err)
		}
		if a.token {
			if secret, _, err = db.IssueToken(ctx, wangge.CityScope(), a.name, 90*24*time.Hour, "demo"); err != nil {
				return fmt.Errorf("demo token %s: %w", a.name, err)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.name, a.role, regionName(a.region), secret)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	path := filepath.Join(dataDir, demoAccountsFile)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("demo accounts: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("demo accounts: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\ndemo accounts written to %s (shown once here)\n", b.String(), path)
	return err
}

// demoPassword is 16 characters of base32 (80 random bits).
func demoPassword() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo password: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b)), nil
}
