package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

// GridMove counts what goes from one grid to another.
type GridMove struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Buildings  int    `json:"buildings"`
	Households int    `json:"households"`
	Residents  int    `json:"residents"`
	Objects    int    `json:"objects"`
	OpenEvents int    `json:"open_events"`
	Posts      int    `json:"posts"`
}

// WorkerMove is a unit reassigned because its grid is merged away.
type WorkerMove struct {
	UnitID int64  `json:"unit_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// Count is a figure before and after the plan.
type Count struct {
	Before int `json:"before"`
	After  int `json:"after"`
}

// GridPreview is one grid the plan touches, as the plan leaves it.
type GridPreview struct {
	Code        string          `json:"code"`
	Name        string          `json:"name"`
	Action      string          `json:"action"` // changed, new, retired
	Version     int             `json:"version"`
	Parcels     Count           `json:"parcels"`
	Households  Count           `json:"households"`
	Residents   Count           `json:"residents"`
	Tagged      Count           `json:"tagged"`
	AreaM2      float64         `json:"area_m2"`
	Pieces      int             `json:"pieces"`
	Band        geo.Band        `json:"band"`
	BandBefore  string          `json:"band_before"` // below, within, above
	BandAfter   string          `json:"band_after"`
	Workers     []int64         `json:"workers"`  // grid worker unit ids after the plan
	Geometry    json.RawMessage `json:"geometry"` // GeoJSON of the new outline; null when retired
	WasGeometry json.RawMessage `json:"was_geometry,omitempty"`
	result      geo.GridResult
}

// PlanRules are the partition rules and the target bands.
type PlanRules struct {
	MinAreaM2 float64  // a grid smaller than this is refused
	Urban     geo.Band // households per grid in urban communities
	Rural     geo.Band
}

// DefaultPlanRules: 300–500 households for urban grids (the national
// guideline), a looser rural band, and a minimum of 2,000 m² (one block).
var DefaultPlanRules = PlanRules{MinAreaM2: 2000, Urban: geo.UrbanBand, Rural: geo.RuralBand}

// settle moves what stands on parcels that changed grid: buildings (and
// their households and residents), objects, open events and posts; units
// of a grid merged away go to the grid it joined. A dry edit (a preview)
// moves only the buildings and counts the rest with the same conditions.
func (e *gridEdit) settle(ctx context.Context) ([]GridMove, []WorkerMove, error) {
	moves := map[[2]string]*GridMove{}
	at := func(from, to string) *GridMove {
		k := [2]string{from, to}
		if moves[k] == nil {
			moves[k] = &GridMove{From: from, To: to}
		}
		return moves[k]
	}
	// A preview moves buildings (the counts per grid are read from them)
	// but only counts the people: the same rows an apply updates.
	uh := `UPDATE households h SET grid_code = n.new FROM n WHERE h.building_id = n.id RETURNING n.old, n.new`
	ur := `UPDATE residents r SET grid_code = n.new FROM n WHERE r.building_id = n.id RETURNING n.old, n.new`
	if e.dry {
		uh = `SELECT n.old, n.new FROM n JOIN households h ON h.building_id = n.id`
		ur = `SELECT n.old, n.new FROM n JOIN residents r ON r.building_id = n.id`
	}
	rows, err := e.tx.Query(ctx, `WITH n AS (
			SELECT b.id, b.grid_code AS old, p.grid_code AS new FROM buildings b JOIN parcels p ON p.id = b.parcel_id
			WHERE p.community_code = $1 AND b.grid_code <> p.grid_code),
		ub AS (UPDATE buildings b SET grid_code = n.new FROM n WHERE b.id = n.id RETURNING n.old, n.new),
		uh AS (`+uh+`),
		ur AS (`+ur+`)
		SELECT 'b', old, new, count(*) FROM ub GROUP BY 2, 3
		UNION ALL SELECT 'h', old, new, count(*) FROM uh GROUP BY 2, 3
		UNION ALL SELECT 'r', old, new, count(*) FROM ur GROUP BY 2, 3`, e.community)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: move buildings: %w", err)
	}
	var (
		kind, from, to string
		n              int
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &from, &to, &n}, func() error {
		m := at(from, to)
		switch kind {
		case "b":
			m.Buildings = n
		case "h":
			m.Households = n
		case "r":
			m.Residents = n
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: move buildings: %w", err)
	}
	var oldR, newR []string
	for o, nw := range e.retired {
		oldR, newR = append(oldR, o), append(newR, nw)
	}
	changed, err := e.changedParcels(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Points go to the parcel under them (the lowest grid code on a shared
	// edge, as the locate index decides); objects in a building follow it.
	// Only points on parcels that changed grid (or were cut), or on grids
	// merged away, can move: found from the parcels through the points'
	// GiST index rather than by testing every point of the touched grids.
	points := []struct {
		table, where string
		count        func(*GridMove) *int
	}{
		{"objects", "", func(m *GridMove) *int { return &m.Objects }},
		{"events", ` AND t.status IN ('reported', 'accepted', 'dispatched', 'on_site')`, func(m *GridMove) *int { return &m.OpenEvents }},
		{"posts", "", func(m *GridMove) *int { return &m.Posts }},
	}
	for _, pt := range points {
		update := `UPDATE ` + pt.table + ` t SET grid_code = n.new FROM n WHERE t.id = n.id AND n.new <> n.old RETURNING n.old, n.new`
		if e.dry {
			update = `SELECT n.old, n.new FROM n WHERE n.new <> n.old`
		}
		byBuilding, inBuilding := "NULL::text", ""
		if pt.table == "objects" {
			byBuilding = `(SELECT b.grid_code FROM buildings b WHERE b.id = t.building_id)`
			inBuilding = ` UNION SELECT t.id FROM objects t JOIN buildings b ON b.id = t.building_id
				WHERE b.parcel_id = ANY($5) AND t.grid_code <> b.grid_code`
		}
		q := `WITH c AS (
				SELECT t.id FROM parcels c JOIN ` + pt.table + ` t ON t.geom && c.geom AND ST_Intersects(c.geom, t.geom)
				WHERE c.id = ANY($5)` + pt.where + `
				UNION SELECT t.id FROM ` + pt.table + ` t WHERE t.grid_code = ANY($3)` + pt.where + inBuilding + `),
			n AS (
				SELECT t.id, t.grid_code AS old, coalesce(` + byBuilding + `,
					(SELECT p.grid_code FROM parcels p WHERE ST_Intersects(p.geom, t.geom) AND left(p.grid_code, 12) = $1
					 ORDER BY p.grid_code LIMIT 1),
					r.new, t.grid_code) AS new
				FROM c JOIN ` + pt.table + ` t ON t.id = c.id
				LEFT JOIN unnest($3::text[], $4::text[]) r(old, new) ON r.old = t.grid_code
				WHERE t.grid_code = ANY($2)),
			u AS (` + update + `)
			SELECT old, new, count(*) FROM u GROUP BY 1, 2`
		rows, err := e.tx.Query(ctx, q, e.community, e.touched, oldR, newR, changed)
		if err != nil {
			return nil, nil, fmt.Errorf("postgis: move %s: %w", pt.table, err)
		}
		_, err = pgx.ForEachRow(rows, []any{&from, &to, &n}, func() error {
			*pt.count(at(from, to)) = n
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("postgis: move %s: %w", pt.table, err)
		}
	}
	var workers []WorkerMove
	if len(oldR) > 0 {
		q := `UPDATE units u SET grid_code = r.new FROM unnest($1::text[], $2::text[]) r(old, new) WHERE u.grid_code = r.old
			RETURNING u.id, u.kind, u.name, r.old, r.new`
		if e.dry {
			q = `SELECT u.id, u.kind, u.name, r.old, r.new FROM units u JOIN unnest($1::text[], $2::text[]) r(old, new) ON u.grid_code = r.old`
		}
		rows, err := e.tx.Query(ctx, q, oldR, newR)
		if err != nil {
			return nil, nil, fmt.Errorf("postgis: move units: %w", err)
		}
		workers, err = pgx.CollectRows(rows, pgx.RowToStructByPos[WorkerMove])
		if err != nil {
			return nil, nil, fmt.Errorf("postgis: move units: %w", err)
		}
		slices.SortFunc(workers, func(a, b WorkerMove) int { return int(a.UnitID - b.UnitID) })
	}
	out := make([]GridMove, 0, len(moves))
	for _, m := range moves {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b GridMove) int {
		if c := cmpStr(a.From, b.From); c != 0 {
			return c
		}
		return cmpStr(a.To, b.To)
	})
	return out, workers, nil
}

// changedParcels lists the community's parcels whose grid is not the one
// they started in, and those new from a cut.
func (e *gridEdit) changedParcels(ctx context.Context) ([]int64, error) {
	was := map[int64]string{}
	for code, ids := range e.before {
		for _, id := range ids {
			was[id] = code
		}
	}
	rows, err := e.tx.Query(ctx, `SELECT id, grid_code FROM parcels WHERE community_code = $1`, e.community)
	if err != nil {
		return nil, fmt.Errorf("postgis: changed parcels: %w", err)
	}
	var (
		id      int64
		code    string
		changed []int64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &code}, func() error {
		if was[id] != code {
			changed = append(changed, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: changed parcels: %w", err)
	}
	return changed, nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// measure reads every touched grid as the plan leaves it (the union of its
// parcels; the stored outline is still the old one) and checks the
// partition rules, and that the community's parcels cover what they did.
func (e *gridEdit) measure(ctx context.Context, rules PlanRules) ([]GridPreview, []geo.Problem, error) {
	rows, err := e.tx.Query(ctx, `WITH t AS (SELECT unnest($1::text[]) AS code),
		u AS (SELECT grid_code, ST_Multi(ST_Union(geom)) g, count(*) n FROM parcels WHERE grid_code = ANY($1) GROUP BY 1),
		b AS (SELECT grid_code, sum(households)::int h, sum(residents)::int r, sum(tagged)::int tg
		      FROM buildings WHERE grid_code = ANY($1) GROUP BY 1)
		SELECT t.code, g.households, g.residents, g.tagged, coalesce(b.h, 0), coalesce(b.r, 0), coalesce(b.tg, 0),
			coalesce(u.n, 0), coalesce(ST_NumGeometries(u.g), 0), coalesce(ST_Area(u.g::geography), 0),
			coalesce(ST_NumGeometries(g.geom), 0),
			(SELECT coalesce(sum(ST_NumInteriorRings(d.geom)), 0)::int FROM ST_Dump(u.g) d),
			(SELECT coalesce(sum(ST_NumInteriorRings(d.geom)), 0)::int FROM ST_Dump(g.geom) d),
			u.g IS NULL OR ST_CoveredBy(u.g, c.geom) OR ST_Area(ST_Difference(u.g, c.geom)::geography) < 1,
			coalesce((SELECT ARRAY[ST_X(q), ST_Y(q)] FROM ST_Dump(u.g) d, ST_PointOnSurface(d.geom) q
				ORDER BY ST_Area(d.geom) LIMIT 1), ARRAY[0, 0]::float8[]),
			coalesce((SELECT ARRAY[ST_X(q), ST_Y(q)] FROM ST_Dump(u.g) d, ST_PointOnSurface(ST_MakePolygon(ST_InteriorRingN(d.geom, 1))) q
				WHERE ST_NumInteriorRings(d.geom) > 0 LIMIT 1), ARRAY[0, 0]::float8[]),
			CASE WHEN u.g IS NULL THEN ARRAY[0, 0]::float8[] ELSE ARRAY[ST_X(ST_PointOnSurface(u.g)), ST_Y(ST_PointOnSurface(u.g))] END,
			c.kind, coalesce(ST_AsGeoJSON(u.g, 7)::jsonb, 'null'::jsonb), coalesce(ST_AsGeoJSON(g.geom, 7)::jsonb, 'null'::jsonb),
			coalesce((SELECT array_agg(id ORDER BY id) FROM units WHERE grid_code = t.code AND kind = 'grid_worker'), '{}')
		FROM t JOIN grids g ON g.code = t.code JOIN regions c ON c.code = g.community_code
		LEFT JOIN u ON u.grid_code = t.code LEFT JOIN b ON b.grid_code = t.code
		ORDER BY t.code`, e.touched)
	if err != nil {
		return nil, nil, fmt.Errorf("postgis: measure plan: %w", err)
	}
	var out []GridPreview
	for rows.Next() {
		var (
			p                  GridPreview
			r                  geo.GridResult
			stray, hole, inner []float64
			kind               string
		)
		err := rows.Scan(&p.Code, &p.Households.Before, &p.Residents.Before, &p.Tagged.Before,
			&p.Households.After, &p.Residents.After, &p.Tagged.After, &r.Parcels, &r.PiecesAfter, &r.AreaM2,
			&r.PiecesBefore, &r.HolesAfter, &r.HolesBefore, &r.InCommunity, &stray, &hole, &inner,
			&kind, &p.Geometry, &p.WasGeometry, &p.Workers)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("postgis: measure plan: %w", err)
		}
		g := e.grids[p.Code]
		r.Code, r.MinAreaM2 = p.Code, rules.MinAreaM2
		r.Stray, r.Hole, r.Center = orb.Point{stray[0], stray[1]}, orb.Point{hole[0], hole[1]}, orb.Point{inner[0], inner[1]}
		p.Name, p.Version, p.AreaM2, p.Pieces = g.Name, g.Version, r.AreaM2, r.PiecesAfter
		p.Parcels = Count{Before: len(e.before[p.Code]), After: r.Parcels}
		p.Action = "changed"
		switch {
		case slices.Contains(e.created, p.Code):
			p.Action, p.Version, r.PiecesBefore, r.HolesBefore = "new", 0, 0, 0
			p.WasGeometry = nil
			p.Households.Before, p.Residents.Before, p.Tagged.Before = 0, 0, 0
		case e.retired[p.Code] != "":
			p.Action, r.Retired = "retired", true
		}
		p.Band = rules.Urban
		if kind == "rural" {
			p.Band = rules.Rural
		}
		p.BandBefore, p.BandAfter = p.Band.Place(p.Households.Before), p.Band.Place(p.Households.After)
		if p.Action == "new" {
			p.BandBefore = ""
		}
		if r.Retired {
			p.BandAfter = ""
		}
		p.result = r
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("postgis: measure plan: %w", err)
	}
	results := make([]geo.GridResult, len(out))
	for i, p := range out {
		results[i] = p.result
	}
	probs := geo.CheckResult(results)
	var area float64
	if err := e.tx.QueryRow(ctx, `SELECT coalesce(sum(ST_Area(geom::geography)), 0) FROM parcels WHERE community_code = $1`,
		e.community).Scan(&area); err != nil {
		return nil, nil, fmt.Errorf("postgis: measure plan: %w", err)
	}
	if d := area - e.areaM2; d > 1 || d < -1 {
		probs = append(probs, geo.Problem{Op: -1, Rule: "union_changed",
			Reason: fmt.Sprintf("community %s's parcels would cover %.1f m² more", e.community, d)})
	}
	return out, probs, nil
}

// finish writes what an apply changes besides parcels and what stands on
// them: grid outlines and versions, history rows, counts, tile and stream
// notices. by and reason go into the history.
func (e *gridEdit) finish(ctx context.Context, planID int64, by, reason string, moved []GridMove) error {
	tx := e.tx
	// The version each touched grid had is kept once, so history shows it
	// even when nothing recorded it before (a seeded grid).
	for _, code := range e.touched {
		if slices.Contains(e.created, code) {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO grid_versions (grid_code, version, geom, parcel_ids, changed_by, reason, changed_at)
			SELECT code, version, geom, $2, updated_by, 'as found before the first plan', updated_at FROM grids WHERE code = $1
			ON CONFLICT (grid_code, version) DO NOTHING`, code, e.before[code]); err != nil {
			return fmt.Errorf("postgis: grid %s history: %w", code, err)
		}
	}
	var retired []string
	for code := range e.retired {
		retired = append(retired, code)
	}
	if _, err := tx.Exec(ctx, `UPDATE grids g SET geom = u.g,
			version = g.version + CASE WHEN g.code = ANY($2) THEN 0 ELSE 1 END, updated_at = now(), updated_by = $3
		FROM (SELECT grid_code, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)) g
		      FROM parcels WHERE grid_code = ANY($1) GROUP BY 1) u
		WHERE g.code = u.grid_code`, e.touched, e.created, by); err != nil {
		return fmt.Errorf("postgis: grid outlines: %w", err)
	}
	if len(retired) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE grids SET status = 'retired', geom = NULL, version = version + 1,
			households = 0, residents = 0, tagged = 0, updated_at = now(), updated_by = $2 WHERE code = ANY($1)`,
			retired, by); err != nil {
			return fmt.Errorf("postgis: retire grids: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO grid_versions (grid_code, version, geom, parcel_ids, changed_by, reason, plan_id)
		SELECT g.code, g.version, g.geom,
			coalesce((SELECT array_agg(p.id ORDER BY p.id) FROM parcels p WHERE p.grid_code = g.code), '{}'), $2, $3, $4
		FROM grids g WHERE g.code = ANY($1)`, e.touched, by, reason, planID); err != nil {
		return fmt.Errorf("postgis: grid history: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT refresh_grid_counts($1)`, e.community); err != nil {
		return fmt.Errorf("postgis: grid counts: %w", err)
	}
	// Grids new from a split: the UPDATE trigger announced the others.
	if _, err := tx.Exec(ctx, `SELECT stream_publish('grid.changed', g.code, g.geom, jsonb_build_object('code', g.code,
			'status', g.status, 'version', g.version, 'updated_at', g.updated_at, 'updated_by', g.updated_by))
		FROM grids g WHERE g.code = ANY($1) ORDER BY g.code`, e.created); err != nil {
		return fmt.Errorf("postgis: grid stream: %w", err)
	}
	layers := []string{"grids", "parcels", "buildings"}
	var objects, events, posts bool
	for _, m := range moved {
		objects, events, posts = objects || m.Objects > 0, events || m.OpenEvents > 0, posts || m.Posts > 0
	}
	for _, l := range []struct {
		on   bool
		name string
	}{{objects, "objects"}, {events, "events"}, {posts, "posts"}} {
		if l.on {
			layers = append(layers, l.name)
		}
	}
	// One box for all: the touched grids cover the same ground before and
	// after (parcels only moved among them).
	if _, err := tx.Exec(ctx, `SELECT tile_changed(l, (SELECT ST_Extent(geom)::geometry FROM parcels WHERE grid_code = ANY($1)))
		FROM unnest($2::text[]) l`, e.touched, layers); err != nil {
		return fmt.Errorf("postgis: tile changes: %w", err)
	}
	return nil
}
