package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// TestEventWriterBatches: 60 concurrent intakes through the group-commit
// writer — fresh events, retries sharing an Idempotency-Key and unknown
// categories mixed in one batch — each get their own right answer.
func TestEventWriterBatches(t *testing.T) {
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	w := db.NewEventWriter(slog.New(slog.NewTextHandler(io.Discard, nil)), 2, 64)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	store := postgis.BatchedEvents{DB: db, Writer: w}
	// A listener, as every replica has: each created event reaches it once.
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
	)
	listening := make(chan struct{})
	go db.ListenStream(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func() { close(listening) },
		func(ms []postgis.StreamMessage) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				seen[m.Seq]++
			}
		})
	<-listening

	type answer struct {
		e       wangge.Event
		created bool
		err     error
	}
	out := make([]answer, 60)
	var wg sync.WaitGroup
	for i := range out {
		n := postgis.NewEvent{Category: "noise", Source: "staff", GridCode: "500103001001001", Lon: 106.561, Lat: 29.551,
			Description: fmt.Sprintf("event %d", i), At: time.Now()}
		switch i % 6 {
		case 1:
			n.IdemKey, n.IdemHash, n.Description = "shared", "h", "shared"
		case 2:
			n.Category = "ufo"
		}
		// Every sixth reporter is another street's: refused in the same
		// batches, as not found, with nothing written.
		scope := wangge.CityScope()
		if i%6 == 3 {
			scope = wangge.ScopeOf("500103002")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, created, err := store.CreateEvent(ctx, scope, n)
			out[i] = answer{e, created, err}
		}()
	}
	wg.Wait()
	var shared int64
	created := 0
	for i, a := range out {
		switch i % 6 {
		case 1:
			if a.err != nil || (shared != 0 && a.e.ID != shared) {
				t.Fatalf("%d: shared key answered %v %v (first %d)", i, a.e.ID, a.err, shared)
			}
			shared = a.e.ID
			if a.created {
				created++
			}
		case 2:
			if !errors.Is(a.err, wangge.ErrInvalid) {
				t.Errorf("%d: unknown category answered %v", i, a.err)
			}
		case 3:
			if !errors.Is(a.err, wangge.ErrNotFound) || a.created {
				t.Errorf("%d: a report outside the reporter's street answered %v %v", i, a.created, a.err)
			}
		default:
			if a.err != nil || !a.created || a.e.Description != fmt.Sprintf("event %d", i) || a.e.Status != "accepted" {
				t.Errorf("%d: %+v %v", i, a.e, a.err)
			}
		}
	}
	b, n := w.Stats()
	t.Logf("%d intakes in %d batches", n, b)
	if created != 1 {
		t.Errorf("shared key created %d events", created)
	}
	var events, logs, msgs int
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_log),
		(SELECT count(*) FROM stream_outbox WHERE kind = 'event.created')`).Scan(&events, &logs, &msgs)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= msgs || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	for seq, k := range seen {
		if k != 1 {
			t.Errorf("message %d heard %d times", seq, k)
		}
	}
	if len(seen) != msgs {
		t.Errorf("listener heard %d messages; %d were written", len(seen), msgs)
	}
	mu.Unlock()
	if want := 30 + 1; events != want || logs != 2*want || msgs != want {
		t.Errorf("stored %d events, %d log rows, %d stream messages; want %d, %d, %d", events, logs, msgs, want, 2*want, want)
	}
}

// TestEscalationRunsOnOneReplica: while another session holds the pass's
// advisory lock, a pass does nothing.
func TestEscalationRunsOnOneReplica(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(0x77616e6765_01)).Scan(&got); err != nil || !got {
		t.Fatalf("lock: %v %v", got, err)
	}
	if _, ran, err := db.EscalateOverdue(ctx, time.Now(), 10); err != nil || ran {
		t.Errorf("pass ran while another replica held the lock: %v %v", ran, err)
	}
	_ = tx.Rollback(ctx)
	if _, ran, err := db.EscalateOverdue(ctx, time.Now(), 10); err != nil || !ran {
		t.Errorf("pass did not run once the lock was free: %v %v", ran, err)
	}
}
