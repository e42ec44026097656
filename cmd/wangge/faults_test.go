package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// bearerToken creates an account on the test's database for processes to
// use.
func bearerToken(t *testing.T, db *postgis.DB, role wangge.Role) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("e2e.%s.%d", role, time.Now().UnixNano())
	if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKilledReplicaLosesNoAcknowledgedIncident: 8 reporters post to replica
// A; A is killed with SIGKILL mid-stream; each reporter retries what got
// no answer on replica B with the same Idempotency-Key. Every report
// answered 201 or 200 exists exactly once, and every report exists.
func TestKilledReplicaLosesNoAcknowledgedIncident(t *testing.T) {
	db, dbURL := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	tok := bearerToken(t, db, wangge.RoleCommander)
	a, aCmd := startServer(t, dbURL)
	b, _ := startServer(t, dbURL)

	const reporters, each = 8, 40
	var acked, retried atomic.Int64
	var wg sync.WaitGroup
	post := func(base, key, body string) (int, error) {
		req, _ := http.NewRequest("POST", base+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", key)
		c := &http.Client{Timeout: 10 * time.Second}
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	killed := make(chan struct{})
	go func() {
		for acked.Load() < reporters*each/4 {
			time.Sleep(5 * time.Millisecond)
		}
		_ = aCmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	for r := range reporters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("kill-%d-%d", r, i)
				body := fmt.Sprintf(`{"category":"noise","location":{"lon":%.4f,"lat":29.555},"description":"报告 %d-%d","source":"patrol"}`,
					106.561+float64(i%80)*0.0002, r, i)
				st, err := post(a, key, body)
				if err != nil || st >= 500 {
					retried.Add(1)
					st, err = post(b, key, body) // the balancer's retry on the other replica
				}
				if err != nil || (st != 201 && st != 200) {
					t.Errorf("report %s: %d %v", key, st, err)
					continue
				}
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	<-killed
	var n, distinct int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT idempotency_key) FROM events
		WHERE idempotency_key LIKE 'kill-%'`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if retried.Load() == 0 {
		t.Fatal("no report was retried on B: the kill happened after the reports")
	}
	t.Logf("%d of %d reports retried on replica B after A was killed", retried.Load(), reporters*each)
	if int64(n) != acked.Load() || n != distinct || n != reporters*each {
		t.Fatalf("%d reports acknowledged, %d stored (%d distinct keys), want %d once each", acked.Load(), n, distinct, reporters*each)
	}
}

// TestShutdownDrainsIntake: SIGTERM under 8 reporters. Reports the server
// took are answered 201 and stored (the writers outlive the HTTP drain:
// before, in-flight batches answered 500); the rest find the door closed.
func TestShutdownDrainsIntake(t *testing.T) {
	db, dbURL := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	tok := bearerToken(t, db, wangge.RoleCommander)
	base, cmd := startServer(t, dbURL)
	var acked, failed atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", base+"/api/v1/events", strings.NewReader(fmt.Sprintf(
					`{"category":"noise","location":{"lon":106.5613,"lat":29.5513},"description":"drain %d-%d","source":"patrol"}`, r, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := c.Do(req)
				if err != nil {
					return // the server closed: this report was never taken
				}
				res.Body.Close()
				switch {
				case res.StatusCode == 201:
					acked.Add(1)
				case res.StatusCode >= 500:
					failed.Add(1)
				}
			}
		}()
	}
	for acked.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v on SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d reports answered 5xx during the drain", failed.Load())
	}
	var n int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE description LIKE 'drain %'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < acked.Load() {
		t.Errorf("%d reports answered 201, %d stored", acked.Load(), n)
	}
	t.Logf("%d reports answered 201 before and during the drain, %d stored", acked.Load(), n)
}
