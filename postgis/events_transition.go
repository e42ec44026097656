package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// TransitionReq is one requested step of event ID's workflow.
type TransitionReq struct {
	ID        int64
	Step      wangge.Step
	IfVersion *int32 // the version the client saw; stale → wangge.ErrStale
	// Unit, when set, is the only unit whose events the caller may touch
	// (a responder): an event not dispatched to it is not found.
	Unit *int64
}

// Transition applies one workflow step under the event's row lock: the
// event row, its log line, the unit it moves (dispatch, arrive, release)
// and the stream message commit together or not at all. An event outside
// scope (or, with r.Unit, not dispatched to that unit) is not found.
func (db *DB) Transition(ctx context.Context, scope wangge.Scope, r TransitionReq) (e wangge.Event, err error) {
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		e, err = transition(ctx, tx, scope, r)
		return err
	})
	if err != nil {
		return e, err
	}
	return e, nil
}

func transition(ctx context.Context, tx pgx.Tx, scope wangge.Scope, r TransitionReq) (wangge.Event, error) {
	var (
		e   wangge.Event
		sla int32
	)
	err := tx.QueryRow(ctx, `SELECT `+eventCols+`, c.sla_minutes FROM events e
		JOIN event_categories c ON c.code = e.category_code
		WHERE e.id = $1 AND e.grid_code LIKE $2 AND ($3::bigint IS NULL OR e.unit_id = $3)
		FOR UPDATE OF e`, r.ID, scope.Like(), r.Unit).
		Scan(append(eventDest(&e), &sla)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("event %d: %w", r.ID, wangge.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("postgis: event %d: %w", r.ID, err)
	}
	if r.IfVersion != nil && *r.IfVersion != e.Version {
		return e, fmt.Errorf("event %d is at version %d, not %d (reload it and retry): %w",
			r.ID, e.Version, *r.IfVersion, wangge.ErrStale)
	}
	st := r.Step
	st.SLA = time.Duration(sla) * time.Minute
	if st.At.IsZero() {
		st.At = time.Now()
	}
	if st.DuplicateOf != nil && *st.DuplicateOf == e.ID {
		return e, wangge.Invalid("duplicate_of", "an event cannot duplicate itself")
	}
	next, entry, err := wangge.Apply(e.State(), st)
	if err != nil {
		return e, fmt.Errorf("event %d: %w", r.ID, err)
	}
	prevUnit := e.UnitID
	if err := moveUnit(ctx, tx, e.ID, st.Action, prevUnit, next.UnitID, st.At); err != nil {
		return e, err
	}
	err = tx.QueryRow(ctx, `
WITH upd AS (
	UPDATE events SET status = $2, tier = $3, unit_id = $4, deadline_at = $5, dispatched_at = $6, resolved_at = $7,
		closed_at = $8, satisfaction = $9, duplicate_of = $10, version = version + 1, updated_at = $11
	WHERE id = $1 RETURNING *),
lg AS (
	INSERT INTO event_log (event_id, at, actor, action, from_status, to_status, from_tier, to_tier, note)
	VALUES ($1, $11, $12, $13, $14, $2, $15, $3, $16)),
pub AS (SELECT stream_publish('event.updated', upd.grid_code, upd.geom, event_stream_json(ROW(upd.*)::events)) FROM upd)
SELECT `+eventCols+` FROM upd e, pub`,
		e.ID, string(next.Status), string(next.Tier), next.UnitID, next.Deadline, next.Dispatched, next.Resolved,
		next.Closed, next.Satisfaction, next.DuplicateOf, st.At, entry.Actor, string(entry.Action),
		string(entry.From), string(entry.FromTier), entry.Note).Scan(eventDest(&e)...)
	if err != nil {
		return e, fmt.Errorf("postgis: event %d %s: %w", r.ID, st.Action, translate(err))
	}
	if err := settleDevice(ctx, tx, e); err != nil {
		return e, err
	}
	return e, nil
}

// settleDevice puts a device back to normal when the last open event about
// it ends (resolved, closed, rejected, a duplicate): before, a sensor
// stayed in alarm after its alarm was dismissed.
func settleDevice(ctx context.Context, tx pgx.Tx, e wangge.Event) error {
	if e.ObjectID == nil || e.Status.Open() {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE objects o SET status = 'normal' WHERE o.id = $1 AND o.status = 'alarm'
		AND NOT EXISTS (SELECT 1 FROM events x WHERE x.object_id = o.id AND x.status IN `+openStatuses+`)`, *e.ObjectID)
	if err != nil {
		return fmt.Errorf("postgis: device of event %d: %w", e.ID, err)
	}
	return nil
}

// moveUnit keeps the unit's status in step with the event: dispatch sends
// it (en_route), arrive puts it on_scene, the end of the event releases it.
// The change is announced on UnitChannel like any other status change, so
// every replica's responder index follows.
func moveUnit(ctx context.Context, tx pgx.Tx, eventID int64, a wangge.Action, prev, next *int64, at time.Time) error {
	var (
		unit   *int64
		status string
	)
	switch a {
	case wangge.ActDispatch:
		unit, status = next, "en_route"
		if prev != nil && *prev != *next { // re-dispatch: free the unit sent before
			if err := setUnit(ctx, tx, *prev, eventID, "available", at, true); err != nil {
				return err
			}
		}
	case wangge.ActArrive:
		unit, status = next, "on_scene"
	case wangge.ActResolve, wangge.ActReject, wangge.ActMarkDuplicate:
		if prev != nil {
			return setUnit(ctx, tx, *prev, eventID, "available", at, true)
		}
		return nil
	default:
		return nil
	}
	if unit == nil {
		return nil
	}
	return setUnit(ctx, tx, *unit, eventID, status, at, false)
}

// setUnit sets a unit's status for eventID. onlyIfOurs leaves a unit alone
// that has moved on to another event (releasing must not undo that).
func setUnit(ctx context.Context, tx pgx.Tx, unit, eventID int64, status string, at time.Time, onlyIfOurs bool) error {
	tag, err := tx.Exec(ctx, `
WITH upd AS (
	UPDATE units u SET status = $2, status_at = greatest($3, u.status_at), updated_at = now(),
		event_id = CASE WHEN $2 = 'available' THEN NULL ELSE $4 END
	WHERE u.id = $1 AND (NOT $5 OR u.event_id = $4)
	RETURNING `+unitChangeJSON+` AS j)
SELECT pg_notify('`+UnitChannel+`', json_build_array(j)::text) FROM upd`, unit, status, at, eventID, onlyIfOurs)
	if err != nil {
		return fmt.Errorf("postgis: unit %d %s: %w", unit, status, err)
	}
	if tag.RowsAffected() == 0 && !onlyIfOurs {
		return wangge.Invalid("unit_id", "no unit %d", unit)
	}
	return nil
}
