package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration: flag, then environment (WANGGE_*,
// DATABASE_URL), then default. It is validated once and logged redacted.
type Config struct {
	Addr             string
	DatabaseURL      string // empty: the private PostGIS under DataDir
	DataDir          string
	PGPort           int
	LogLevel         string
	LogFormat        string
	MaxBodyBytes     int64
	DBMaxConns       int
	DBTimeout        time.Duration
	ShutdownTimeout  time.Duration
	TileCacheBytes   int64
	WarmZoom         int
	DemoFeed         time.Duration // > 0: report a synthetic incident this often (make run's living demo)
	AllowedHosts     []string      // Host headers served; empty: the listen address and localhost
	CORSOrigins      []string      // browser origins allowed to call the API; empty: none
	Open311Public    bool          // Open311 discovery and services open to anonymous callers
	SessionTTL       time.Duration // how long a login lasts
	OIDC             OIDCConfig    // single sign-on; Issuer "": off
	Limits           bool          // per-class deadlines and per-credential rate/concurrency limits
	StatementTimeout time.Duration // serve's backstop on every SQL statement

	envErrs []error // malformed environment values, reported by validate
}

// register adds the flags shared by every subcommand, their defaults taken
// from the environment so that a flag beats env and env beats the default.
func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("WANGGE_ADDR", "127.0.0.1:8080"), "listen address (WANGGE_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", env("WANGGE_DATABASE_URL", "")),
		"PostGIS connection string (DATABASE_URL); empty: the private cluster under -data-dir")
	fs.StringVar(&c.DataDir, "data-dir", env("WANGGE_DATA_DIR", ".data"), "folder of the private PostGIS (WANGGE_DATA_DIR)")
	fs.IntVar(&c.PGPort, "pg-port", c.envInt("WANGGE_PG_PORT", 54329), "port of the private PostGIS (WANGGE_PG_PORT)")
	fs.StringVar(&c.LogLevel, "log-level", env("WANGGE_LOG_LEVEL", "info"), "debug, info, warn or error (WANGGE_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("WANGGE_LOG_FORMAT", "text"), "text or json (WANGGE_LOG_FORMAT)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(c.envInt("WANGGE_MAX_BODY_BYTES", 8<<20)), "largest request body (WANGGE_MAX_BODY_BYTES)")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.envInt("WANGGE_DB_MAX_CONNS", 16), "PostGIS pool size (WANGGE_DB_MAX_CONNS)")
	fs.DurationVar(&c.DBTimeout, "db-timeout", c.envDuration("WANGGE_DB_TIMEOUT", 5*time.Second), "connect timeout (WANGGE_DB_TIMEOUT)")
	fs.Int64Var(&c.TileCacheBytes, "tile-cache-bytes", int64(c.envInt("WANGGE_TILE_CACHE_BYTES", 256<<20)), "memory for cached tiles (WANGGE_TILE_CACHE_BYTES)")
	fs.IntVar(&c.WarmZoom, "tile-warm-zoom", c.envInt("WANGGE_TILE_WARM_ZOOM", 10), "render the city's onemap and grid tiles up to this zoom at start; -1: off (WANGGE_TILE_WARM_ZOOM)")
	fs.DurationVar(&c.DemoFeed, "demo-feed", c.envDuration("WANGGE_DEMO_FEED", 0),
		"report a synthetic incident this often, so a demo wall shows live events; 0: off (WANGGE_DEMO_FEED)")
	fs.Func("allowed-hosts", "comma-separated Host headers served (host or host:port); default: the listen address and localhost (WANGGE_ALLOWED_HOSTS)",
		func(v string) error { c.AllowedHosts = splitKeys(v); return nil })
	c.AllowedHosts = splitKeys(env("WANGGE_ALLOWED_HOSTS", ""))
	fs.Func("cors-origins", "comma-separated browser origins allowed to call the API; default none (WANGGE_CORS_ORIGINS)",
		func(v string) error { c.CORSOrigins = splitKeys(v); return nil })
	c.CORSOrigins = splitKeys(env("WANGGE_CORS_ORIGINS", ""))
	fs.BoolVar(&c.Open311Public, "open311-public", env("WANGGE_OPEN311_PUBLIC", "true") == "true",
		"Open311 discovery and service list open to anonymous callers (WANGGE_OPEN311_PUBLIC)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.envDuration("WANGGE_SESSION_TTL", 12*time.Hour),
		"how long a login lasts (WANGGE_SESSION_TTL)")
	fs.BoolVar(&c.Limits, "limits", env("WANGGE_LIMITS", "true") == "true",
		"request deadlines per route class and per-credential rate and concurrency limits (429 with Retry-After) (WANGGE_LIMITS)")
	fs.DurationVar(&c.StatementTimeout, "statement-timeout", c.envDuration("WANGGE_STATEMENT_TIMEOUT", 30*time.Second),
		"serve: PostgreSQL statement_timeout of every statement, a backstop behind the request deadlines (WANGGE_STATEMENT_TIMEOUT)")
	fs.StringVar(&c.OIDC.Issuer, "oidc-issuer", env("WANGGE_OIDC_ISSUER", ""), "OpenID Connect issuer URL for single sign-on; empty: off (WANGGE_OIDC_ISSUER)")
	fs.StringVar(&c.OIDC.ClientID, "oidc-client-id", env("WANGGE_OIDC_CLIENT_ID", ""), "OpenID Connect client id (WANGGE_OIDC_CLIENT_ID)")
	c.OIDC.ClientSecret = env("WANGGE_OIDC_CLIENT_SECRET", "") // environment only: a flag shows in ps
	fs.StringVar(&c.OIDC.RedirectURL, "oidc-redirect-url", env("WANGGE_OIDC_REDIRECT_URL", ""), "callback URL registered with the issuer; empty: this server's /api/v1/session/oidc/callback (WANGGE_OIDC_REDIRECT_URL)")
	fs.StringVar(&c.OIDC.RoleClaim, "oidc-role-claim", env("WANGGE_OIDC_ROLE_CLAIM", "wangge_role"), "ID token claim carrying the wangge role (WANGGE_OIDC_ROLE_CLAIM)")
	fs.StringVar(&c.OIDC.RegionClaim, "oidc-region-claim", env("WANGGE_OIDC_REGION_CLAIM", "wangge_region"), "ID token claim carrying the region code (WANGGE_OIDC_REGION_CLAIM)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.envDuration("WANGGE_SHUTDOWN_TIMEOUT", 15*time.Second),
		"grace period for in-flight requests on SIGTERM (WANGGE_SHUTDOWN_TIMEOUT)")
}

