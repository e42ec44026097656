package postgis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// escalationLock is the advisory lock key of the escalation pass: whichever
// replica holds it runs the pass, the others skip that tick.
const escalationLock = 0x77616e6765_01 // "wange" + 1

// EscalateOverdue escalates up to limit open events whose tier deadline
// passed by now, one tier each (the new tier gets a fresh deadline, so an
// event climbs one tier per SLA period). ran is false when another replica
// holds the pass this time.
func (db *DB) EscalateOverdue(ctx context.Context, now time.Time, limit int) (n int, ran bool, err error) {
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(escalationLock)).Scan(&ran); err != nil || !ran {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, deadline_at FROM events
			WHERE status IN ('reported', 'accepted', 'dispatched', 'on_site') AND tier <> 'district' AND deadline_at <= $1
			ORDER BY deadline_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		type due struct {
			id int64
			at time.Time
		}
		var ds []due
		var d due
		if _, err := pgx.ForEachRow(rows, []any{&d.id, &d.at}, func() error { ds = append(ds, d); return nil }); err != nil {
			return err
		}
		for _, d := range ds {
			st := wangge.Step{Action: wangge.ActEscalate, Actor: "system", At: now,
				Note: "deadline " + d.at.Format(time.RFC3339) + " passed"}
			if _, err := transition(ctx, tx, wangge.CityScope(), TransitionReq{ID: d.id, Step: st}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("postgis: escalate overdue: %w", err)
	}
	return n, ran, nil
}

// RunEscalation runs EscalateOverdue every interval until ctx ends, and
// prunes stream messages older than keep. Every replica runs it; the
// advisory lock lets one of them do the work at each tick.
func (db *DB) RunEscalation(ctx context.Context, log *slog.Logger, every, keep time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, ran, err := db.EscalateOverdue(ctx, time.Now(), 500)
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			log.Warn("escalation pass failed", "err", err)
		case n > 0:
			log.Info("events escalated past their deadline", "count", n)
		}
		if ran {
			if _, err := db.Pool.Exec(ctx, `DELETE FROM stream_outbox WHERE at < $1`, time.Now().Add(-keep)); err != nil && ctx.Err() == nil {
				log.Warn("stream outbox prune failed", "err", err)
			}
		}
	}
}

// Alarm is a sensor alarm from a device.
type Alarm struct {
	DeviceID string
	Category string // "" → from the object's kind
	Note     string
	Window   time.Duration // repeats within it join the open event
	At       time.Time
	Actor    string // the sensor hub's credential, as the log names it
}

// alarmCategory maps an object's kind to the event category its alarm raises.
var alarmCategory = map[string]string{
	"smoke_sensor": "fire_alarm", "gas_valve": "gas_leak", "water_meter": "pipe_leak", "hydrant": "pipe_leak",
	"manhole": "manhole_cover", "street_light": "street_light", "camera": "public_security",
	"electric_box": "other", "trash_bin": "sanitation", "bus_stop": "other",
}

// RaiseAlarm creates a priority-1 event at the device's object, or, when
// the object has an open event updated within the window, joins it (a
// note in its log) and returns it with created false. The object row is
// locked, so simultaneous repeats make one event. A device whose object
// lies outside scope (the sensor hub's region) is not found.
func (db *DB) RaiseAlarm(ctx context.Context, scope wangge.Scope, a Alarm) (e wangge.Event, created bool, err error) {
	actor := a.Actor
	if actor == "" {
		actor = "device " + a.DeviceID
	}
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			objID    int64
			kind     string
			grid     string
			lon, lat float64
		)
		err := tx.QueryRow(ctx, `UPDATE objects SET status = 'alarm' WHERE device_id = $1 AND grid_code LIKE $2
			RETURNING id, category, grid_code, ST_X(geom), ST_Y(geom)`, a.DeviceID, scope.Like()).Scan(&objID, &kind, &grid, &lon, &lat)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("device %q: %w", a.DeviceID, wangge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var open int64
		err = tx.QueryRow(ctx, `SELECT id FROM events WHERE object_id = $1
			AND status IN ('reported', 'accepted', 'dispatched', 'on_site') AND updated_at >= $2
			ORDER BY id DESC LIMIT 1`, objID, a.At.Add(-a.Window)).Scan(&open)
		switch {
		case err == nil:
			note := "repeated alarm from device " + a.DeviceID
			if a.Note != "" {
				note += ": " + a.Note
			}
			e, err = transition(ctx, tx, scope, TransitionReq{ID: open, Step: wangge.Step{Action: wangge.ActNote,
				Actor: actor, Note: note, At: a.At}})
			return err
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		cat := a.Category
		if cat == "" {
			cat = alarmCategory[kind]
		}
		desc := fmt.Sprintf("%s alarm from device %s", kind, a.DeviceID)
		if a.Note != "" {
			desc += ": " + a.Note
		}
		one := int16(1)
		e, created, err = createEvent(ctx, tx, NewEvent{Category: cat, Source: "sensor", GridCode: grid, Lon: lon, Lat: lat,
			Description: desc, Reporter: "device " + a.DeviceID, ObjectID: &objID, Priority: &one, At: a.At,
			Actor: actor, scope: scope})
		return err
	})
	if err != nil {
		return e, false, fmt.Errorf("postgis: alarm: %w", err)
	}
	return e, created, nil
}
