package api

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
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

type statsEntry struct {
	body []byte
	gz   []byte // the grid level is ~1.4 MB of JSON, ~0.3 MB gzipped
	etag string
}

// statsCache holds one encoded answer per scope/level/metric (the scope
// is part of the key: "none", "city" or a code, never equal).
type statsCache struct {
	store   StatsStore
	answers *answerCache[*statsEntry]
}

func newStatsCache(store StatsStore, v *dataVersion) *statsCache {
	return &statsCache{store: store, answers: newAnswerCache[*statsEntry](v)}
}

// warm computes the city's answers of every level and metric once, in the
// background after start: the wall's first city-wide grid choropleth is a
// scan of the month's events, which its first viewer should not wait for.
func (sc *statsCache) warm(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	for _, level := range []string{"district", "street", "community", "grid"} {
		for _, metric := range postgis.StatMetrics() {
			if _, _, err := sc.get(ctx, wangge.CityScope(), level, metric); err != nil {
				log.Warn("stats not warmed", "level", level, "metric", metric, "err", err)
				return
			}
		}
	}
	log.Info("stats warmed for the city", "duration", time.Since(t0).Round(time.Millisecond))
}

// get returns the encoded answer for level/metric inside the scope and
// whether it came from the cache.
func (sc *statsCache) get(ctx context.Context, scope wangge.Scope, level, metric string) (*statsEntry, bool, error) {
	return sc.answers.get(ctx, scope.String()+"/"+level+"/"+metric, func(ctx context.Context) (*statsEntry, error) {
		version, err := sc.answers.versions.current(ctx)
		if err != nil {
			return nil, err
		}
		values, err := sc.store.Stats(ctx, scope, level, metric)
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(statsJSON{Level: level, Metric: metric, Version: version, ComputedAt: time.Now().UTC(),
			Count: len(values), Values: values})
		if err != nil {
			return nil, fmt.Errorf("api: encode stats: %w", err)
		}
		h := fnv.New64a()
		h.Write(body)
		return &statsEntry{body: body, gz: gzipped(body, gzip.BestSpeed), etag: fmt.Sprintf(`"%x"`, h.Sum64())}, nil
	})
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
	cacheHeader(c, hit)
	if c.GetHeader("If-None-Match") == e.etag {
		c.Status(http.StatusNotModified)
		return
	}
	sendBytes(c, http.StatusOK, jsonType, pickBody(c, e.body, e.gz))
}
