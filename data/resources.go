package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// post is a fixed responder post; units are stationed at some of them.
type post struct {
	ID                   int64
	Kind, Name, GridCode string
	Pt                   orb.Point
	Units                int
	UnitKind, UnitSuffix string
}

// resources loads the posts and units of every district. They are not
// thinned by the scale: a demo city needs every grid worker.
func (s *seeder) resources(ctx context.Context) error {
	return s.eachDistrict(ctx, func(ctx context.Context, p *plan) error {
		rng := stream(s.opts.Seed, uint64(p.Idx), 6)
		posts := s.posts(p, rng)
		var rows [][]any
		for _, o := range posts {
			rows = append(rows, []any{o.ID, o.Kind, o.Name, p.D.Name + strings.TrimPrefix(o.Name, p.D.Name), landline(rng), o.GridCode, wkb(o.Pt)})
		}
		t0 := time.Now()
		n, err := s.db.CopyRows(ctx, "posts", []string{"id", "kind", "name", "address", "phone", "grid_code", "geom"}, pgx.CopyFromRows(rows))
		s.count("posts", n, time.Since(t0))
		if err != nil {
			return err
		}
		return s.units(ctx, p, posts, rng)
	})
}

// gridsWith lists the grids whose code starts with prefix (grids are
// sorted by code, so they are contiguous).
func (p *plan) gridsWith(prefix string) []int {
	var out []int
	for gi := range p.Grids {
		if strings.HasPrefix(p.Grids[gi].Code, prefix) {
			out = append(out, gi)
		}
	}
	return out
}

func (s *seeder) posts(p *plan, rng *rand.Rand) []post {
	var out []post
	add := func(kind, name string, gis []int, units int, unitKind, suffix string) {
		if len(gis) == 0 {
			return
		}
		gi := gis[rng.IntN(len(gis))]
		pt, _, ok := p.randomPoint(gi, rng)
		if !ok {
			return
		}
		out = append(out, post{ID: p.Idx*1_000_000 + int64(len(out)) + 1, Kind: kind, Name: name,
			GridCode: p.Grids[gi].Code, Pt: pt, Units: units, UnitKind: unitKind, UnitSuffix: suffix})
	}
	all := make([]int, len(p.Grids))
	for i := range all {
		all[i] = i
	}
	add("medical", p.D.Name+"人民医院", all, 4, "ambulance", "救护车")
	add("medical", p.D.Name+"中医院", all, 2, "ambulance", "救护车")
	add("fire", p.D.Name+"消防救援支队特勤站", all, 3, "engine", "消防车")
	for i, st := range p.D.Streets {
		gis := p.gridsWith(st.Code)
		add("police", st.Name+"派出所", gis, 3, "patrol", "巡逻组")
		if i%3 == 0 || (coreDistricts[p.D.Code] && class(st.Name) == 0) {
			add("fire", p.D.Name+"消防救援支队"+strings.TrimSuffix(st.Name, "街道")+"站", gis, 2, "engine", "消防车")
		}
		med := st.Name + "卫生院"
		if class(st.Name) == 0 {
			med = st.Name + "社区卫生服务中心"
		}
		add("medical", med, gis, 1, "ambulance", "救护车")
		for j, c := range st.Communities {
			cg := p.gridsWith(c.Code)
			add("community", shortName(c.Name)+"便民服务站", cg, 0, "", "")
			if c.Urban || j%3 == 0 {
				add("micro_fire", shortName(c.Name)+"微型消防站", cg, 0, "", "")
			}
		}
	}
	return out
}

var unitStatus = []string{"available", "available", "available", "available", "available", "available",
	"en_route", "on_scene", "off_duty", "off_duty"}

// units loads one grid worker per grid, then the crews of the posts.
func (s *seeder) units(ctx context.Context, p *plan, posts []post, rng *rand.Rand) error {
	var rows [][]any
	unit := func(id int64, kind, name string, postID any, grid string, pt orb.Point) {
		at := s.opts.Now.Add(-time.Duration(1+rng.IntN(7200)) * time.Second)
		rows = append(rows, []any{id, kind, name, phone(rng), postID, grid, unitStatus[rng.IntN(len(unitStatus))], at, at, at, wkb(pt)})
	}
	for gi, g := range p.Grids {
		pt, _, ok := p.randomPoint(gi, rng)
		if !ok {
			pt = p.Leaves[g.First].B.Center()
		}
		unit(p.workerID(gi), "grid_worker", personName(rng, rng.IntN(2) == 0), nil, g.Code, pt)
	}
	next := p.workerID(len(p.Grids))
	for _, o := range posts {
		for k := range o.Units {
			jitter := orb.Point{o.Pt[0] + (rng.Float64()-0.5)*2e-4, o.Pt[1] + (rng.Float64()-0.5)*2e-4}
			unit(next, o.UnitKind, fmt.Sprintf("%s%d%s", o.Name, k+1, o.UnitSuffix), o.ID, o.GridCode, jitter)
			next++
		}
	}
	t0 := time.Now()
	n, err := s.db.CopyRows(ctx, "units", []string{"id", "kind", "name", "phone", "post_id", "grid_code", "status",
		"position_at", "status_at", "updated_at", "geom"}, pgx.CopyFromRows(rows))
	s.count("units", n, time.Since(t0))
	return err
}

// workerID is the id of grid gi's grid worker.
func (p *plan) workerID(gi int) int64 { return p.Idx*10_000_000 + int64(gi) + 1 }
