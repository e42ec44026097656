package postgis_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func TestUnavailableAndTimedOut(t *testing.T) {
	ctx := context.Background()
	dead, err := pgxpool.New(ctx, "postgres://nobody:x@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	_, err = dead.Exec(ctx, "SELECT 1")
	if !postgis.Unavailable(err) || postgis.TimedOut(err) {
		t.Errorf("a refused connection: Unavailable %v, TimedOut %v (%v)", postgis.Unavailable(err), postgis.TimedOut(err), err)
	}
	db, _ := pgtest.New(t)
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 20"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT pg_sleep(2)")
	if !postgis.TimedOut(err) || postgis.Unavailable(err) {
		t.Errorf("statement_timeout: TimedOut %v, Unavailable %v (%v)", postgis.TimedOut(err), postgis.Unavailable(err), err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = db.Pool.Exec(cctx, "SELECT pg_sleep(2)")
	if !postgis.TimedOut(err) {
		t.Errorf("a request deadline: TimedOut false (%v)", err)
	}
	for _, e := range []error{errors.New("boom"), io.ErrUnexpectedEOF, context.Canceled} {
		if postgis.Unavailable(e) {
			t.Errorf("%v read as the database being down", e)
		}
	}
}
