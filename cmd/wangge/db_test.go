package main

import (
	"context"
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
// every other session keeps the server's setting.
func TestBulkSessionsCommitAsynchronously(t *testing.T) {
	_, url := pgtest.New(t)
	ctx := context.Background()
	show := func(u string) string {
		db, err := postgis.Open(ctx, u, 2, 5*time.Second)
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
	if v := show(withParam(url, "synchronous_commit=off")); v != "off" {
		t.Fatalf("bulk session: synchronous_commit = %s, want off", v)
	}
	if v := show(withParam(url, "synchronous_commit=on")); v != "on" {
		t.Fatalf("synchronous_commit = %s, want on", v)
	}
}
