package main

import (
	"time"

	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/tiles"
)

// parts are what the replica's metrics read at scrape time; nil parts are
// left out.
type parts struct {
	db      *postgis.DB
	tiles   *tiles.Service
	stream  *api.Stream
	locator *postgis.Locator
	live    *postgis.Live
	cache   *api.PrincipalCache
}

// observeIntake makes the intake writer report each batch's size and
// commit latency to m (before the writer runs).
func observeIntake(m *api.Metrics, w *postgis.EventWriter) {
	size := m.Histogram("wangge_intake_batch_size", "Incidents written per intake statement (group commit).",
		[]float64{1, 2, 4, 8, 16, 32, 64, 128, 256})
	took := m.Histogram("wangge_intake_commit_seconds", "Time of one intake batch: statement and durable commit.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5})
	w.Observe = func(n int, d time.Duration) {
		size.Observe(float64(n))
		took.Observe(d.Seconds())
	}
}

// addGauges registers the gauges and counters of issue #18 for one
// replica: pool usage, tile cache, live stream, indexes, credential cache.
func addGauges(m *api.Metrics, p parts) *api.Metrics {
	if p.db != nil {
		pool := p.db.Pool
		m.Gauge("wangge_db_pool_acquired_conns", "Connections in use.", func() float64 { return float64(pool.Stat().AcquiredConns()) })
		m.Gauge("wangge_db_pool_idle_conns", "Idle connections.", func() float64 { return float64(pool.Stat().IdleConns()) })
		m.Gauge("wangge_db_pool_max_conns", "Pool size.", func() float64 { return float64(pool.Stat().MaxConns()) })
		m.Counter("wangge_db_pool_empty_acquire_total", "Acquires that waited for a connection.",
			func() float64 { return float64(pool.Stat().EmptyAcquireCount()) })
		m.Counter("wangge_listen_reconnects_total", "LISTEN connections lost and re-established (tiles, stream, responders, auth).",
			func() float64 { return float64(p.db.ListenReconnects()) })
		m.Counter("wangge_db_pool_acquire_seconds_total", "Time spent waiting for connections.",
			func() float64 { return pool.Stat().AcquireDuration().Seconds() })
	}
	if p.tiles != nil {
		t := p.tiles
		m.Gauge("wangge_tile_cache_entries", "Tiles in the cache.", func() float64 { return float64(t.CacheStats().Entries) })
		m.Gauge("wangge_tile_cache_bytes", "Bytes of cached tiles.", func() float64 { return float64(t.CacheStats().Bytes) })
		m.Counter("wangge_tile_cache_hits_total", "Tiles served from the cache.", func() float64 { return float64(t.CacheStats().Hits) })
		m.Counter("wangge_tile_cache_misses_total", "Tiles rendered.", func() float64 { return float64(t.CacheStats().Misses) })
		m.Counter("wangge_tile_cache_evictions_total", "Tiles dropped to make room.", func() float64 { return float64(t.CacheStats().Evicted) })
		m.Counter("wangge_tile_cache_invalidations_total", "Tiles dropped because a write covered them.",
			func() float64 { return float64(t.CacheStats().Invalid) })
	}
	if p.stream != nil {
		s := p.stream
		m.Gauge("wangge_stream_clients", "Live-stream (SSE) clients connected.", func() float64 { return float64(s.Clients()) })
		m.Counter("wangge_stream_dropped_total", "Live-stream clients cut off for falling behind.", func() float64 { return float64(s.Dropped()) })
	}
	if p.locator != nil {
		l := p.locator
		m.Gauge("wangge_locate_index_grids", "Grids in the in-memory locate index.", func() float64 { return float64(l.Index.Len()) })
	}
	if p.live != nil {
		l := p.live
		m.Gauge("wangge_responder_index_size", "Posts and units in the in-memory H3 index.", func() float64 { return float64(l.Index.Len()) })
	}
	if p.cache != nil {
		c := p.cache
		m.Gauge("wangge_auth_cached_credentials", "Credentials checked and cached.", func() float64 { return float64(c.Len()) })
	}
	return m
}