// validate checks the values once, so a typo fails at start with one line.
func (c *Config) validate() error {
	if len(c.envErrs) > 0 {
		return c.envErrs[0]
	}
	if _, _, err := splitHostPort(c.Addr); err != nil {
		return fmt.Errorf("config: -addr %q: %w", c.Addr, err)
	}
	if c.PGPort < 1024 || c.PGPort > 65535 {
		return fmt.Errorf("config: -pg-port %d: want 1024..65535", c.PGPort)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: -log-format %q: want text or json", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("config: -max-body-bytes %d: want at least 1024", c.MaxBodyBytes)
	}
	if c.DemoFeed < 0 || (c.DemoFeed > 0 && c.DemoFeed < 100*time.Millisecond) {
		return fmt.Errorf("config: -demo-feed %v: want 0 (off) or at least 100ms", c.DemoFeed)
	}
	if c.StatementTimeout < 100*time.Millisecond {
		return fmt.Errorf("config: -statement-timeout %v: want at least 100ms", c.StatementTimeout)
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		return fmt.Errorf("config: -session-ttl %v: want 1m..720h", c.SessionTTL)
	}
	if c.OIDC.Issuer != "" {
		if u, err := url.Parse(c.OIDC.Issuer); err != nil || (u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			return fmt.Errorf("config: -oidc-issuer %q: want an https URL", c.OIDC.Issuer)
		}
		if c.OIDC.ClientID == "" {
			return fmt.Errorf("config: -oidc-issuer needs -oidc-client-id")
		}
	}
	if c.WarmZoom < -1 || c.WarmZoom > 14 {
		return fmt.Errorf("config: -tile-warm-zoom %d: want -1..14", c.WarmZoom)
	}
	if c.TileCacheBytes < 1<<20 {
		return fmt.Errorf("config: -tile-cache-bytes %d: want at least 1 MiB", c.TileCacheBytes)
	}
	if c.DBMaxConns < 1 {
		return fmt.Errorf("config: -db-max-conns %d: want at least 1", c.DBMaxConns)
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql" && !strings.Contains(c.DatabaseURL, "=")) {
			return fmt.Errorf("config: DATABASE_URL is not a postgres:// URL or key=value string")
		}
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("config: -data-dir: %w", err)
	}
	c.DataDir = abs
	return nil
}

// OIDCConfig is the single sign-on client.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret, RedirectURL, RoleClaim, RegionClaim string
}

func splitKeys(v string) []string {
	var keys []string
	for _, k := range strings.Split(v, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// LogValue prints the config with the database password redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr), slog.String("database_url", redact(c.DatabaseURL)),
		slog.String("data_dir", c.DataDir), slog.Int("pg_port", c.PGPort), slog.String("log_level", c.LogLevel),
		slog.Int64("max_body_bytes", c.MaxBodyBytes), slog.Int("db_max_conns", c.DBMaxConns),
		slog.Duration("demo_feed", c.DemoFeed))
}

func redact(dsn string) string {
	if dsn == "" {
		return "(private cluster)"
	}
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "(set)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("config: -log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(c Config) *slog.Logger { return slog.New(newHandler(c, os.Stderr)) }

func newHandler(c Config, w io.Writer) slog.Handler {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// newBufferedLogger is newLogger through a logBuffer (run it; see there).
func newBufferedLogger(c Config) (*slog.Logger, *logBuffer) {
	buf := newLogBuffer(os.Stderr)
	return slog.New(flushHandler{newHandler(c, buf), buf}), buf
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func (c *Config) envInt(key string, def int) int {
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("config: %s=%q is not a whole number", key, s))
		return def
	}
	return v
}

func (c *Config) envDuration(key string, def time.Duration) time.Duration {
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("config: %s=%q is not a duration like 5s", key, s))
		return def
	}
	return v
}
