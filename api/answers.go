package api

import (
	"context"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// DataVersioner tells the data version (postgis.DB.DataVersion): it moves
// with every write an answer could depend on.
type DataVersioner interface {
	DataVersion(ctx context.Context) (string, error)
}

// Answer cache timing. The data version is read again after a change
// notice on the live stream (the one the tiles follow too), and at least
// once per versionEvery for writes that send none; it is shared by every
// cache of a replica, so a hundred walls cost one tiny query per change.
// An answer is served while computed under the current version and
// younger than answerMaxAge (overdue and window figures move with the
// clock alone). One that took longer than slowAnswer to compute is served
// from the previous version while one refresh runs behind it, started no
// sooner than refreshShare times its cost after the last: no wall waits
// on a city-wide scan, and such scans take a tenth of a connection each.
const (
	versionEvery = time.Second
	answerMaxAge = time.Minute
	slowAnswer   = 50 * time.Millisecond
	answerCap    = 20_000 // entries per cache; past it, one is dropped per insert
	refreshShare = 10     // a slow answer is refreshed after ten times its cost at the soonest
)

// dataVersion caches the version for versionEvery.
type dataVersion struct {
	src DataVersioner
	now func() time.Time

	mu     sync.Mutex
	value  string
	readAt time.Time
}

func (v *dataVersion) current(ctx context.Context) (string, error) {
	v.mu.Lock()
	if v.value != "" && v.now().Sub(v.readAt) < versionEvery {
		s := v.value
		v.mu.Unlock()
		return s, nil
	}
	v.mu.Unlock()
	return v.read(ctx)
}

// touch makes the next request read the version again: a change notice
// (an event or grid message on the stream) announced a commit.
func (v *dataVersion) touch() {
	v.mu.Lock()
	v.readAt = time.Time{}
	v.mu.Unlock()
}

// read reads the version now (after a change notice: what it announced
// has committed) and keeps it for the next versionEvery.
func (v *dataVersion) read(ctx context.Context) (string, error) {
	s, err := v.src.DataVersion(ctx)
	if err != nil {
		return "", err
	}
	v.mu.Lock()
	v.value, v.readAt = s, v.now()
	v.mu.Unlock()
	return s, nil
}

// computed is one cached answer; done is closed once val/err are set.
type computed[T any] struct {
	val        T
	err        error
	version    string
	at         time.Time
	cost       time.Duration
	done       chan struct{}
	refreshing bool
}

// answerCache holds computed answers by key. Keys must carry everything
// the answer depends on, the caller's scope first: one jurisdiction's
// answer is never served to another. Concurrent misses of a key compute
// once.
type answerCache[T any] struct {
	versions *dataVersion
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*computed[T]
}

func newAnswerCache[T any](v *dataVersion) *answerCache[T] {
	return &answerCache[T]{versions: v, now: v.now, entries: map[string]*computed[T]{}}
}

// get returns key's answer, computing it when there is none for the
// current version; hit tells whether it came from the cache.
func (ac *answerCache[T]) get(ctx context.Context, key string, compute func(context.Context) (T, error)) (val T, hit bool, err error) {
	version, err := ac.versions.current(ctx)
	if err != nil {
		return val, false, err
	}
	ac.mu.Lock()
	e := ac.entries[key]
	if e != nil {
		select {
		case <-e.done:
			age := ac.now().Sub(e.at)
			switch {
			case e.err != nil || age >= answerMaxAge:
				// computed with an error, or too old to serve: again
			case e.version == version:
				ac.mu.Unlock()
				return e.val, true, nil
			case e.cost > slowAnswer:
				// Refreshed at most every tenth of the time: a city-wide
				// scan stays a small share of the database however fast
				// the version moves (ten incidents a second move it ten
				// times a second).
				if !e.refreshing && age >= max(versionEvery, refreshShare*e.cost) {
					e.refreshing = true
					go ac.refresh(context.WithoutCancel(ctx), key, version, compute)
				}
				ac.mu.Unlock()
				return e.val, true, nil
			}
		default: // being computed: wait for it
			ac.mu.Unlock()
			select {
			case <-e.done:
				return e.val, false, e.err
			case <-ctx.Done():
				return val, false, ctx.Err()
			}
		}
	}
	e = &computed[T]{version: version, done: make(chan struct{})}
	ac.put(key, e)
	ac.mu.Unlock()
	ac.fill(ctx, e, compute)
	return e.val, false, e.err
}

// recompute computes key's answer now under a version read now, and keeps
// it: the push after a change notice must not send what the cache held.
func (ac *answerCache[T]) recompute(ctx context.Context, key string, compute func(context.Context) (T, error)) (T, error) {
	version, err := ac.versions.read(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	e := &computed[T]{version: version, done: make(chan struct{})}
	ac.fill(ctx, e, compute)
	if e.err == nil {
		ac.mu.Lock()
		ac.put(key, e)
		ac.mu.Unlock()
	}
	return e.val, e.err
}

// refresh computes a slow answer again behind the one being served.
func (ac *answerCache[T]) refresh(ctx context.Context, key, version string, compute func(context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e := &computed[T]{version: version, done: make(chan struct{})}
	ac.fill(ctx, e, compute)
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if e.err == nil {
		ac.put(key, e)
	} else if old := ac.entries[key]; old != nil {
		old.refreshing = false // try again on the next request
	}
}

func (ac *answerCache[T]) fill(ctx context.Context, e *computed[T], compute func(context.Context) (T, error)) {
	t0 := ac.now()
	e.val, e.err = compute(ctx)
	e.at = ac.now()
	e.cost = e.at.Sub(t0)
	close(e.done)
}

// put stores e under key (ac.mu held), dropping an arbitrary other entry
// when full: the map's random order makes that a cheap random eviction.
func (ac *answerCache[T]) put(key string, e *computed[T]) {
	if _, ok := ac.entries[key]; !ok && len(ac.entries) >= answerCap {
		for k := range ac.entries {
			delete(ac.entries, k)
			break
		}
	}
	ac.entries[key] = e
}

// cacheHeader tells whether an answer came from the replica's cache.
func cacheHeader(c *gin.Context, hit bool) {
	if hit {
		c.Header("X-Cache", "hit")
	} else {
		c.Header("X-Cache", "miss")
	}
}
