package postgis

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/wangge/wangge/geo"
)

// Cutting: split and draw cut parcels along a line before they reassign
// them by side.

func lineWKB(ls orb.LineString) []byte {
	b, err := wkb.Marshal(ls)
	if err != nil { // a LineString always encodes
		panic(err)
	}
	return b
}

// allocParcelID hands out ids for the pieces of cut parcels.
func (e *gridEdit) allocParcelID(ctx context.Context) (int64, error) {
	if e.nextID == 0 {
		if _, err := e.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(idLock)); err != nil {
			return 0, fmt.Errorf("postgis: id lock: %w", err)
		}
		if err := e.tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM parcels`).Scan(&e.nextID); err != nil {
			return 0, fmt.Errorf("postgis: parcel ids: %w", err)
		}
	}
	id := e.nextID
	e.nextID++
	return id, nil
}

// minPieceM2: a cut that would leave a piece smaller than this is not
// made (the parcel stays whole), so a line drawn near a parcel edge snaps
// to it instead of leaving slivers.
const minPieceM2 = 5

// cutParcels cuts the parcels of grid (every grid of the community when
// grid is "") that line crosses: the largest piece keeps the parcel's id,
// the others become new parcels of the same grid and land use; buildings
// go to the piece holding their centroid.
func (e *gridEdit) cutParcels(ctx context.Context, grid string, line []byte) error {
	rows, err := e.tx.Query(ctx, `WITH l AS (SELECT ST_GeomFromWKB($2, 4326) g),
		d AS (SELECT p.id, x.geom, ST_Area(x.geom::geography) a
			FROM parcels p, l, LATERAL (SELECT (ST_Dump(ST_Split(p.geom, l.g))).geom) x
			WHERE (p.grid_code = $1 OR ($1 = '' AND p.community_code = $3)) AND ST_Intersects(p.geom, l.g))
		SELECT d.id, ST_AsEWKB(d.geom) FROM d
		WHERE d.id NOT IN (SELECT id FROM d GROUP BY id HAVING min(a) < $4)
		ORDER BY d.id, d.a DESC`, grid, line, e.community, float64(minPieceM2))
	if err != nil {
		return fmt.Errorf("postgis: cut parcels: %w", err)
	}
	type piece struct {
		parcel int64
		geom   []byte
	}
	var (
		pieces []piece
		pc     piece
	)
	_, err = pgx.ForEachRow(rows, []any{&pc.parcel, &pc.geom}, func() error {
		pieces = append(pieces, piece{pc.parcel, slices.Clone(pc.geom)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: cut parcels: %w", err)
	}
	for i := 0; i < len(pieces); {
		j := i + 1
		for j < len(pieces) && pieces[j].parcel == pieces[i].parcel {
			j++
		}
		if j-i > 1 { // the line really cuts it
			id := pieces[i].parcel
			ids := []int64{id}
			if _, err := e.tx.Exec(ctx, `UPDATE parcels SET geom = ST_Multi(ST_GeomFromEWKB($2)) WHERE id = $1`, id, pieces[i].geom); err != nil {
				return fmt.Errorf("postgis: cut parcel %d: %w", id, err)
			}
			for _, p := range pieces[i+1 : j] {
				nid, err := e.allocParcelID(ctx)
				if err != nil {
					return err
				}
				// A piece of a generated parcel is generated too: a parcels
				// import still carves it.
				if _, err := e.tx.Exec(ctx, `INSERT INTO parcels (id, grid_code, community_code, land_use, geom, generated)
					SELECT $2, grid_code, community_code, land_use, ST_Multi(ST_GeomFromEWKB($3)), generated FROM parcels WHERE id = $1`,
					id, nid, p.geom); err != nil {
					return fmt.Errorf("postgis: cut parcel %d: %w", id, err)
				}
				ids = append(ids, nid)
			}
			// A building follows its centroid; one whose centroid falls
			// outside (an L shape) goes to the nearest piece.
			if _, err := e.tx.Exec(ctx, `UPDATE buildings b SET parcel_id = (
					SELECT p.id FROM parcels p WHERE p.id = ANY($2)
					ORDER BY ST_Distance(p.geom, ST_Centroid(b.geom)), p.id LIMIT 1)
				WHERE b.parcel_id = $1`, id, ids); err != nil {
				return fmt.Errorf("postgis: cut parcel %d: buildings: %w", id, err)
			}
		}
		i = j
	}
	return nil
}

func (e *gridEdit) split(ctx context.Context, op int, grid string, ls orb.LineString) error {
	if err := e.active(op, grid); err != nil {
		return err
	}
	line := lineWKB(ls)
	rows, err := e.tx.Query(ctx, `SELECT ST_AsEWKB(d.geom), ST_Area(d.geom::geography) FROM
		(SELECT (ST_Dump(ST_Split(ST_Union(geom), ST_GeomFromWKB($2, 4326)))).geom FROM parcels WHERE grid_code = $1) d
		ORDER BY 2 DESC`, grid, line)
	if err != nil {
		return fmt.Errorf("postgis: split %s: %w", grid, err)
	}
	var sides [][]byte
	var (
		g []byte
		a float64
	)
	if _, err = pgx.ForEachRow(rows, []any{&g, &a}, func() error { sides = append(sides, slices.Clone(g)); return nil }); err != nil {
		return fmt.Errorf("postgis: split %s: %w", grid, err)
	}
	start := ls[0]
	switch {
	case len(sides) < 2:
		return geo.Refuse(op, grid, "no_cut", &start, "the line does not cut grid %s in two (draw it across the grid, edge to edge)", grid)
	case len(sides) > 2:
		return geo.Refuse(op, grid, "many_cuts", &start, "the line cuts grid %s into %d pieces (cross it once)", grid, len(sides))
	}
	if err := e.cutParcels(ctx, grid, line); err != nil {
		return err
	}
	code, err := e.newGrid(ctx, sides[1])
	if err != nil {
		return err
	}
	// Every parcel now lies on one side: its inner point tells which.
	if _, err := e.tx.Exec(ctx, `UPDATE parcels SET grid_code = $2
		WHERE grid_code = $1 AND ST_Intersects(ST_GeomFromEWKB($3), ST_PointOnSurface(geom))`, grid, code, sides[1]); err != nil {
		return fmt.Errorf("postgis: split %s: %w", grid, err)
	}
	e.touch(grid, code)
	return nil
}

// newGrid inserts the next grid of the community in code sequence, with
// provisional geometry (the finish step sets the union of its parcels).
func (e *gridEdit) newGrid(ctx context.Context, geom []byte) (string, error) {
	seq := 0
	for code := range e.grids {
		var n int
		fmt.Sscanf(code[12:], "%d", &n)
		seq = max(seq, n)
	}
	seq++
	if seq > 999 {
		return "", geo.Refuse(-1, "", "codes", nil, "community %s has no grid code left (999 used)", e.community)
	}
	code := fmt.Sprintf("%s%03d", e.community, seq)
	name := fmt.Sprintf("第%d网格", seq)
	if _, err := e.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(idLock)); err != nil {
		return "", fmt.Errorf("postgis: id lock: %w", err)
	}
	var id int64
	err := e.tx.QueryRow(ctx, `INSERT INTO grids (id, code, community_code, name, geom, updated_by)
		SELECT coalesce(max(id), 0) + 1, $1, $2, $3, ST_Multi(ST_GeomFromEWKB($4)), 'plan' FROM grids RETURNING id`,
		code, e.community, name, geom).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("postgis: new grid %s: %w", code, err)
	}
	e.grids[code] = &editGrid{ID: id, Name: name, Version: 1, Status: "active"}
	e.created = append(e.created, code)
	return code, nil
}

// draw gives grid the area inside a closed boundary drawn by hand: the
// parcels the boundary crosses are cut along it, parcels of the community
// inside it join grid, and grid's parcels left outside go to the
// neighbouring grid they share the longest edge with (repeatedly, for
// parcels that only touch others being given away). Outside the community
// the boundary is ignored. The usual checks then judge the result.
func (e *gridEdit) draw(ctx context.Context, op int, grid string, ring orb.Ring) error {
	if err := e.active(op, grid); err != nil {
		return err
	}
	line := lineWKB(orb.LineString(ring))
	var overlaps bool
	// coalesce: a grid left without parcels earlier in the plan overlaps nothing.
	if err := e.tx.QueryRow(ctx, `SELECT coalesce(ST_Intersects(ST_MakePolygon(ST_GeomFromWKB($2, 4326)), ST_Union(geom)), false)
		FROM parcels WHERE grid_code = $1`, grid, line).Scan(&overlaps); err != nil {
		return fmt.Errorf("postgis: draw %s: %w", grid, err)
	}
	if !overlaps {
		start := ring[0]
		return geo.Refuse(op, grid, "no_overlap", &start, "the boundary does not overlap grid %s", grid)
	}
	if err := e.cutParcels(ctx, "", line); err != nil {
		return err
	}
	rows, err := e.tx.Query(ctx, `WITH r AS (SELECT ST_MakePolygon(ST_GeomFromWKB($3, 4326)) g),
		o AS (SELECT p.id, p.grid_code AS old FROM parcels p, r
			WHERE p.community_code = $1 AND p.grid_code <> $2 AND p.geom && r.g AND ST_Intersects(r.g, ST_PointOnSurface(p.geom)))
		UPDATE parcels p SET grid_code = $2 FROM o WHERE p.id = o.id RETURNING o.old`, e.community, grid, line)
	if err != nil {
		return fmt.Errorf("postgis: draw %s: %w", grid, err)
	}
	from, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgis: draw %s: %w", grid, err)
	}
	e.touch(grid)
	e.touch(from...)
	for {
		rows, err := e.tx.Query(ctx, `WITH r AS (SELECT ST_MakePolygon(ST_GeomFromWKB($3, 4326)) g),
			l AS (SELECT p.id, p.geom FROM parcels p, r WHERE p.grid_code = $2 AND NOT ST_Intersects(r.g, ST_PointOnSurface(p.geom))),
			c AS (SELECT DISTINCT ON (l.id) l.id, n.grid_code FROM l JOIN parcels n
				ON n.community_code = $1 AND n.grid_code <> $2 AND n.geom && l.geom
				WHERE ST_Length(ST_CollectionExtract(ST_Intersection(l.geom, n.geom), 2)::geography) > 0.5
				ORDER BY l.id, ST_Length(ST_CollectionExtract(ST_Intersection(l.geom, n.geom), 2)::geography) DESC, n.grid_code)
			UPDATE parcels p SET grid_code = c.grid_code FROM c WHERE p.id = c.id RETURNING c.grid_code`, e.community, grid, line)
		if err != nil {
			return fmt.Errorf("postgis: draw %s: %w", grid, err)
		}
		to, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgis: draw %s: %w", grid, err)
		}
		if len(to) == 0 {
			break
		}
		e.touch(to...)
	}
	var left int
	var x, y float64
	if err := e.tx.QueryRow(ctx, `WITH r AS (SELECT ST_MakePolygon(ST_GeomFromWKB($2, 4326)) g)
		SELECT count(*), coalesce(min(ST_X(ST_PointOnSurface(p.geom))), 0), coalesce(min(ST_Y(ST_PointOnSurface(p.geom))), 0)
		FROM parcels p, r WHERE p.grid_code = $1 AND NOT ST_Intersects(r.g, ST_PointOnSurface(p.geom))`, grid, line).
		Scan(&left, &x, &y); err != nil {
		return fmt.Errorf("postgis: draw %s: %w", grid, err)
	}
	if left > 0 {
		p := orb.Point{x, y}
		return geo.Refuse(op, grid, "no_neighbour", &p, "%d parcels outside the new boundary of grid %s have no neighbouring grid to go to", left, grid)
	}
	return nil
}
