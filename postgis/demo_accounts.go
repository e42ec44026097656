package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// DemoPlaces are the jurisdictions the demo accounts get: the first
// district with grids, a street, community and grid inside it (nested, so
// the planner's street lies under the approver's district), and a unit of
// a patrol or engine in that district for the responder.
type DemoPlaces struct {
	District, Street, Community, Grid string
	Unit                              int64
}

// DemoPlaces picks them from the seeded city; an empty city is ErrNotFound.
func (db *DB) DemoPlaces(ctx context.Context) (DemoPlaces, error) {
	var p DemoPlaces
	err := db.Pool.QueryRow(ctx, `SELECT g.code FROM grids g
		WHERE EXISTS (SELECT 1 FROM units u WHERE u.grid_code = g.code AND u.kind = 'grid_worker')
		ORDER BY g.code LIMIT 1`).Scan(&p.Grid)
	if err != nil {
		return p, fmt.Errorf("postgis: demo places: %w", translateNoRows(err))
	}
	p.District, p.Street, p.Community = p.Grid[:6], p.Grid[:9], p.Grid[:12]
	err = db.Pool.QueryRow(ctx, `SELECT u.id FROM units u LEFT JOIN posts p ON p.id = u.post_id
		WHERE u.kind <> 'grid_worker' AND coalesce(p.grid_code, u.grid_code, '') LIKE $1 || '%'
		ORDER BY u.id LIMIT 1`, p.District).Scan(&p.Unit)
	if err != nil {
		err = db.Pool.QueryRow(ctx, `SELECT id FROM units ORDER BY id LIMIT 1`).Scan(&p.Unit)
	}
	if err != nil {
		return p, fmt.Errorf("postgis: demo unit: %w", translateNoRows(err))
	}
	return p, nil
}

// HasUsers tells whether any account exists.
func (db *DB) HasUsers(ctx context.Context) (bool, error) {
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgis: users: %w", err)
	}
	return ok, nil
}

// translateNoRows makes "no row" the not-found sentinel.
func translateNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("nothing found: %w", wangge.ErrNotFound)
	}
	return err
}
