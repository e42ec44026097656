package postgis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uber/h3-go/v4"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// responderCols is one responder row: class (1 post, 2 unit), id, kind,
// status, lon, lat, home grid code (” when none), position_at, status_at.
// A unit's home is the grid it owns (grid workers), else its post's grid.
const (
	postCols = `1, p.id, p.kind, 'available', ST_X(p.geom), ST_Y(p.geom), p.grid_code,
		NULL::timestamptz, NULL::timestamptz`
	unitCols = `2, u.id, u.kind, u.status, ST_X(u.geom), ST_Y(u.geom),
		coalesce(u.grid_code, (SELECT grid_code FROM posts WHERE id = u.post_id), ''),
		u.position_at, u.status_at`
)

// LoadResponders reads every post and unit, for the in-memory index.
func (db *DB) LoadResponders(ctx context.Context) ([]geo.Responder, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+postCols+` FROM posts p UNION ALL SELECT `+unitCols+` FROM units u`)
	if err != nil {
		return nil, fmt.Errorf("postgis: load responders: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanResponder)
	if err != nil {
		return nil, fmt.Errorf("postgis: load responders: %w", err)
	}
	return out, nil
}

func scanResponder(row pgx.CollectableRow) (geo.Responder, error) {
	var (
		r           geo.Responder
		class       int
		home        string
		posAt, stAt *time.Time
	)
	err := row.Scan(&class, &r.Key.ID, &r.Kind, &r.Status, &r.Lon, &r.Lat, &home, &posAt, &stAt)
	r.Key.Class = geo.Class(class)
	r.Street, r.District = homeCodes(home)
	if posAt != nil {
		r.PositionAt = *posAt
	}
	if stAt != nil {
		r.StatusAt = *stAt
	}
	return r, err
}

// homeCodes cuts a grid code into its street and district codes.
func homeCodes(grid string) (street, district string) {
	if len(grid) >= 9 {
		return grid[:9], grid[:6]
	}
	return "", ""
}

// NearestExact is the PostGIS baseline of geo.Index.Nearest, limited to
// the responders at home inside scope (ScopeQuery): a KNN walk of
// the geography indexes (migration 0005), so the order is great-circle
// distance on the sphere, exact; each table gives its k best (ties by id),
// and the merged answer is ranked again in Go by the index's own haversine
// and key order, so both engines answer the very same list.
func (db *DB) NearestExact(ctx context.Context, scope wangge.Scope, q geo.Query) ([]geo.Match, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	q, ok := ScopeQuery(scope, q)
	if !ok {
		return []geo.Match{}, nil
	}
	var kinds, statuses []string
	for _, k := range q.Kinds {
		kinds = append(kinds, string(k))
	}
	for _, s := range q.Statuses {
		statuses = append(statuses, string(s))
	}
	sql := nearestTable("posts p", postCols, "p.kind", "'available'", "p.grid_code", "p") + `
	UNION ALL ` + nearestTable("units u LEFT JOIN posts hp ON hp.id = u.post_id", unitCols, "u.kind", "u.status",
		"coalesce(u.grid_code, hp.grid_code, '')", "u")
	rows, err := db.Pool.Query(ctx, sql, q.Lon, q.Lat, kinds, statuses, q.Street, q.District, q.K)
	if err != nil {
		return nil, fmt.Errorf("postgis: nearest responders: %w", err)
	}
	rs, err := pgx.CollectRows(rows, scanResponder)
	if err != nil {
		return nil, fmt.Errorf("postgis: nearest responders: %w", err)
	}
	return rankMatches(q, rs), nil
}

// nearestTable is one table's exact candidates: the KNN walk of the
// geography index finds the k-th distance d (ordering by distance alone,
// which the index can serve), then every filtered row within d of the
// point (ST_DWithin on the sphere, same index, 1 cm of slack against
// rounding) is returned — the k
// nearest and anything tied with the k-th, for the re-rank in Go.
func nearestTable(from, cols, kind, status, home, alias string) string {
	where := fmt.Sprintf(`($3::text[] IS NULL OR %[1]s = ANY($3)) AND ($4::text[] IS NULL OR %[2]s = ANY($4))
		AND ($5 = '' OR left(%[3]s, 9) = $5) AND ($6 = '' OR left(%[3]s, 6) = $6)`, kind, status, home)
	geog := alias + ".geom::geography"
	const pt = `ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography`
	return `(SELECT ` + cols + ` FROM ` + from + ` WHERE ` + where + ` AND ST_DWithin(` + geog + `, ` + pt + `, (
		SELECT max(d) + 0.01 FROM (SELECT ` + geog + ` <-> ` + pt + ` AS d FROM ` + from + ` WHERE ` + where + `
		ORDER BY ` + geog + ` <-> ` + pt + ` LIMIT $7) knn), false))`
}

// rankMatches orders candidates as geo.Index does and explains them, with
// the res-8 cell and its ring around the query's cell.
func rankMatches(q geo.Query, rs []geo.Responder) []geo.Match {
	ms := make([]geo.Match, len(rs))
	for i, r := range rs {
		ms[i] = geo.Match{Responder: r, DistanceM: geo.DistanceM(q.Lon, q.Lat, r.Lon, r.Lat)}
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].DistanceM != ms[j].DistanceM {
			return ms[i].DistanceM < ms[j].DistanceM
		}
		return ms[i].Key.Less(ms[j].Key)
	})
	if len(ms) > q.K {
		ms = ms[:q.K]
	}
	res := geo.Levels[0].Res
	origin := h3.LatLngToCell(h3.NewLatLng(q.Lat, q.Lon), res)
	for i := range ms {
		ms[i].Rank = i + 1
		ms[i].Reason = geo.Explain(i+1, q)
		ms[i].Cell = h3.LatLngToCell(h3.NewLatLng(ms[i].Lat, ms[i].Lon), res)
		ms[i].Ring = h3.GridDistance(origin, ms[i].Cell) // -1 when H3 cannot tell (pentagon, far apart)
	}
	return ms
}

// Place is where an event happened and the grid it was located to.
type Place struct {
	Lon, Lat float64
	GridCode string
}

// EventPlace reads the stored point and grid of an event inside scope.
func (db *DB) EventPlace(ctx context.Context, scope wangge.Scope, id int64) (Place, error) {
	var p Place
	err := db.Pool.QueryRow(ctx, `SELECT ST_X(geom), ST_Y(geom), grid_code FROM events WHERE id = $1 AND grid_code LIKE $2`,
		id, scope.Like()).Scan(&p.Lon, &p.Lat, &p.GridCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("postgis: event %d: %w", id, wangge.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("postgis: event %d: %w", id, err)
	}
	return p, nil
}
