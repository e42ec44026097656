package api

import (
	"sync"
	"time"
)

// LoginThrottle counts failed logins per account name and per client
// address in a sliding window; past the limit, logins answer 429 with
// Retry-After until the oldest failure leaves the window. Successes do
// not reset a client's count (a guesser with one valid account gains
// nothing), only the account's.
type LoginThrottle struct {
	window         time.Duration
	perName, perIP int
	mu             sync.Mutex
	byName, byIP   map[string][]time.Time
}

// NewLoginThrottle allows perName failures per account and perIP per client
// within window.
func NewLoginThrottle(window time.Duration, perName, perIP int) *LoginThrottle {
	return &LoginThrottle{window: window, perName: perName, perIP: perIP,
		byName: map[string][]time.Time{}, byIP: map[string][]time.Time{}}
}

// Wait is how long the name or client must wait before trying (0: now).
func (t *LoginThrottle) Wait(name, ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.wait(t.byName, name, t.perName, now), t.wait(t.byIP, ip, t.perIP, now))
}

func (t *LoginThrottle) wait(m map[string][]time.Time, k string, limit int, now time.Time) time.Duration {
	fs := t.recent(m, k, now)
	if len(fs) < limit {
		return 0
	}
	return fs[len(fs)-limit].Add(t.window).Sub(now)
}

// recent drops failures older than the window.
func (t *LoginThrottle) recent(m map[string][]time.Time, k string, now time.Time) []time.Time {
	fs := m[k]
	i := 0
	for i < len(fs) && !now.Before(fs[i].Add(t.window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(m, k)
	} else {
		m[k] = fs
	}
	return fs
}

// maxThrottleKeys bounds memory under a flood of made-up names.
const maxThrottleKeys = 200_000

// Failed records a failure.
func (t *LoginThrottle) Failed(name, ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byName)+len(t.byIP) > maxThrottleKeys {
		for _, m := range []map[string][]time.Time{t.byName, t.byIP} {
			for k := range m {
				t.recent(m, k, now)
			}
		}
	}
	t.byName[name] = append(t.recent(t.byName, name, now), now)
	t.byIP[ip] = append(t.recent(t.byIP, ip, now), now)
}

// Succeeded clears the account's failures.
func (t *LoginThrottle) Succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byName, name)
}
