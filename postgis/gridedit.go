package postgis

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// gridEdit runs a plan's operations inside one transaction: it moves
// parcels between grids (cutting some first) and then moves what stands on
// them. A preview rolls the transaction back; an apply finishes and commits
// it. Both run the same steps (a preview counts, with the same conditions,
// the rows it need not write), so a preview's figures are what the apply
// does to grids of the same versions.
type gridEdit struct {
	tx        pgx.Tx
	scope     wangge.Scope // the caller's: parcels outside it are unknown to the plan
	community string
	grids     map[string]*editGrid // the community's grids at the start
	before    map[string][]int64   // parcels per grid at the start
	areaM2    float64              // the community's parcels' area at the start
	touched   []string             // grids an operation changed, in order
	created   []string             // grids a split made
	retired   map[string]string    // grid merged away → the grid it joined
	nextID    int64                // next parcel id for cut pieces (0: not allocated yet)
	dry       bool                 // a preview: rolled back, so only what later steps read is written
}

type editGrid struct {
	ID      int64
	Name    string
	Version int
	Status  string
}

// idLock serialises the allocation of new grid and parcel ids (max + 1)
// between plans of different communities.
const idLock = 0x7767_6964 // "wgid"

func communityLock(code string) int64 {
	h := fnv.New64a()
	h.Write([]byte("grid-plan:" + code))
	return int64(h.Sum64())
}

