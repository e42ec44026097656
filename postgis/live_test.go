package postgis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func firstUnit(t *testing.T, rs []geo.Responder) geo.Responder {
	t.Helper()
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			return r
		}
	}
	t.Fatal("no unit")
	return geo.Responder{}
}

// TestUnitWriterCoalescesSkipsStaleAndNotifies: many reports of one unit
// become one row write and one notification; a report older than the
// stored position changes nothing.
func TestUnitWriterCoalescesSkipsStaleAndNotifies(t *testing.T) {
	db, rs := seeded(t, 100)
	ctx := context.Background()
	u := firstUnit(t, rs)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+postgis.UnitChannel); err != nil {
		t.Fatal(err)
	}
	w := db.NewUnitWriter(quiet(), time.Hour, 1000)
	for i := 1; i <= 5; i++ {
		w.Enqueue(postgis.UnitUpdate{ID: u.Key.ID, Lon: 106 + float64(i)/100, Lat: 29.5, At: u.PositionAt.Add(time.Duration(i) * time.Second)})
	}
	w.Enqueue(postgis.UnitUpdate{ID: u.Key.ID, Lon: 0, Lat: 0, At: u.PositionAt, Status: geo.StatusOffDuty, StatusAt: u.PositionAt.Add(time.Hour)})
	if n, err := w.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("Flush = %d, %v; want 1 coalesced row", n, err)
	}
	nctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := conn.Conn().WaitForNotification(nctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := postgis.ParseUnitChanges(n.Payload)
	if err != nil || len(cs) != 1 {
		t.Fatalf("payload %q: %v", n.Payload, err)
	}
	if c := cs[0]; c.Lon != 106.05 || c.Status != geo.StatusOffDuty || !c.PositionAt.Equal(u.PositionAt.Add(5*time.Second)) {
		t.Errorf("notified %+v; want lon 106.05, off_duty, position 5 s later", c)
	}
	// An older report: nothing written, nothing announced.
	w.Enqueue(postgis.UnitUpdate{ID: u.Key.ID, Lon: 1, Lat: 1, At: u.PositionAt})
	if _, err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Written() != 1 {
		t.Errorf("written = %d; want 1 (the stale row skipped)", w.Written())
	}
	var lon float64
	if err := db.Pool.QueryRow(ctx, `SELECT ST_X(geom) FROM units WHERE id = $1`, u.Key.ID).Scan(&lon); err != nil || lon != 106.05 {
		t.Errorf("stored lon %v, %v; want 106.05", lon, err)
	}
}

// TestUnitWriterShutdownKeepsQueuedAndInFlight: positions queued just
// before shutdown, including a batch being written when it starts, all
// reach the database.
func TestUnitWriterShutdownKeepsQueuedAndInFlight(t *testing.T) {
	db, rs := seeded(t, 400)
	var units []geo.Responder
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			units = append(units, r)
		}
	}
	w := db.NewUnitWriter(quiet(), time.Millisecond, 10) // small batches: several in flight
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for _, u := range units {
		w.Enqueue(postgis.UnitUpdate{ID: u.Key.ID, Lon: u.Lon + 0.001, Lat: u.Lat, At: u.PositionAt.Add(time.Minute)})
	}
	cancel()
	<-done
	if got := w.Written(); got != int64(len(units)) {
		t.Errorf("written %d of %d queued positions across shutdown", got, len(units))
	}
}

// TestLiveAcrossPools: a unit moved through one Live (one pool, one
// listener) is found at its new place by another within a second.
func TestLiveAcrossPools(t *testing.T) {
	dbA, url := pgtest.New(t)
	rs := geo.SyntheticResponders(42, 500)
	ctx, cancel := context.WithCancel(context.Background())
	if err := dbA.SeedSyntheticResponders(ctx, rs); err != nil {
		t.Fatal(err)
	}
	dbB, err := postgis.Open(ctx, url, 4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	var lives []*postgis.Live
	defer func() {
		cancel()
		for _, l := range lives {
			l.Wait()
		}
	}()
	a, err := dbA.StartLive(ctx, quiet())
	if err != nil {
		t.Fatal(err)
	}
	lives = append(lives, a)
	b, err := dbB.StartLive(ctx, quiet())
	if err != nil {
		t.Fatal(err)
	}
	lives = append(lives, b)
	u := firstUnit(t, rs)
	start := time.Now()
	if _, err := a.MoveUnit(ctx, wangge.CityScope(), u.Key.ID, 109.9, 32.1, geo.StatusAvailable, u.PositionAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.MoveUnit(ctx, wangge.CityScope(), u.Key.ID, 1, 1, "", u.PositionAt); !errors.Is(err, wangge.ErrConflict) {
		t.Errorf("older move: %v; want ErrConflict", err)
	}
	for {
		ms, _, _ := b.Nearest(wangge.CityScope(), geo.Query{Lon: 109.9, Lat: 32.1, K: 1})
		if len(ms) == 1 && ms[0].Key == u.Key && ms[0].DistanceM == 0 {
			t.Logf("seen by the other replica after %v", time.Since(start))
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("not seen by the other replica within 1 s: %+v", ms)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := b.SetUnitStatus(ctx, wangge.CityScope(), postgis.StatusChange{ID: u.Key.ID, Status: geo.StatusOffDuty, At: u.PositionAt.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		if r, _ := a.Index.Get(u.Key); r.Status == geo.StatusOffDuty && r.Lon == 109.9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("status change not seen by the first replica within 1 s")
		}
	}
}
