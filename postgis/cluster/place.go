package cluster

// Where a checkout's cluster lives and which port it gets.
//
// As root, the server runs as the postgres OS user (it refuses root), and
// that user must reach its data folder. A checkout under /root, or any home
// folder of mode 0700 (Debian's default for root), is out of its reach, so
// a data folder under ./.data cannot work there. The ways out were:
//   - chmod o+x the checkout's parents, or an ACL for postgres on them:
//     changes the permissions of someone's home behind their back;
//   - run the server as the checkout's owner: that is root, which the
//     server refuses;
//   - a dedicated OS user per checkout: more machinery, same reachability
//     problem;
//   - keep the data where the postgres user can always reach it, the way
//     Debian's own clusters live in /var/lib/postgresql: one folder per
//     checkout under /var/lib/wangge, owned by postgres, its path recorded
//     in the checkout's .data/pg.json.
// The last one works whatever the checkout's parents are, so root's new
// clusters go to /var/lib/wangge/<checkout name>-<hash of its .data path>/
// {pg,run} (it also keeps the socket path short). Its file `checkout` names
// the .data it belongs to, which tells a moved checkout (adopt the cluster)
// from a copied one (make its own). Without root the server runs as
// ourselves, who can reach our own checkout: the cluster stays in
// ./.data/pg as before. Clusters already in ./.data/pg keep working there.
//
// Ports: every cluster of the machine claims its port in
// /var/lib/wangge/ports/<port> (the file names the .data it belongs to),
// so a new cluster skips ports that other checkouts' clusters hold, running
// or stopped, as well as any port something listens on. pg.json remembers
// the port a cluster got, and the server is started on that one.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DefaultMachineDir is WANGGE_MACHINE_DIR when set; else /var/lib/wangge
// as root, and the user's state folder (~/.local/state/wangge) otherwise.
func DefaultMachineDir() string {
	if d := os.Getenv("WANGGE_MACHINE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/wangge"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "wangge")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "wangge")
	}
	return filepath.Join(os.TempDir(), "wangge-"+strconv.Itoa(os.Geteuid()))
}

func (c *Cluster) machine() string {
	if c.MachineDir != "" {
		return c.MachineDir
	}
	return DefaultMachineDir()
}

func (c *Cluster) preferredPort() int {
	if c.Port != 0 {
		return c.Port
	}
	return DefaultPort
}

// current finds this checkout's cluster. ok is false when there is none
// yet: no pg.json, its data is gone, or the pg.json came with a copy of
// another checkout's .data whose cluster that checkout still uses.
func (c *Cluster) current() (st state, ok bool, err error) {
	st, err = c.readState()
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	// A cluster made in the checkout (before the machine folder, or
	// without root) is the one in this .data, even if pg.json was written
	// at another path (a moved or copied checkout).
	if legacy := filepath.Join(c.Root, "pg"); exists(filepath.Join(legacy, "PG_VERSION")) {
		st.DataDir = legacy
		return st, true, nil
	}
	if !exists(filepath.Join(st.DataDir, "PG_VERSION")) {
		return st, false, nil
	}
	place := filepath.Dir(st.DataDir)
	owner := readOwner(place)
	if owner == "" || c.isMe(owner) {
		return st, true, nil
	}
	if ownerLive(place) {
		c.lg().Info("this .data was copied from another checkout: making this checkout its own cluster", "other", owner)
		return st, false, nil
	}
	// The checkout moved: the cluster follows it.
	if err := writeOwner(place, c.Root); err != nil {
		c.lg().Warn("cluster: record the moved checkout", "err", err)
	}
	return st, true, nil
}

// newPlace makes the data and socket folders of a new cluster.
func (c *Cluster) newPlace() (dataDir, sockDir string, err error) {
	if os.Geteuid() != 0 {
		return filepath.Join(c.Root, "pg"), filepath.Join(c.Root, "run"), nil
	}
	m := c.machine()
	if err := mkdirReachable(m); err != nil {
		return "", "", err
	}
	c.warnOrphans(m)
	base := placeName(c.Root)
	for i := 1; i < 100; i++ {
		id := base
		if i > 1 {
			id += "-" + strconv.Itoa(i)
		}
		place := filepath.Join(m, id)
		if exists(place) && !c.isMe(readOwner(place)) && ownerLive(place) {
			continue // another checkout's, which reached this name first
		}
		if err := mkdirReachable(place); err != nil {
			return "", "", err
		}
		if err := writeOwner(place, c.Root); err != nil {
			return "", "", err
		}
		return filepath.Join(place, "pg"), filepath.Join(place, "run"), nil
	}
	return "", "", fmt.Errorf("cluster: no free folder for %s under %s", c.Root, m)
}

// placeName is the checkout folder's name (for people) and a hash of the
// .data path (for uniqueness).
func placeName(root string) string {
	sum := sha256.Sum256([]byte(root))
	name := []byte(filepath.Base(filepath.Dir(root)))
	for i, b := range name {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.') {
			name[i] = '_'
		}
	}
	if len(name) > 24 {
		name = name[:24]
	}
	return strings.TrimLeft(string(name), ".") + "-" + hex.EncodeToString(sum[:6])
}

// mkdirReachable makes dir, traversable by the postgres user whatever the
// umask.
func mkdirReachable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cluster: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("cluster: chmod %s: %w", dir, err)
	}
	return nil
}

