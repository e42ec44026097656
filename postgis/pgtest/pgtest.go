// Package pgtest gives each test package a throwaway, migrated PostGIS
// database created from DATABASE_URL. Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge/postgis"
)

// URL returns DATABASE_URL. Without it the test is skipped, or fails when
// WANGGE_REQUIRE_DB=1 (set by make test and CI), so a CI run can never pass
// by silently skipping every database test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		if os.Getenv("WANGGE_REQUIRE_DB") == "1" {
			t.Fatal("pgtest: DATABASE_URL is not set but WANGGE_REQUIRE_DB=1: start the private PostGIS with `go run ./cmd/wangge db up`")
		}
		t.Skip("pgtest: DATABASE_URL not set; skipping a test that needs PostGIS")
	}
	return u
}

// New creates a fresh database, applies every migration and drops the
// database when the test ends. It returns the open DB and its URL (for
// tests that start a server process of their own).
func New(t testing.TB) (*postgis.DB, string) {
	t.Helper()
	db, u := Empty(t)
	if _, err := db.Migrate(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return db, u
}

// Empty is New without migrations.
func Empty(t testing.TB) (*postgis.DB, string) {
	t.Helper()
	base := URL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "wangge_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse DATABASE_URL: %v", err)
	}
	pu.Path = "/" + name
	u := pu.String()
	db, err := postgis.Open(ctx, u, 8, 10*time.Second)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return db, u
}
