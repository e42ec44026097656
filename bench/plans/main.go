// Command plans benchmarks grid edits through the HTTP API: the preview
// (POST /api/v1/plans) and the apply (POST /api/v1/plans/{id}/apply) of a
// typical urban edit — one edge parcel with its buildings, households and
// residents moved to the neighbouring grid — plus merge, split and draw, on the
// core district seeded at scale 1. The baseline, measured in the same run
// on the same parcels, is the bare minimum an edit must do: one
// transaction that updates the parcel and rebuilds the two outlines with
// ST_Union, no checks, no history, no moves. Requests go through the real
// access control: a city planner's bearer token drafts, a city approver's
// applies (four eyes), and each write waits for its audit row.
//
//	DATABASE_URL=$(bin/wangge db url) go run ./bench/plans
//
// It creates a throwaway database from DATABASE_URL, seeds it and drops it
// at the end (-keep to keep it).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/bench/internal/benchkit"
	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

func main() {
	scale := flag.Float64("scale", 1, "seed scale")
	districts := flag.String("districts", "500103", "districts to seed")
	n := flag.Int("n", 60, "edits per measurement")
	keep := flag.Bool("keep", false, "keep the database")
	flag.Parse()
	if err := run(*scale, strings.Split(*districts, ","), *n, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	db   *postgis.DB
	base string
	c    *http.Client
	// Four eyes: a planner drafts, another user, an approver, applies
	// (both city-wide, so any edit is in their jurisdiction).
	planner, approver string
}

func run(scale float64, districts []string, n int, keep bool) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, _, cleanup, err := benchkit.Throwaway(ctx, "wangge_bench_plans", 8, keep, log)
	if err != nil {
		return err
	}
	defer cleanup()
	t0 := time.Now()
	st, err := data.Seed(ctx, db, data.Options{Scale: scale, Seed: 1, Districts: districts, Now: time.Now()}, log)
	if err != nil {
		return err
	}
	fmt.Printf("seeded scale %g districts %v in %v: %d grids, %d parcels, %d buildings, %d households, %d residents\n",
		scale, districts, time.Since(t0).Round(time.Second), st.Rows["grids"], st.Rows["parcels"], st.Rows["buildings"],
		st.Rows["households"], st.Rows["residents"])
	actx, stop := context.WithCancel(ctx)
	defer stop()
	hs := httptest.NewServer(api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 8 << 20, Plans: &api.Plans{Store: db},
		Access: benchkit.Access(actx, db, log)}).Handler())
	defer hs.Close()
	b := &bench{db: db, base: hs.URL + "/api/v1", c: hs.Client()}
	if b.planner, err = benchkit.Token(ctx, db, wangge.RolePlanner, nil); err != nil {
		return err
	}
	if b.approver, err = benchkit.Token(ctx, db, wangge.RoleApprover, nil); err != nil {
		return err
	}

	edits, err := b.edgeEdits(ctx, n)
	if err != nil {
		return err
	}
	fmt.Printf("typical edit: 1 edge parcel between two urban grids; mean %.1f buildings, %.0f households, %.0f residents moved\n",
		edits.meanBuildings, edits.meanHouseholds, edits.meanResidents)
	var rows []row
	// Each edit runs there and back, so the city ends as it began.
	bl, err := b.baseline(ctx, edits.list)
	if err != nil {
		return err
	}
	rows = append(rows, row{"baseline: UPDATE parcel + 2× ST_Union (1 tx)", bl, 0, bl})
	pv, ap, err := b.previewApply(ctx, edits.list)
	if err != nil {
		return err
	}
	rows = append(rows, row{"reassign: preview (POST /plans)", pv, 300 * time.Millisecond, bl},
		row{"reassign: apply (POST /plans/{id}/apply)", ap, 500 * time.Millisecond, bl})
	mpv, map_, spv, sap, err := b.mergeSplit(ctx, min(n, 20))
	if err != nil {
		return err
	}
	rows = append(rows, row{"merge: preview", mpv, 300 * time.Millisecond, bl}, row{"merge: apply", map_, 500 * time.Millisecond, bl},
		row{"split (cuts parcels): preview", spv, 300 * time.Millisecond, bl}, row{"split: apply", sap, 500 * time.Millisecond, bl})
	dpv, dap, err := b.draws(ctx, min(n, 20))
	if err != nil {
		return err
	}
	rows = append(rows, row{"draw (grow by 10 m): preview", dpv, 300 * time.Millisecond, bl}, row{"draw: apply", dap, 500 * time.Millisecond, bl})
	printTable(rows)
	return nil
}

