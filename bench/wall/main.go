// Command wall is issue #17's "must show": command-centre map walls
// against a real `wangge serve` while incidents arrive. Each wall holds
// the live stream open, reads the KPI at start (then applies kpi.changed
// frames, polling after 30 s without one) and drills down every 2–5 s:
// a region at a random tier, the level below it coloured by a random
// metric, the region's KPI. The same request mix runs first as "today's
// code": the SQL of those answers at commit 3abff08 (baseline.go) issued
// with pgx by a few clients, under the same incident load. It reports
// latency per answer kind and tier for both, and the ratio.
//
//	DATABASE_URL=$(bin/wangge db url) go run ./bench/wall [-scale 1] [-database-url URL] [-walls 100]
//		[-rate 10] [-dur 60s] [-baseline-walls 8] [-bin bin/wangge] [-peer URL]
//
// It seeds a throwaway city next to DATABASE_URL (-scale) or uses
// -database-url's seeded one, creates its own accounts, and only talks to
// 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

type options struct {
	bin, dbURL, peer, districts string
	scale, rate, districtShare  float64
	walls, baselineWalls        int
	dur                         time.Duration
	keep                        bool
}

func main() {
	var o options
	flag.Float64Var(&o.scale, "scale", 1, "seed scale of the throwaway city (without -database-url)")
	flag.StringVar(&o.districts, "districts", "", "districts to seed, comma-separated (throwaway city; default all 38)")
	flag.BoolVar(&o.keep, "keep", false, "keep the throwaway database (for -database-url next time)")
	flag.StringVar(&o.dbURL, "database-url", "", "a seeded database to use instead of a throwaway one")
	flag.IntVar(&o.walls, "walls", 100, "map walls on the server")
	flag.Float64Var(&o.districtShare, "district-share", 0.25, "share of the walls that are a district's (the rest the city's)")
	flag.Float64Var(&o.rate, "rate", 10, "incidents reported per second")
	flag.DurationVar(&o.dur, "dur", 60*time.Second, "length of each phase")
	flag.IntVar(&o.baselineWalls, "baseline-walls", 8, "clients running today's SQL with pgx, back to back")
	flag.StringVar(&o.bin, "bin", "bin/wangge", "the wangge binary to serve with")
	flag.StringVar(&o.peer, "peer", "", "another server on the same database to measure with the same walls (http://127.0.0.1:PORT)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/wall:", err)
		os.Exit(1)
	}
}

// wallAccount is one wall's credential and jurisdiction.
type wallAccount struct{ token, district string }

