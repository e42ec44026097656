// Package benchkit holds what the bench programs share: a throwaway
// database, a parallel driver and percentiles.
package benchkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/postgis"
)

// FreshDB creates an empty database named prefix_<random> next to base
// and returns its URL and a func that drops it (or, with keep, prints its
// name and leaves it for a look afterwards).
func FreshDB(ctx context.Context, base, prefix string, keep bool) (string, func(), error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("benchkit: %w", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("benchkit: create %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("benchkit: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		if keep {
			fmt.Println("kept database", name)
		} else {
			_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		admin.Close(context.Background())
	}, nil
}

// Throwaway is FreshDB next to DATABASE_URL, opened with a pool of conns
// and migrated: what every bench starts from. cleanup closes the pool and
// drops (or keeps) the database.
func Throwaway(ctx context.Context, prefix string, conns int32, keep bool, log *slog.Logger) (db *postgis.DB, dbURL string, cleanup func(), err error) {
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		return nil, "", nil, fmt.Errorf("DATABASE_URL is not set (DATABASE_URL=$(bin/wangge db url))")
	}
	dbURL, drop, err := FreshDB(ctx, base, prefix, keep)
	if err != nil {
		return nil, "", nil, err
	}
	if db, err = postgis.Open(ctx, dbURL, conns, 10*time.Second); err != nil {
		drop()
		return nil, "", nil, err
	}
	if _, err := db.Migrate(ctx, log); err != nil {
		db.Close()
		drop()
		return nil, "", nil, err
	}
	return db, dbURL, func() { db.Close(); drop() }, nil
}

// Parallel runs f(0..n-1) on GOMAXPROCS goroutines and returns calls/s.
func Parallel(n int, f func(i int)) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				f(int(i))
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// Pct is the p-quantile (0..1) of ds (left as it is).
func Pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}
