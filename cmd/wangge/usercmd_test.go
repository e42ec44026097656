package main

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis/pgtest"
)

// runWith runs the binary with stdin.
func runWith(t *testing.T, env []string, stdin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// TestUserTokenAuditCommands drives the CLI as an operator would: add a
// user (password on stdin), issue a token (alone on the last line), use it
// against a real server, revoke it, and verify the audit chain before and
// after a row is tampered with.
func TestUserTokenAuditCommands(t *testing.T) {
	db, dbURL := pgtest.New(t)
	env := []string{"DATABASE_URL=" + dbURL}
	if code, out := runWith(t, env, "a long enough password\n", "user", "add", "wang.wu", "-role", "commander", "-region", "500103"); code != 0 ||
		!strings.Contains(out, "added wang.wu: commander of 500103") {
		t.Fatalf("user add: exit %d\n%s", code, out)
	}
	for _, bad := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"user", "add", "x1", "-role", "viewer"}, "shorter than"},
		{"", []string{"user", "add", "x2", "-role", "viewer"}, "no password on stdin"},
		{"a long enough password\n", []string{"user", "add", "x3", "-role", "mayor"}, "unknown role"},
		{"a long enough password\n", []string{"user", "add", "x4", "-role", "grid_worker", "-region", "500103"}, "grid (15 digits)"},
		{"a long enough password\n", []string{"user", "add", "wang.wu", "-role", "viewer"}, "taken"},
	} {
		if code, out := runWith(t, env, bad.stdin, bad.args...); code == 0 || !strings.Contains(out, bad.want) {
			t.Errorf("%v: exit %d, want %q in\n%s", bad.args, code, bad.want, out)
		}
	}
	code, out := runWith(t, env, "", "token", "create", "wang.wu", "-ttl", "1h", "-label", "wall screen")
	tok := lastLine(out)
	if code != 0 || !strings.HasPrefix(tok, "wgt_") || strings.Contains(tok, " ") {
		t.Fatalf("token create: exit %d, last line %q\n%s", code, tok, out)
	}
	if code, out := runWith(t, env, "", "user", "list"); code != 0 || !strings.Contains(out, "wang.wu") || strings.Contains(out, "argon2") {
		t.Fatalf("user list: exit %d\n%s", code, out)
	}
	base, _ := startServer(t, dbURL)
	call := func() int {
		req, _ := http.NewRequest("GET", base+"/api/v1/session", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := call(); st != 200 {
		t.Fatalf("token from the CLI: %d", st)
	}
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT max(id)::text FROM credentials`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if code, out := runWith(t, env, "", "token", "revoke", id); code != 0 {
		t.Fatalf("token revoke: exit %d\n%s", code, out)
	}
	deadline := time.Now().Add(2 * time.Second)
	for call() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("revoked token still accepted by the running server after 2 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, out := runWith(t, env, "", "audit", "verify"); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on an untouched log: exit %d\n%s", code, out)
	}
	if _, err := db.Pool.Exec(context.Background(), `UPDATE audit_log SET target = 'nothing' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if code, out := runWith(t, env, "", "audit", "verify"); code == 0 || !strings.Contains(out, "changed") {
		t.Fatalf("audit verify after tampering: exit %d\n%s", code, out)
	}
}
