package api

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// StatsStore computes choropleth statistics (postgis.DB).
type StatsStore interface {
	Stats(ctx context.Context, scope wangge.Scope, level, metric string) (map[string]*float64, error)
	DataVersion(ctx context.Context) (string, error)
}

// Cache timing: a cached answer is served while the data version it was
// computed under is current, for at most statsMaxAge (overdue and 30-day
// figures move with the clock alone); the version itself is read at most
// once per statsVersionEvery, so a busy wall costs one tiny query a second.
const (
	statsMaxAge       = time.Minute
	statsVersionEvery = time.Second
)

type statsEntry struct {
	body    []byte
	gz      []byte // the grid level is ~1.4 MB of JSON, ~0.3 MB gzipped
	etag    string
	version string
	at      time.Time
}

// statsCache holds one encoded answer per scope/level/metric: the scope is
// part of the key, so one jurisdiction's answer is never served to
// another. A miss computes under the key's lock, so concurrent misses for
// one key query once.
type statsCache struct {
	store StatsStore
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*statsEntry
	locks   map[string]*sync.Mutex
	version string
	readAt  time.Time
}

func newStatsCache(store StatsStore) *statsCache {
	return &statsCache{store: store, now: time.Now, entries: map[string]*statsEntry{},
		locks: map[string]*sync.Mutex{}}
}

// currentVersion returns the data version, read again when older than
// statsVersionEvery.
func (sc *statsCache) currentVersion(ctx context.Context) (string, error) {
	sc.mu.Lock()
	if sc.version != "" && sc.now().Sub(sc.readAt) < statsVersionEvery {
		v := sc.version
		sc.mu.Unlock()
		return v, nil
	}
	sc.mu.Unlock()
	v, err := sc.store.DataVersion(ctx)
	if err != nil {
		return "", err
	}
	sc.mu.Lock()
	sc.version, sc.readAt = v, sc.now()
	sc.mu.Unlock()
	return v, nil
}

// get returns the encoded answer for level/metric inside the scope and
// whether it came from the cache.
func (sc *statsCache) get(ctx context.Context, scope wangge.Scope, level, metric string) (*statsEntry, bool, error) {
	version, err := sc.currentVersion(ctx)
	if err != nil {
		return nil, false, err
	}
	key := scope.String() + "/" + level + "/" + metric // "none", "city" or a code: never equal
	sc.mu.Lock()
	lock := sc.locks[key]
	if lock == nil {
		lock = &sync.Mutex{}
		sc.locks[key] = lock
	}
	sc.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	sc.mu.Lock()
	e := sc.entries[key]
	sc.mu.Unlock()
	if e != nil && e.version == version && sc.now().Sub(e.at) < statsMaxAge {
		return e, true, nil
	}
	values, err := sc.store.Stats(ctx, scope, level, metric)
	if err != nil {
		return nil, false, err
	}
	at := sc.now()
	body, err := json.Marshal(statsJSON{Level: level, Metric: metric, Version: version, ComputedAt: at.UTC(),
		Count: len(values), Values: values})
	if err != nil {
		return nil, false, fmt.Errorf("api: encode stats: %w", err)
	}
	h := fnv.New64a()
	h.Write(body)
	e = &statsEntry{body: body, gz: gzipped(body, gzip.BestSpeed), etag: fmt.Sprintf(`"%x"`, h.Sum64()), version: version, at: at}
	sc.mu.Lock()
	sc.entries[key] = e
	sc.mu.Unlock()
	return e, false, nil
}

// statsJSON is the answer: one value per region code of the level (null
// for a ratio with nothing measured).
type statsJSON struct {
	Level      string              `json:"level"`
	Metric     string              `json:"metric"`
	Version    string              `json:"version"`
	ComputedAt time.Time           `json:"computed_at"`
	Count      int                 `json:"count"`
	Values     map[string]*float64 `json:"values"`
}

// stats: GET /api/v1/stats?level=grid|community|street|district&metric=...
// — the regions of the level inside the caller's scope.
func (h *queryHandlers) stats(c *gin.Context) {
	level, metric := c.Query("level"), c.Query("metric")
	if err := postgis.CheckStat(level, metric); err != nil { // before a cache key exists for it
		fail(c, h.log, err)
		return
	}
	e, hit, err := h.statsCache.get(c.Request.Context(), scope(c), level, metric)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.Header("ETag", e.etag)
	c.Header("Cache-Control", "no-cache") // revalidate: cheap with If-None-Match
	if hit {
		c.Header("X-Cache", "hit")
	} else {
		c.Header("X-Cache", "miss")
	}
	if c.GetHeader("If-None-Match") == e.etag {
		c.Status(http.StatusNotModified)
		return
	}
	sendBytes(c, http.StatusOK, jsonType, pickBody(c, e.body, e.gz))
}
