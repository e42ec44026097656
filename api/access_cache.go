package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wangge/wangge"
)

// PrincipalCache keeps checked credentials in memory, so a cached tile or
// a locate with a bearer token costs a map lookup, not a query. Entries
// live at most ttl (and never past the credential's expiry); a revocation
// or a changed user reaches every replica through NOTIFY wangge_auth and
// drops its entries at once (Invalidate).
type PrincipalCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[[32]byte]cached // by the secret's SHA-256 (no secret kept in memory)
}

type cached struct {
	p     wangge.Principal
	err   error // a refused credential (unknown, revoked, expired): remembered too
	until time.Time
}

// refusedTTL is how long a refused credential is answered from memory: a
// flood of made-up tokens, which no limit sees before authentication,
// then costs one query per token a minute rather than one per request.
const refusedTTL = time.Minute

// NewPrincipalCache caches for ttl (0: 1 min).
func NewPrincipalCache(ttl time.Duration) *PrincipalCache {
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &PrincipalCache{ttl: ttl, m: map[[32]byte]cached{}}
}

// maxCached bounds the cache; past it, expired entries are swept, then
// everything (a flood of valid tokens is not a memory leak).
const maxCached = 100_000

// Get answers the principal of secret, asking the store on a miss.
func (pc *PrincipalCache) Get(ctx context.Context, secret string, store CredentialStore) (wangge.Principal, error) {
	key := sha256.Sum256([]byte(secret))
	now := time.Now()
	pc.mu.RLock()
	e, ok := pc.m[key]
	pc.mu.RUnlock()
	if ok && now.Before(e.until) {
		return e.p, e.err
	}
	p, expires, err := store.Authenticate(ctx, secret)
	var entry cached
	switch {
	case errors.Is(err, wangge.ErrForbidden):
		entry = cached{err: err, until: now.Add(refusedTTL)}
	case err != nil:
		return p, err // the store is down: nothing learned
	default:
		entry = cached{p: p, until: now.Add(pc.ttl)}
		if expires.Before(entry.until) {
			entry.until = expires
		}
	}
	pc.mu.Lock()
	if len(pc.m) >= maxCached {
		pc.sweep(now)
	}
	pc.m[key] = entry
	pc.mu.Unlock()
	return entry.p, entry.err
}

func (pc *PrincipalCache) sweep(now time.Time) {
	for k, e := range pc.m {
		if !now.Before(e.until) {
			delete(pc.m, k)
		}
	}
	if len(pc.m) >= maxCached {
		clear(pc.m)
	}
}

// Invalidate applies a wangge_auth payload: "credential:ID" drops that
// credential, "user:ID" every credential of the user; anything else (or a
// reconnect, when notices may have been missed) drops everything.
func (pc *PrincipalCache) Invalidate(payload string) {
	kind, idText, _ := strings.Cut(payload, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if err != nil || (kind != "credential" && kind != "user") {
		clear(pc.m)
		return
	}
	for k, e := range pc.m {
		if kind == "credential" && e.p.CredentialID == id || kind == "user" && e.p.UserID == id {
			delete(pc.m, k)
		}
	}
}

// Len is the number of cached credentials.
func (pc *PrincipalCache) Len() int {
	pc.mu.RLock()
	defer pc.mu.RUnlock()
	return len(pc.m)
}

// AuthListener is where revocations come from (postgis.DB.Listen on
// postgis.AuthChannel).
type AuthListener interface {
	Listen(ctx context.Context, channel string, log *slog.Logger, onConnect func(), handle func(payload string))
}

// Follow keeps the cache honest until ctx ends: every (re)connection
// clears it, since notices sent while disconnected are lost.
func (pc *PrincipalCache) Follow(ctx context.Context, l AuthListener, channel string, log *slog.Logger) {
	l.Listen(ctx, channel, log, func() { pc.Invalidate("") }, pc.Invalidate)
}