func run(o options) error {
	if err := check(o); err != nil {
		return err
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, dbURL, cleanup, err := database(ctx, o, log)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := migrate(o.bin, dbURL); err != nil {
		return err
	}
	c, err := loadCity(ctx, db)
	if err != nil {
		return err
	}
	fmt.Println("city:", c.summary())
	walls, reporters, handlers, err := accounts(ctx, db, o, c)
	if err != nil {
		return err
	}
	base, stop, err := serve(o.bin, dbURL)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("serving %s at %s; %v per phase, %.0f incidents/s\n", o.bin, base, o.dur, o.rate)

	bp, err := postgis.Open(ctx, dbURL, int32(o.baselineWalls), 10*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("phase 1: baseline, %d clients on today's SQL\n", o.baselineWalls)
	basePhase := newPhase("baseline", o.baselineWalls, o.dur)
	measure(ctx, o.dur, newIncidents(base, reporters, handlers, o.rate, c), basePhase, func(ctx context.Context) {
		runBaseline(ctx, baseline{pool: bp.Pool}, o.baselineWalls, o.districtShare, c, basePhase)
	})
	bp.Close()

	phases := []*phase{newPhase("server", o.walls, o.dur)}
	targets := []string{base}
	if o.peer != "" {
		phases = append(phases, newPhase("peer "+o.peer, o.walls, o.dur))
		targets = append(targets, strings.TrimSuffix(o.peer, "/"))
	}
	for i, p := range phases {
		fmt.Printf("phase %d: %s, %d walls\n", i+2, p.name, o.walls)
		measure(ctx, o.dur, newIncidents(targets[i], reporters, handlers, o.rate, c), p, func(ctx context.Context) {
			runWalls(ctx, targets[i], walls, c, p)
		})
	}
	summary(basePhase)
	for _, p := range phases {
		summary(p)
	}
	for _, p := range phases {
		table(p, basePhase)
	}
	return nil
}

// check refuses what the bench must not do: talk to anything but this
// machine's loopback.
func check(o options) error {
	if o.walls < 1 || o.baselineWalls < 1 || o.rate <= 0 || o.dur <= 0 || o.districtShare < 0 || o.districtShare > 1 {
		return errors.New("-walls and -baseline-walls at least 1, -rate and -dur above 0, -district-share 0 to 1")
	}
	if o.peer != "" {
		u, err := url.Parse(o.peer)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
			return fmt.Errorf("-peer %q: want http://127.0.0.1:PORT", o.peer)
		}
	}
	return nil
}

// database is -database-url's, or a throwaway one seeded at -scale.
func database(ctx context.Context, o options, log *slog.Logger) (*postgis.DB, string, func(), error) {
	if o.dbURL != "" {
		db, err := postgis.Open(ctx, o.dbURL, 4, 10*time.Second)
		if err != nil {
			return nil, "", nil, err
		}
		return db, o.dbURL, db.Close, nil
	}
	db, dbURL, cleanup, err := benchkit.Throwaway(ctx, "wallbench", 8, o.keep, log)
	if err != nil {
		return nil, "", nil, err
	}
	var districts []string
	if o.districts != "" {
		districts = strings.Split(o.districts, ",")
	}
	fmt.Printf("seeding a throwaway city at scale %v (scale 1 takes 10–15 min; -keep and -database-url spare it next time)\n", o.scale)
	t0 := time.Now()
	if _, err := data.Seed(ctx, db, data.Options{Scale: o.scale, Seed: 1, Districts: districts, Now: time.Now()}, log); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	fmt.Printf("seeded in %v\n", time.Since(t0).Round(time.Second))
	return db, dbURL, cleanup, nil
}

// migrate applies the served binary's migrations: it may be newer than
// this bench's copy of them.
func migrate(bin, dbURL string) error {
	cmd := exec.Command(bin, "migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "WANGGE_LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s migrate: %w\n%s", bin, err, out)
	}
	return nil
}

// accounts makes one commander token per wall (district walls spread over
// the districts), and the reporters' and handlers' tokens.
func accounts(ctx context.Context, db *postgis.DB, o options, c *city) (walls []wallAccount, reporters, handlers []string, err error) {
	nDistrict := int(float64(o.walls)*o.districtShare + 0.5)
	for i := range o.walls {
		a := wallAccount{}
		if i >= o.walls-nDistrict {
			a.district = c.districts[i%len(c.districts)]
		}
		if a.token, err = benchkit.RegionToken(ctx, db, wangge.RoleCommander, a.district); err != nil {
			return nil, nil, nil, fmt.Errorf("wall account: %w", err)
		}
		walls = append(walls, a)
	}
	for range reporterTokens(o.rate) {
		tok, err := benchkit.RegionToken(ctx, db, wangge.RoleCommander, "")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reporter account: %w", err)
		}
		reporters = append(reporters, tok)
	}
	for range handlerTokens(o.rate) {
		tok, err := benchkit.RegionToken(ctx, db, wangge.RoleCommander, "")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("handler account: %w", err)
		}
		handlers = append(handlers, tok)
	}
	fmt.Printf("accounts: %d city and %d district walls, %d reporters, %d handlers\n",
		o.walls-nDistrict, nDistrict, len(reporters), len(handlers))
	return walls, reporters, handlers, nil
}

var servingRE = regexp.MustCompile(`msg=serving url=(http://\S+)`)

// serve starts the binary on a free loopback port and returns its URL and
// a func that stops it.
func serve(bin, dbURL string) (string, func(), error) {
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-tile-warm-zoom", "-1")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "WANGGE_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	urls := make(chan string, 1)
	go func() { // reads the log to its end: a full pipe would stall the server
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // the access log, unread: scanning it would cost the load generator
	}()
	select {
	case u := <-urls:
		return u, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, errors.New("server did not start in 60 s")
	}
}

// measure runs the incident load and clients for dur.
func measure(ctx context.Context, dur time.Duration, in *incidents, p *phase, clients func(context.Context)) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	done := make(chan struct{})
	go func() { in.run(ctx, p); close(done) }()
	clients(ctx)
	<-done
}
