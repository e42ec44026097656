package postgis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wangge/wangge"
)

// DB is the pooled connection to PostGIS.
type DB struct {
	Pool *pgxpool.Pool

	reconnects atomic.Int64 // LISTEN connections lost and re-established
}

// ListenReconnects is how many LISTEN connections were lost (metrics).
func (db *DB) ListenReconnects() int64 { return db.reconnects.Load() }

// Open connects to url and checks the server answers within timeout, so a
// wrong DATABASE_URL fails fast with one clear line instead of on the first
// request.
func Open(ctx context.Context, url string, maxConns int32, timeout time.Duration) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: parse database url: %w", redactErr(err))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.ConnectTimeout = timeout
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "wangge"
	cfg.ConnConfig.RuntimeParams["timezone"] = "Asia/Shanghai"
	// Concurrency comes from concurrent requests; on a small machine a
	// parallel plan for one tile halves everyone else's throughput (a z10
	// grid tile: 35 ms serial, 75 ms with two workers under load).
	// Every read filters on the caller's scope, `code LIKE $1`. A cached
	// generic plan cannot know that $1 is '%' (the whole city) and chose a
	// grid_code index plus a sort of every event: 2.7 s a features page at
	// scale 0.1 where the id order takes milliseconds. Plan each run.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	if _, set := cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"]; !set {
		cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: cannot reach %s:%d/%s: %w: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port,
			cfg.ConnConfig.Database, wangge.ErrUnavailable, err)
	}
	return &DB{Pool: pool}, nil
}

// Close releases every connection.
func (db *DB) Close() { db.Pool.Close() }

// Ping tells whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgis: ping: %w: %w", wangge.ErrUnavailable, err)
	}
	return nil
}

// redactErr drops the parser's echo of the URL, which holds the password.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("malformed connection string")
	}
	return err
}