// draws grows n urban grids (one per community) by about 10 m with a
// hand-drawn outline: strips of every neighbour are cut off and join.
func (b *bench) draws(ctx context.Context, n int) (pv, ap []time.Duration, err error) {
	rows, err := b.db.Pool.Query(ctx, `SELECT DISTINCT ON (g.community_code) g.code,
			(SELECT json_agg(json_build_array(ST_X(pt.geom), ST_Y(pt.geom)) ORDER BY pt.path)
			 FROM ST_DumpPoints(ST_ExteriorRing(ST_GeometryN(ST_Buffer(g.geom, 0.0001, 'join=mitre'), 1))) pt)
		FROM grids g JOIN regions c ON c.code = g.community_code AND c.kind = 'urban'
		WHERE g.status = 'active' ORDER BY g.community_code DESC, g.code LIMIT $1`, 3*n)
	if err != nil {
		return nil, nil, err
	}
	var cands [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			return nil, nil, err
		}
		cands = append(cands, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, c := range cands {
		if len(pv) >= n {
			break
		}
		d, a, err := b.once(fmt.Sprintf(`{"reason":"bench","operations":[{"op":"draw","grid":"%s","boundary":%s}]}`, c[0], c[1]))
		if err != nil {
			continue // a neighbour too thin to lose a strip: refused, skip it
		}
		pv, ap = append(pv, d), append(ap, a)
	}
	if len(pv) == 0 {
		return nil, nil, fmt.Errorf("no draw succeeded")
	}
	return pv, ap, nil
}

type row struct {
	name   string
	ds     []time.Duration
	target time.Duration
	base   []time.Duration
}

func printTable(rows []row) {
	fmt.Printf("\n%-46s %5s %9s %9s %9s %9s %8s  %s\n", "operation", "n", "p50", "p95", "p99", "target", "p95/base", "")
	for _, r := range rows {
		p95 := benchkit.Pct(r.ds, 0.95)
		target, verdict := "—", ""
		if r.target > 0 {
			target = r.target.String()
			verdict = "ok"
			if p95 >= r.target {
				verdict = "MISSED"
			}
		}
		fmt.Printf("%-46s %5d %9v %9v %9v %9s %7.1f×  %s\n", r.name, len(r.ds), round(benchkit.Pct(r.ds, 0.5)), round(p95),
			round(benchkit.Pct(r.ds, 0.99)), target, float64(p95)/float64(benchkit.Pct(r.base, 0.95)), verdict)
	}
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// edit is one parcel moved from one grid to another.
type edit struct {
	parcel   int64
	from, to string
}

type editSet struct {
	list                                         []edit
	meanBuildings, meanHouseholds, meanResidents float64
}

// edgeEdits picks n parcels carrying buildings on the edge between two
// urban grids, in different communities where possible, whose move keeps
// both grids in one piece (checked by a preview).
func (b *bench) edgeEdits(ctx context.Context, n int) (editSet, error) {
	var es editSet
	rows, err := b.db.Pool.Query(ctx, `SELECT DISTINCT ON (p.id) p.id, p.grid_code, g.code,
			(SELECT count(*) FROM buildings x WHERE x.parcel_id = p.id),
			(SELECT coalesce(sum(households), 0) FROM buildings x WHERE x.parcel_id = p.id),
			(SELECT coalesce(sum(residents), 0) FROM buildings x WHERE x.parcel_id = p.id)
		FROM parcels p JOIN regions c ON c.code = p.community_code AND c.kind = 'urban'
		JOIN grids g ON g.community_code = p.community_code AND g.code <> p.grid_code AND g.geom && p.geom
		WHERE EXISTS (SELECT 1 FROM buildings x WHERE x.parcel_id = p.id)
		AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 1
		ORDER BY p.id, g.code`)
	if err != nil {
		return es, err
	}
	type cand struct {
		e         edit
		nb, h, r  int
		community string
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.e.parcel, &c.e.from, &c.e.to, &c.nb, &c.h, &c.r); err != nil {
			return es, err
		}
		c.community = c.e.from[:12]
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return es, err
	}
	used := map[string]bool{}
	for pass := 0; pass < 2 && len(es.list) < n; pass++ {
		for _, c := range cs {
			if len(es.list) >= n {
				break
			}
			if pass == 0 && used[c.community] || pass == 1 && slices.Contains(es.list, c.e) {
				continue
			}
			code, _, err := b.post(b.planner, "/plans", reassign(c.e.parcel, c.e.to))
			if err != nil {
				return es, err
			}
			if code != http.StatusCreated {
				continue
			}
			used[c.community] = true
			es.list = append(es.list, c.e)
			es.meanBuildings += float64(c.nb)
			es.meanHouseholds += float64(c.h)
			es.meanResidents += float64(c.r)
		}
	}
	if len(es.list) == 0 {
		return es, fmt.Errorf("no edge parcel can be moved")
	}
	k := float64(len(es.list))
	es.meanBuildings, es.meanHouseholds, es.meanResidents = es.meanBuildings/k, es.meanHouseholds/k, es.meanResidents/k
	return es, nil
}

func reassign(parcel int64, to string) string {
	return fmt.Sprintf(`{"reason":"bench","operations":[{"op":"reassign","parcels":[%d],"to":"%s"}]}`, parcel, to)
}

// post sends body with a bearer token, as the client holding it would:
// every request pays the real credential check and, being a write, the
// audit row.
func (b *bench) post(tok, path, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := b.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil && err != io.EOF {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, out, nil
}

// previewApply times the preview and the apply of every edit, then of its
// way back.
func (b *bench) previewApply(_ context.Context, es []edit) (pv, ap []time.Duration, err error) {
	for _, back := range []bool{false, true} {
		for _, e := range es {
			to := e.to
			if back {
				to = e.from
			}
			d, a, err := b.once(reassign(e.parcel, to))
			if err != nil {
				return nil, nil, fmt.Errorf("parcel %d → %s: %w", e.parcel, to, err)
			}
			pv, ap = append(pv, d), append(ap, a)
		}
	}
	return pv, ap, nil
}

// once previews and applies one plan, timing both.
func (b *bench) once(body string) (time.Duration, time.Duration, error) {
	t0 := time.Now()
	code, p, err := b.post(b.planner, "/plans", body)
	d := time.Since(t0)
	if err != nil || code != http.StatusCreated {
		return 0, 0, fmt.Errorf("preview: %d %v %v", code, p["error"], err)
	}
	t0 = time.Now()
	code, a, err := b.post(b.approver, fmt.Sprintf("/plans/%.0f/apply", p["plan_id"].(float64)), "")
	ad := time.Since(t0)
	if err != nil || code != http.StatusOK {
		return 0, 0, fmt.Errorf("apply: %d %v %v", code, a["error"], err)
	}
	return d, ad, nil
}

// baseline: the same moves with the least SQL that keeps grids equal to
// their parcels' union.
func (b *bench) baseline(ctx context.Context, es []edit) ([]time.Duration, error) {
	var ds []time.Duration
	for _, back := range []bool{false, true} {
		for _, e := range es {
			to := e.to
			if back {
				to = e.from
			}
			t0 := time.Now()
			err := pgx.BeginFunc(ctx, b.db.Pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `UPDATE parcels SET grid_code = $2 WHERE id = $1`, e.parcel, to); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE grids g SET geom = u.g FROM (SELECT grid_code, ST_Multi(ST_Union(geom)) g
					FROM parcels WHERE grid_code IN ($1, $2) GROUP BY 1) u WHERE g.code = u.grid_code`, e.from, e.to)
				return err
			})
			if err != nil {
				return nil, err
			}
			ds = append(ds, time.Since(t0))
		}
	}
	return ds, nil
}

// mergeSplit merges n pairs of adjacent urban grids, then splits the
// merged grids across their middle (cutting parcels).
func (b *bench) mergeSplit(ctx context.Context, n int) (mpv, map_, spv, sap []time.Duration, err error) {
	rows, err := b.db.Pool.Query(ctx, `SELECT DISTINCT ON (a.community_code) a.code, b.code
		FROM grids a JOIN grids b ON a.community_code = b.community_code AND a.code < b.code AND a.geom && b.geom
		JOIN regions c ON c.code = a.community_code AND c.kind = 'urban'
		WHERE a.status = 'active' AND b.status = 'active'
		AND ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography) > 50
		ORDER BY a.community_code, a.code, b.code LIMIT $1`, n)
	if err != nil {
		return
	}
	var pairs [][2]string
	for rows.Next() {
		var p [2]string
		if err = rows.Scan(&p[0], &p[1]); err != nil {
			return
		}
		pairs = append(pairs, p)
	}
	if err = rows.Err(); err != nil {
		return
	}
	for _, p := range pairs {
		d, a, e := b.once(fmt.Sprintf(`{"reason":"bench","operations":[{"op":"merge","from":"%s","to":"%s"}]}`, p[1], p[0]))
		if e != nil {
			err = fmt.Errorf("merge %v: %w", p, e)
			return
		}
		mpv, map_ = append(mpv, d), append(map_, a)
		var x0, y0, x1, y1 float64
		if err = b.db.Pool.QueryRow(ctx, `SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM grids
			WHERE code = $1`, p[0]).Scan(&x0, &y0, &x1, &y1); err != nil {
			return
		}
		y := y0 + (y1-y0)*0.47
		d, a, e = b.once(fmt.Sprintf(`{"reason":"bench","operations":[{"op":"split","grid":"%s","line":[[%f,%f],[%f,%f]]}]}`,
			p[0], x0-1e-4, y, x1+1e-4, y+(y1-y0)*0.02))
		if e != nil {
			continue // a line that leaves a piece too small: skip that grid
		}
		spv, sap = append(spv, d), append(sap, a)
	}
	if len(spv) == 0 {
		err = fmt.Errorf("no split succeeded")
	}
	return
}