func readOwner(place string) string {
	b, err := os.ReadFile(filepath.Join(place, "checkout"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writeOwner(place, root string) error {
	if err := os.WriteFile(filepath.Join(place, "checkout"), []byte(root+"\n"), 0o644); err != nil {
		return fmt.Errorf("cluster: record the checkout of %s: %w", place, err)
	}
	return nil
}

// ownerLive tells whether the checkout named in place still uses the
// cluster there (its pg.json points at it).
func ownerLive(place string) bool {
	owner := readOwner(place)
	if owner == "" {
		return false
	}
	st, err := readState(owner)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) // unreadable: assume it does
	}
	return filepath.Clean(st.DataDir) == filepath.Join(place, "pg")
}

// warnOrphans names the clusters whose checkout is gone: removing a
// checkout no longer removes its data.
func (c *Cluster) warnOrphans(m string) {
	entries, _ := os.ReadDir(m)
	for _, e := range entries {
		place := filepath.Join(m, e.Name())
		if e.IsDir() && readOwner(place) != "" && !ownerLive(place) {
			c.lg().Info("left-over private cluster of a checkout that is gone; when it is stopped, `rm -rf` frees its space",
				"dir", place, "checkout", readOwner(place))
		}
	}
}

// choosePort returns from, or the next port after it, that no other
// checkout's cluster claims and nothing listens on. When from was asked
// for explicitly, a program other than a wangge cluster on it is an error.
func (c *Cluster) choosePort(from int, explicit bool) (int, error) {
	for p := from; p <= 65535 && p < from+200; p++ {
		if other := c.claimant(p); other != "" {
			c.lg().Info("port held by another checkout's cluster; trying the next", "port", p, "checkout", other)
			continue
		}
		if !listenable(p) {
			if explicit && p == from {
				return 0, fmt.Errorf("cluster: port %d (-pg-port or WANGGE_PG_PORT) is in use by a program that is not a wangge checkout's cluster: stop it, choose another port, or leave the port unset to get a free one", p)
			}
			continue
		}
		if p != from {
			c.lg().Info("private PostGIS: the port is taken; this checkout's cluster gets another", "port", from, "new_port", p)
		}
		return p, nil
	}
	return 0, fmt.Errorf("cluster: no free port in %d..%d", from, from+199)
}

// portHolder says who keeps port from this checkout's cluster, "" when
// nobody does.
func (c *Cluster) portHolder(p int) string {
	if other := c.claimant(p); other != "" {
		return "the cluster of " + other
	}
	if !listenable(p) {
		return "another program"
	}
	return ""
}

func listenable(p int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func (c *Cluster) claimPath(p int) string {
	return filepath.Join(c.machine(), "ports", strconv.Itoa(p))
}

// claimant is the .data of another checkout whose cluster claims port p
// and still records it, "" when none does. A stale claim is removed.
func (c *Cluster) claimant(p int) string {
	b, err := os.ReadFile(c.claimPath(p))
	if err != nil {
		return ""
	}
	other := strings.TrimSpace(string(b))
	if other == "" || c.isMe(other) {
		return ""
	}
	st, err := readState(other)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return other // unreadable: assume it still holds the port
	}
	if err == nil && st.Port == p {
		return other
	}
	_ = os.Remove(c.claimPath(p))
	return ""
}

// claim records port p as this checkout's and drops its other claims. The
// claims only steer other checkouts, so failing to write one is a warning.
func (c *Cluster) claim(p int) {
	dir := filepath.Join(c.machine(), "ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.lg().Warn("cluster: cannot record the port claim", "err", err)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() == strconv.Itoa(p) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && c.isMe(strings.TrimSpace(string(b))) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	tmp := c.claimPath(p) + ".tmp"
	if err := os.WriteFile(tmp, []byte(c.Root+"\n"), 0o644); err == nil {
		err = os.Rename(tmp, c.claimPath(p))
		if err != nil {
			c.lg().Warn("cluster: cannot record the port claim", "err", err)
		}
	} else {
		c.lg().Warn("cluster: cannot record the port claim", "err", err)
	}
}

// lock serializes choosing a port and starting on it across the checkouts
// of the machine. Without the lock file (an unwritable machine folder) it
// goes on unlocked.
func (c *Cluster) lock() (unlock func()) {
	m := c.machine()
	if err := os.MkdirAll(m, 0o755); err != nil {
		c.lg().Warn("cluster: no machine folder; going on without the lock", "err", err)
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(m, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		c.lg().Warn("cluster: no lock file; going on without it", "err", err)
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		c.lg().Warn("cluster: cannot lock; going on without it", "err", err)
		return func() {}
	}
	return func() { f.Close() }
}

// isMe tells whether root is this checkout's .data, also when reached by
// another path (a symbolic link): such a checkout is neither a copy nor
// another checkout.
func (c *Cluster) isMe(root string) bool { return samePath(root, c.Root) }

func samePath(x, y string) bool {
	if x == y {
		return true
	}
	a, err := os.Stat(x)
	if err != nil {
		return false
	}
	b, err := os.Stat(y)
	return err == nil && os.SameFile(a, b)
}

func (c *Cluster) lg() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// relocateSocket points a cluster made in the checkout at this checkout's
// socket folder when pg.json names another one (the checkout was moved or
// copied): the server would otherwise use, or miss, the old checkout's.
func (c *Cluster) relocateSocket(st *state) error {
	sock := filepath.Join(c.Root, "run")
	if st.DataDir != filepath.Join(c.Root, "pg") || samePath(st.Socket, sock) {
		return nil
	}
	if err := os.MkdirAll(sock, 0o700); err != nil {
		return fmt.Errorf("cluster: create %s: %w", sock, err)
	}
	if err := c.chownToServer(sock); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(st.DataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cluster: open postgresql.conf: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# this checkout's own socket folder\nunix_socket_directories = '%s'\n", strings.ReplaceAll(sock, "'", "''"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cluster: write postgresql.conf: %w", err)
	}
	st.Socket = sock
	return c.writeState(*st)
}
