package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/frontend"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/tiles"
)

func serve(ctx context.Context, args []string, _ io.Writer) error {
	cfg, _, err := parse("serve", args, nil)
	if err != nil {
		return err
	}
	log, logBuf := newBufferedLogger(cfg)
	logCtx, stopLog := context.WithCancel(context.WithoutCancel(ctx))
	logDone := make(chan struct{})
	go func() { logBuf.run(logCtx, 200*time.Millisecond); close(logDone) }()
	defer func() { stopLog(); <-logDone }() // the last lines out before the process ends
	log.Info("starting", "version", version, "config", cfg)

	// Take the port before anything slow, so "port in use" fails at once.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: cannot listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()

	// Every statement of the server has a backstop; request deadlines
	// (api.DefaultLimits) cancel earlier through the request context.
	db, _, err := openDBWith(ctx, cfg, fmt.Sprintf("statement_timeout=%d", cfg.StatementTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	defer db.Close()
	// Intake (incidents, alarms, transitions, unit positions) has a pool of
	// its own: readers that fill the main pool cannot starve it.
	intakeCfg := cfg
	intakeCfg.DBMaxConns = cfg.IntakeConns
	intakeDB, _, err := openDBWith(ctx, intakeCfg, fmt.Sprintf("statement_timeout=%d", cfg.StatementTimeout.Milliseconds()))
	if err != nil {
		return err
	}
	defer intakeDB.Close()
	if pending, err := db.Pending(ctx); err == nil && len(pending) > 0 {
		log.Warn("schema not current: /readyz answers 503 until `wangge migrate` runs", "pending", pending)
	}

	ts := tiles.NewService(tiles.NewCatalogue(), db, cfg.TileCacheBytes, log)
	tilesReady := make(chan struct{})
	go ts.Follow(ctx, db, tilesReady)
	select { // serve no tile before the versions are known
	case <-tilesReady:
	case <-time.After(cfg.DBTimeout):
		log.Warn("tile change notifications not listening yet")
	}
	if x0, y0, x1, y1, ok, err := db.Extent(ctx); err != nil {
		log.Warn("no data extent for TileJSON", "err", err)
	} else if ok {
		ts.SetBounds(tiles.Bound{MinLon: x0, MinLat: y0, MaxLon: x1, MaxLat: y1})
		if cfg.WarmZoom >= 0 {
			go ts.Warm(ctx, []string{"onemap", "grids"}, uint32(cfg.WarmZoom))
		}
	}

	// Nearest responders: the H3 index, loaded and kept live from PostGIS
	// (LISTEN), unit positions written behind; without it those routes are off.
	var responders *api.Responders
	// The unit writer behind the index also outlives the drain (see below).
	lctx, stopLive := context.WithCancel(context.WithoutCancel(ctx))
	if live, err := intakeDB.StartLive(lctx, log); err != nil {
		log.Warn("nearest responders unavailable", "err", err)
	} else {
		defer live.Wait() // after stopLive: the writer's last flush
		responders = &api.Responders{Index: live, SQL: db, Events: db, Units: live}
	}
	defer stopLive()

	// Point → grid locate: the grid index, loaded at start and kept current
	// from PostGIS (LISTEN wangge_tiles); without it only /locate is off.
	query := &api.Query{Regions: db, Stats: db, WarmStats: true, Features: db, Search: db}
	qctx, stopQuery := context.WithCancel(ctx)
	if loc, err := db.StartLocator(qctx, log); err != nil {
		log.Warn("locate unavailable", "err", err)
	} else {
		defer loc.Wait()
		query.Locator, query.LocateSQL = loc, db
	}
	defer stopQuery()

	// Incidents: located by the in-memory grid index when it loaded, else by
	// PostGIS; the live stream follows wangge_stream; every replica runs the
	// escalation ticker, the advisory lock lets one of them act per tick.
	var locate api.EventLocator = db
	if l, ok := query.Locator.(api.EventLocator); ok {
		locate = l
	}
	// Intake through a group-commit writer: concurrent reports share one
	// statement and commit (bench/events), each answered once committed.
	intake := intakeDB.NewEventWriter(log, 2, 256)
	metrics := api.NewMetrics()
	observeIntake(metrics, intake)
	// Writers outlive the HTTP drain: a report in flight after SIGTERM is
	// still written and answered, not failed (they stop when serve returns).
	writersCtx, stopWriters := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWriters()
	go intake.Run(writersCtx)
	events := &api.Events{Store: postgis.IntakeEvents{Reads: db, Intake: intakeDB, Writer: intake}, Locate: locate, KPI: db}
	stream := api.NewStream(api.StreamOptions{})
	streamReady := make(chan struct{})
	go stream.Follow(ctx, db, log, streamReady)
	select {
	case <-streamReady:
	case <-time.After(cfg.DBTimeout):
		log.Warn("live stream not listening yet")
	}
	go db.RunEscalation(ctx, log, 30*time.Second, 24*time.Hour)
	// The rollups are checked against the base tables every night at
	// 03:00 city time, by one replica (wangge rollups verify on demand).
	var drift atomic.Int64
	go db.RunRollupCheck(ctx, log, 3, func(n int) { drift.Store(int64(n)) })
	metrics.Gauge("wangge_rollup_drift_rows", "Rollup rows that differed from the base tables at the last nightly check.",
		func() float64 { return float64(drift.Load()) })
	if cfg.DemoFeed > 0 {
		if feed, err := data.NewFeed(ctx, db, uint64(time.Now().UnixNano())); err != nil {
			log.Warn("demo feed off", "err", err)
		} else {
			log.Info("demo feed: a synthetic incident every", "interval", cfg.DemoFeed)
			go data.RunFeed(ctx, feed, cfg.DemoFeed, events.Store.CreateEvent, log)
		}
	}

	fresh := &api.Freshness{Versions: db, Tiles: ts}
	if l, ok := query.Locator.(*postgis.Locator); ok {
		fresh.Locator = l
	}
	var limits api.Limits
	if cfg.Limits {
		limits = api.DefaultLimits()
	}
	acc := access(ctx, writersCtx, cfg, ln.Addr().String(), db, log)
	mp := parts{db: db, tiles: ts, stream: stream, cache: acc.Cache}
	if l, ok := query.Locator.(*postgis.Locator); ok {
		mp.locator = l
	}
	if responders != nil {
		mp.live, _ = responders.Index.(*postgis.Live)
	}
	srv := api.New(api.Deps{Limits: limits, Metrics: addGauges(metrics, mp), Log: log, Health: db, MaxBodyBytes: cfg.MaxBodyBytes, Version: version, Tiles: ts,
		Responders: responders, Query: query, Events: events, Stream: stream, Plans: &api.Plans{Store: db, Fresh: fresh},
		Open311: &api.Open311{Events: events, Categories: db}, Static: frontend.FS(),
		Access: acc})
	if !frontend.Built() {
		log.Warn("this binary carries no built front end; / serves a placeholder (make build with Node installed)")
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: the live stream (SSE) stays open; slow tile and
		// API handlers are bounded by their own request-context deadlines.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	hs.RegisterOnShutdown(stream.Close)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q out of range", p)
	}
	return host, port, nil
}