// beginEdit loads the community's grids and parcels under the community's
// advisory lock (so previews and applies of one community never interleave
// their row updates); lock also takes the grids' row locks in code order.
func beginEdit(ctx context.Context, tx pgx.Tx, scope wangge.Scope, community string, lock bool) (*gridEdit, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, communityLock(community)); err != nil {
		return nil, fmt.Errorf("postgis: plan lock: %w", err)
	}
	e := &gridEdit{tx: tx, scope: scope, community: community, grids: map[string]*editGrid{}, before: map[string][]int64{},
		retired: map[string]string{}, dry: !lock}
	q := `SELECT code, id, name, version, status FROM grids WHERE community_code = $1 ORDER BY code`
	if lock {
		// NO KEY UPDATE: parcels' foreign keys (KEY SHARE) are not blocked.
		q += ` FOR NO KEY UPDATE`
	}
	rows, err := tx.Query(ctx, q, community)
	if err != nil {
		return nil, fmt.Errorf("postgis: plan grids: %w", err)
	}
	var (
		code string
		g    editGrid
	)
	_, err = pgx.ForEachRow(rows, []any{&code, &g.ID, &g.Name, &g.Version, &g.Status}, func() error {
		gg := g
		e.grids[code] = &gg
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: plan grids: %w", err)
	}
	if len(e.grids) == 0 {
		return nil, fmt.Errorf("community %s has no grids: %w", community, wangge.ErrNotFound)
	}
	rows, err = tx.Query(ctx, `SELECT grid_code, array_agg(id ORDER BY id), sum(ST_Area(geom::geography))
		FROM parcels WHERE community_code = $1 GROUP BY 1`, community)
	if err != nil {
		return nil, fmt.Errorf("postgis: plan parcels: %w", err)
	}
	var (
		ids  []int64
		area float64
	)
	_, err = pgx.ForEachRow(rows, []any{&code, &ids, &area}, func() error {
		e.before[code] = ids
		e.areaM2 += area
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: plan parcels: %w", err)
	}
	return e, nil
}

func (e *gridEdit) touch(codes ...string) {
	for _, c := range codes {
		if !slices.Contains(e.touched, c) {
			e.touched = append(e.touched, c)
		}
	}
}

// active refuses a grid that is not an active grid of the community.
func (e *gridEdit) active(op int, code string) error {
	g, ok := e.grids[code]
	switch {
	case !ok:
		return geo.Refuse(op, code, "unknown_grid", nil, "grid %s is not a grid of community %s", code, e.community)
	case g.Status != "active":
		return geo.Refuse(op, code, "retired", nil, "grid %s is retired", code)
	case e.retired[code] != "":
		return geo.Refuse(op, code, "retired", nil, "grid %s is merged into %s earlier in this plan", code, e.retired[code])
	case len(e.before[code]) == 0 && !slices.Contains(e.created, code):
		// Edits move parcels: a grid without any has nothing to move and
		// no outline a plan could compute (issue 15).
		return geo.Refuse(op, code, "no_parcels", nil,
			"grid %s has no parcels, so a plan cannot change it; import its parcels, or import the grid again (the importer makes parcels for grids without any)", code)
	}
	return nil
}

// run applies the operations in order.
func (e *gridEdit) run(ctx context.Context, ops []geo.GridOp) error {
	for i, op := range ops {
		var err error
		switch op.Kind {
		case geo.OpReassign:
			err = e.reassign(ctx, i, op.Parcels, op.To)
		case geo.OpMerge:
			err = e.merge(ctx, i, op.From, op.To)
		case geo.OpSplit:
			err = e.split(ctx, i, op.Grid, op.Line)
		case geo.OpDraw:
			err = e.draw(ctx, i, op.Grid, op.Boundary)
		default:
			err = geo.Refuse(i, "", "shape", nil, "operation %d: unknown op %q", i, op.Kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *gridEdit) reassign(ctx context.Context, op int, parcels []int64, to string) error {
	if err := e.active(op, to); err != nil {
		return err
	}
	// A parcel outside the caller's jurisdiction is as unknown as a
	// missing one: naming its community and place would leak it.
	rows, err := e.tx.Query(ctx, `SELECT id, grid_code, community_code, ST_X(c), ST_Y(c)
		FROM parcels, ST_PointOnSurface(geom) c WHERE id = ANY($1) AND community_code LIKE $2`, parcels, e.scope.Like())
	if err != nil {
		return fmt.Errorf("postgis: plan parcels: %w", err)
	}
	var (
		id         int64
		grid, comm string
		x, y       float64
		found      = map[int64]bool{}
		from       []string
		probs      []geo.Problem
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &grid, &comm, &x, &y}, func() error {
		found[id] = true
		if comm != e.community {
			p := orb.Point{x, y}
			probs = append(probs, geo.Problem{Op: op, Grid: grid, Rule: "outside_community", Near: &p,
				Reason: fmt.Sprintf("parcel %d lies in community %s, outside community %s", id, comm, e.community)})
		} else if grid != to {
			from = append(from, grid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: plan parcels: %w", err)
	}
	for _, id := range parcels {
		if !found[id] {
			probs = append(probs, geo.Problem{Op: op, Rule: "unknown_parcel", Reason: fmt.Sprintf("parcel %d does not exist", id)})
		}
	}
	if len(probs) > 0 {
		return &geo.PlanError{Problems: probs}
	}
	if _, err := e.tx.Exec(ctx, `UPDATE parcels SET grid_code = $2 WHERE id = ANY($1) AND grid_code <> $2`, parcels, to); err != nil {
		return fmt.Errorf("postgis: reassign parcels: %w", err)
	}
	e.touch(from...)
	e.touch(to)
	return nil
}

func (e *gridEdit) merge(ctx context.Context, op int, from, to string) error {
	for _, g := range []string{from, to} {
		if err := e.active(op, g); err != nil {
			return err
		}
	}
	// Adjacent: the two outlines (as the plan has left them) share an edge
	// at least 1 m long, not just a corner.
	// x, y are NULL when from has no parcels left (given away earlier in
	// the plan): the problem then has no place.
	var (
		shared float64
		x, y   *float64
	)
	err := e.tx.QueryRow(ctx, `WITH a AS (SELECT ST_Union(geom) g FROM parcels WHERE grid_code = $1),
		b AS (SELECT ST_Union(geom) g FROM parcels WHERE grid_code = $2)
		SELECT coalesce(ST_Length(ST_CollectionExtract(ST_Intersection(a.g, b.g), 2)::geography), 0),
		       ST_X(ST_PointOnSurface(a.g)), ST_Y(ST_PointOnSurface(a.g)) FROM a, b`, from, to).Scan(&shared, &x, &y)
	if err != nil {
		return fmt.Errorf("postgis: merge %s into %s: %w", from, to, err)
	}
	if shared < 1 {
		var near *orb.Point
		if x != nil && y != nil {
			near = &orb.Point{*x, *y}
		}
		return geo.Refuse(op, from, "not_adjacent", near, "grids %s and %s are not adjacent (shared edge %.1f m)", from, to, shared)
	}
	if _, err := e.tx.Exec(ctx, `UPDATE parcels SET grid_code = $2 WHERE grid_code = $1`, from, to); err != nil {
		return fmt.Errorf("postgis: merge %s into %s: %w", from, to, err)
	}
	for old, into := range e.retired { // an earlier merge into the grid now retired
		if into == from {
			e.retired[old] = to
		}
	}
	e.retired[from] = to
	e.touch(from, to)
	return nil
}
