package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// UnitChange is a units row as announced on UnitChannel after a change.
type UnitChange struct {
	ID         int64      `json:"id"`
	Kind       geo.Kind   `json:"kind"`
	Status     geo.Status `json:"status"`
	Lon        float64    `json:"lon"`
	Lat        float64    `json:"lat"`
	Home       string     `json:"home"` // grid code of its home jurisdiction, '' when none
	PositionAt time.Time  `json:"position_at"`
	StatusAt   *time.Time `json:"status_at"`
}

// Responder is the change as the index stores it.
func (c UnitChange) Responder() geo.Responder {
	r := geo.Responder{Key: geo.Key{Class: geo.ClassUnit, ID: c.ID}, Kind: c.Kind, Status: c.Status,
		Lon: c.Lon, Lat: c.Lat, PositionAt: c.PositionAt}
	r.Street, r.District = homeCodes(c.Home)
	if c.StatusAt != nil {
		r.StatusAt = *c.StatusAt
	}
	return r
}

// ParseUnitChanges decodes a UnitChannel payload.
func ParseUnitChanges(payload string) ([]UnitChange, error) {
	var cs []UnitChange
	if err := json.Unmarshal([]byte(payload), &cs); err != nil {
		return nil, fmt.Errorf("postgis: unit changes: %w", err)
	}
	return cs, nil
}

// StatusChange sets a unit's status as of At. A non-nil EventID dispatches
// the unit to that event (status en_route, units.event_id set); available
// and off_duty release it from any event.
type StatusChange struct {
	ID      int64
	Status  geo.Status
	At      time.Time
	EventID *int64
}

// SetUnitStatus writes a status change now (not batched: a dispatch must
// be durable before it is acknowledged) and announces it on UnitChannel.
// The unit's home (its grid, else its post's grid) must lie inside scope,
// and so must the event it is dispatched to: otherwise, as for an unknown
// unit or event, wangge.ErrNotFound. It fails with wangge.ErrConflict (and
// ErrStale) when the stored status is newer.
func (db *DB) SetUnitStatus(ctx context.Context, scope wangge.Scope, s StatusChange) (ch UnitChange, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgis: unit %d: %w", s.ID, err)
		}
	}()
	var j []byte
	err = db.Pool.QueryRow(ctx, `
WITH upd AS (
	UPDATE units u SET status = $2, status_at = $3, updated_at = now(),
		event_id = CASE WHEN $4::bigint IS NOT NULL THEN $4
		                WHEN $2 IN ('available', 'off_duty') THEN NULL ELSE u.event_id END
	WHERE u.id = $1 AND (u.status_at IS NULL OR u.status_at <= $3)
		AND `+unitHome+` LIKE $5
		AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM events e WHERE e.id = $4 AND e.grid_code LIKE $5))
	RETURNING `+unitChangeJSON+` AS j
)
SELECT j::text, pg_notify('`+UnitChannel+`', json_build_array(j)::text) FROM upd`,
		s.ID, string(s.Status), s.At, s.EventID, scope.Like()).Scan(&j, nil)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23503": // units_event_fk
		return ch, fmt.Errorf("event %d: %w", *s.EventID, wangge.ErrNotFound)
	case errors.Is(err, pgx.ErrNoRows):
		return ch, db.whyNoUnitRow(ctx, scope, s)
	case err != nil:
		return ch, err
	}
	if err := json.Unmarshal(j, &ch); err != nil {
		return ch, err
	}
	return ch, nil
}

// unitHome is the grid code of a unit's home jurisdiction (alias u): the
// grid it owns, else its post's grid, ” when it has neither.
const unitHome = `coalesce(u.grid_code, (SELECT grid_code FROM posts WHERE id = u.post_id), '')`

// whyNoUnitRow tells an unknown (or out-of-scope) unit or event from a
// stale status.
func (db *DB) whyNoUnitRow(ctx context.Context, scope wangge.Scope, s StatusChange) error {
	var (
		stored *time.Time
		event  bool
	)
	err := db.Pool.QueryRow(ctx, `SELECT u.status_at,
			$2::bigint IS NULL OR EXISTS (SELECT 1 FROM events e WHERE e.id = $2 AND e.grid_code LIKE $3)
		FROM units u WHERE u.id = $1 AND `+unitHome+` LIKE $3`, s.ID, s.EventID, scope.Like()).Scan(&stored, &event)
	if errors.Is(err, pgx.ErrNoRows) {
		return wangge.ErrNotFound
	}
	if err != nil {
		return err
	}
	if !event {
		return fmt.Errorf("event %d: %w", *s.EventID, wangge.ErrNotFound)
	}
	return fmt.Errorf("status at %s is older than the stored one at %s: %w: %w",
		s.At.UTC().Format(time.RFC3339Nano), stored.UTC().Format(time.RFC3339Nano), wangge.ErrConflict, wangge.ErrStale)
}
