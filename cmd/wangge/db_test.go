package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func TestWithParam(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@127.0.0.1:5432/db", "postgres://u:p@127.0.0.1:5432/db?synchronous_commit=off"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?sslmode=disable&synchronous_commit=off"},
		{"host=/run/pg port=5432 dbname=db", "host=/run/pg port=5432 dbname=db synchronous_commit=off"},
	} {
		if got := withParam(c.in, "synchronous_commit=off"); got != c.want {
			t.Errorf("withParam(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The seed's sessions skip the WAL flush (a load that can be redone);
// every other command's sessions keep the server's setting.
func TestBulkSessionsCommitAsynchronously(t *testing.T) {
	plain, url := pgtest.New(t)
	ctx := context.Background()
	cfg := Config{DatabaseURL: url, DBMaxConns: 2, DBTimeout: 5 * time.Second, LogLevel: "error"}
	show := func(open func(context.Context, Config) (*postgis.DB, *slog.Logger, error)) string {
		db, _, err := open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v string
		if err := db.Pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := show(openBulkDB); v != "off" {
		t.Fatalf("seed session: synchronous_commit = %s, want off", v)
	}
	var server string
	if err := plain.Pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&server); err != nil {
		t.Fatal(err)
	}
	if v := show(openDB); v != server {
		t.Fatalf("serve session: synchronous_commit = %s, the server's is %s", v, server)
	}
}
