package cluster

import (
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests need no PostgreSQL: they check where a checkout's cluster is
// found and which port a new one gets. The real clusters are started by
// cmd/wangge's TestFreshMachineClusters.

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newCheckout is a checkout's .data folder under a fresh folder.
func newCheckout(t *testing.T, name string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), name, ".data")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePorts finds n consecutive ports nothing listens on, away from the
// developer's 54329.
func freePorts(t *testing.T, n int) int {
	t.Helper()
next:
	for p := 56100; p < 60000; p += n {
		for i := range n {
			if !listenable(p + i) {
				continue next
			}
		}
		return p
	}
	t.Fatal("no free ports")
	return 0
}

// A port held by another checkout's cluster (claimed, running or not) or by
// any listener is skipped; a port asked for explicitly that a program other
// than a wangge cluster holds is an error that says so.
func TestChoosePort(t *testing.T) {
	m := t.TempDir()
	p := freePorts(t, 4)
	other := newCheckout(t, "other")
	writeJSON(t, filepath.Join(other, "pg.json"), state{Port: p, DataDir: "/nowhere/pg"})
	a := &Cluster{Root: newCheckout(t, "a"), MachineDir: m, Log: quiet()}
	(&Cluster{Root: other, MachineDir: m, Log: quiet()}).claim(p)

	if got, err := a.choosePort(p, false); err != nil || got != p+1 {
		t.Fatalf("port %d claimed by another checkout: got %d, %v; want %d", p, got, err, p+1)
	}
	if got, err := a.choosePort(p, true); err != nil || got != p+1 {
		t.Fatalf("explicit port %d claimed by another checkout's cluster: got %d, %v; want the next, %d", p, got, err, p+1)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got, err := a.choosePort(p, false); err != nil || got != p+2 {
		t.Fatalf("ports %d (claimed) and %d (listened on): got %d, %v; want %d", p, p+1, got, err, p+2)
	}
	_, err = a.choosePort(p+1, true)
	if err == nil || !strings.Contains(err.Error(), "not a wangge checkout's cluster") || !strings.Contains(err.Error(), strconv.Itoa(p+1)) {
		t.Fatalf("explicit port taken by another program: err = %v, want a clear refusal", err)
	}
	if h := a.portHolder(p); !strings.Contains(h, other) {
		t.Fatalf("portHolder(%d) = %q, want the other checkout", p, h)
	}

	// A claim whose checkout no longer records that port is stale: the port
	// is free again and the claim is gone.
	writeJSON(t, filepath.Join(other, "pg.json"), state{Port: p + 3, DataDir: "/nowhere/pg"})
	if got, err := a.choosePort(p, false); err != nil || got != p {
		t.Fatalf("stale claim on %d: got %d, %v", p, got, err)
	}
	if exists(a.claimPath(p)) {
		t.Fatal("the stale claim is still there")
	}

	// Claiming a new port drops the checkout's old claim.
	a.claim(p)
	a.claim(p + 2)
	if exists(a.claimPath(p)) || !exists(a.claimPath(p+2)) {
		t.Fatal("claim did not move from the old port to the new one")
	}
}

// A cluster made in the checkout before the machine folder (.data/pg) is
// still the one used; a cluster in the machine folder follows a moved
// checkout, and a copy of another checkout's .data gets its own.
func TestCurrentCluster(t *testing.T) {
	m := t.TempDir()

	legacy := newCheckout(t, "legacy")
	if err := os.MkdirAll(filepath.Join(legacy, "pg"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(legacy, "pg", "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(legacy, "pg.json"), state{Port: 54329, Password: "pw",
		DataDir: filepath.Join(legacy, "pg"), Socket: filepath.Join(legacy, "run")})
	st, ok, err := (&Cluster{Root: legacy, MachineDir: m, Log: quiet()}).current()
	if err != nil || !ok || st.DataDir != filepath.Join(legacy, "pg") || st.Port != 54329 {
		t.Fatalf("legacy cluster: %+v, %v, %v", st, ok, err)
	}

	// A cluster in the machine folder, made for checkout a.
	place := filepath.Join(m, "a-123")
	pg := filepath.Join(place, "pg")
	if err := os.MkdirAll(pg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pg, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newCheckout(t, "a")
	rec := state{Port: 54400, Password: "pw", DataDir: pg, Socket: filepath.Join(place, "run")}
	writeJSON(t, filepath.Join(a, "pg.json"), rec)
	if err := writeOwner(place, a); err != nil {
		t.Fatal(err)
	}
	if st, ok, err := (&Cluster{Root: a, MachineDir: m, Log: quiet()}).current(); err != nil || !ok || st != rec {
		t.Fatalf("own cluster: %+v, %v, %v", st, ok, err)
	}

	// The same checkout reached through a symbolic link is not a copy.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(a), link); err != nil {
		t.Fatal(err)
	}
	if st, ok, err := (&Cluster{Root: filepath.Join(link, ".data"), MachineDir: m, Log: quiet()}).current(); err != nil || !ok || st != rec {
		t.Fatalf("own cluster through a symbolic link: %+v, %v, %v", st, ok, err)
	}
	if got := readOwner(place); got != a {
		t.Fatalf("reached through a link, the cluster now names %q, want still %q", got, a)
	}

	// b is a copy of a's .data while a still uses the cluster: b has none yet.
	b := newCheckout(t, "b")
	writeJSON(t, filepath.Join(b, "pg.json"), rec)
	if _, ok, err := (&Cluster{Root: b, MachineDir: m, Log: quiet()}).current(); err != nil || ok {
		t.Fatalf("copied .data: ok = %v, %v; want no cluster of its own yet", ok, err)
	}

	// a is moved to c: the cluster follows.
	c := newCheckout(t, "c")
	writeJSON(t, filepath.Join(c, "pg.json"), rec)
	if err := os.Remove(filepath.Join(a, "pg.json")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := (&Cluster{Root: c, MachineDir: m, Log: quiet()}).current(); err != nil || !ok {
		t.Fatalf("moved checkout: ok = %v, %v", ok, err)
	}
	if got := readOwner(place); got != c {
		t.Fatalf("moved checkout: the cluster names %q, want %q", got, c)
	}

	// No pg.json, or its data gone: no cluster.
	if _, ok, err := (&Cluster{Root: newCheckout(t, "d"), MachineDir: m, Log: quiet()}).current(); err != nil || ok {
		t.Fatalf("fresh checkout: ok = %v, %v", ok, err)
	}
	if err := os.RemoveAll(pg); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := (&Cluster{Root: c, MachineDir: m, Log: quiet()}).current(); err != nil || ok {
		t.Fatalf("data gone: ok = %v, %v", ok, err)
	}
}

// The machine folder's names are readable, distinct per path and short
// enough for a Unix socket path.
func TestPlaceName(t *testing.T) {
	a, b := placeName("/root/wangge/.data"), placeName("/home/li/wangge/.data")
	if a == b || !strings.HasPrefix(a, "wangge-") {
		t.Fatalf("placeName: %q, %q", a, b)
	}
	long := placeName("/x/" + strings.Repeat("长", 40) + " y'z/.data")
	if len(long) > 40 || strings.ContainsAny(long, " '/") {
		t.Fatalf("placeName of an odd folder: %q", long)
	}
}
