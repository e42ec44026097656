package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// GridNeighbour is an active grid sharing an edge with another.
type GridNeighbour struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Community     string  `json:"community_code"`
	SameCommunity bool    `json:"same_community"` // parcels can move between them (DESIGN.md §1)
	SharedM       float64 `json:"shared_m"`       // length of the common boundary
}

// GridNeighbours lists the active grids sharing more than half a metre of
// boundary with grid code (a corner is not an edge), longest edge first:
// where a planner can move parcels to. The grid must lie inside scope, and
// so must the neighbours listed (parcels never move out of a community,
// so one across the jurisdiction's border is no place to move them).
func (db *DB) GridNeighbours(ctx context.Context, scope wangge.Scope, code string) ([]GridNeighbour, error) {
	// One row per neighbour, or one row of NULLs for a grid without any;
	// no row at all: no such grid.
	rows, err := db.Pool.Query(ctx, `
		SELECT n.code, n.name, n.community_code, n.community_code = g.community_code, n.shared_m
		FROM grids g LEFT JOIN LATERAL (
			SELECT o.code, o.name, o.community_code,
				ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(g.geom), ST_Boundary(o.geom)), 2)::geography) AS shared_m
			FROM grids o
			WHERE o.status = 'active' AND o.code <> g.code AND o.code LIKE $2 AND o.geom && g.geom AND ST_Intersects(o.geom, g.geom)
		) n ON n.shared_m > 0.5
		WHERE g.code = $1 AND g.code LIKE $2
		ORDER BY n.shared_m DESC NULLS LAST, n.code`, code, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: neighbours of grid %s: %w", code, err)
	}
	var (
		out   = []GridNeighbour{}
		found bool
	)
	var (
		c, name, comm *string
		same          *bool
		shared        *float64
	)
	_, err = pgx.ForEachRow(rows, []any{&c, &name, &comm, &same, &shared}, func() error {
		found = true
		if c != nil {
			out = append(out, GridNeighbour{Code: *c, Name: *name, Community: *comm, SameCommunity: *same, SharedM: *shared})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: neighbours of grid %s: %w", code, err)
	}
	if !found {
		return nil, fmt.Errorf("grid %s: %w", code, wangge.ErrNotFound)
	}
	return out, nil
}
