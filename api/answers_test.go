package api

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeVersion struct{ v atomic.Value }

func (f *fakeVersion) DataVersion(context.Context) (string, error) { return f.v.Load().(string), nil }

// The answer cache computes once per key and version however many ask at
// once, computes again when the version moves (at once after a change
// notice), and serves a slow answer's last value while one refresh runs.
func TestAnswerCache(t *testing.T) {
	ctx := context.Background()
	src := &fakeVersion{}
	src.v.Store("1")
	v := &dataVersion{src: src, now: time.Now}
	ac := newAnswerCache[int](v)
	var calls atomic.Int64
	fast := func(context.Context) (int, error) { return int(calls.Add(1)), nil }

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, _, err := ac.get(ctx, "k", func(ctx context.Context) (int, error) {
				time.Sleep(20 * time.Millisecond)
				return fast(ctx)
			}); err != nil || n != 1 {
				t.Errorf("concurrent get: %d %v", n, err)
			}
		}()
	}
	wg.Wait()
	if n, hit, _ := ac.get(ctx, "k", fast); n != 1 || !hit || calls.Load() != 1 {
		t.Fatalf("same version: %d hit %v after %d computations", n, hit, calls.Load())
	}
	src.v.Store("2")
	if n, hit, _ := ac.get(ctx, "k", fast); n != 1 || !hit {
		t.Errorf("version read within versionEvery: %d hit %v", n, hit)
	}
	v.touch() // a change notice
	if n, hit, _ := ac.get(ctx, "k", fast); n != 2 || hit {
		t.Errorf("after a notice: %d hit %v", n, hit)
	}

	// A slow answer: served from the previous version, refreshed behind.
	slow := func(context.Context) (int, error) {
		time.Sleep(slowAnswer + 20*time.Millisecond)
		return int(calls.Add(1)), nil
	}
	first, _, _ := ac.get(ctx, "slow", slow)
	src.v.Store("3")
	v.touch()
	t0 := time.Now()
	if n, hit, _ := ac.get(ctx, "slow", slow); n != first || !hit || time.Since(t0) > slowAnswer {
		t.Errorf("stale while refreshing: %d (first %d) hit %v in %v", n, first, hit, time.Since(t0))
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if n, _, _ := ac.get(ctx, "slow", slow); n > first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never landed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
