package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wangge/wangge"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// eventCols is what scanEvent reads, in its order.
const eventCols = `e.id, e.category_code, e.status, e.tier, e.source, e.priority, e.grid_code, ST_X(e.geom), ST_Y(e.geom),
	e.description, e.address, e.reporter, e.object_id, e.unit_id, e.duplicate_of, e.reported_at, e.deadline_at,
	e.dispatched_at, e.resolved_at, e.closed_at, e.satisfaction, e.version, e.updated_at`

func eventDest(e *wangge.Event) []any {
	return []any{&e.ID, &e.Category, &e.Status, &e.Tier, &e.Source, &e.Priority, &e.GridCode, &e.Lon, &e.Lat,
		&e.Description, &e.Address, &e.Reporter, &e.ObjectID, &e.UnitID, &e.DuplicateOf, &e.ReportedAt, &e.DeadlineAt,
		&e.DispatchedAt, &e.ResolvedAt, &e.ClosedAt, &e.Satisfaction, &e.Version, &e.UpdatedAt}
}

// GridAt is the active grid covering the WGS-84 point: the PostGIS
// baseline behind the api's Locator interface (an in-memory index can
// replace it). A point on a shared edge goes to the lowest code, always
// the same one. Outside every grid → wangge.ErrInvalid.
func (db *DB) GridAt(ctx context.Context, lon, lat float64) (string, error) {
	var code string
	err := db.Pool.QueryRow(ctx, `SELECT code FROM grids WHERE status = 'active'
		AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1`, lon, lat).Scan(&code)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", wangge.Invalid("location", "(%.6f, %.6f) is outside the city's grids", lon, lat)
	}
	if err != nil {
		return "", fmt.Errorf("postgis: locate (%f, %f): %w", lon, lat, err)
	}
	return code, nil
}

// NewEvent is an incident to record: checked by the caller, located
// (GridCode) and in WGS-84.
type NewEvent struct {
	Category    string
	Source      wangge.Source
	GridCode    string
	Lon, Lat    float64
	Description string
	Address     string
	Reporter    string
	ObjectID    *int64
	Priority    *int16 // overrides the category's (sensor alarms: 1)
	IdemKey     string // "" when none
	IdemHash    string // digest of the request the key was first used for
	At          time.Time
	// Actor is who the log names as reporting it: the caller's credential
	// (api), never the request body. "" (seeds, the demo feed): the
	// reporter, else the source.
	Actor string

	scope wangge.Scope // where the caller may report: set by CreateEvent
}

// CreateEvent records n, committed when it returns. With an
// Idempotency-Key already used it returns the first event and false; the
// same key for a different request is wangge.ErrConflict. A grid outside
// scope is refused as not found (the reporter may not report there); the
// statement filters on it too.
func (db *DB) CreateEvent(ctx context.Context, scope wangge.Scope, n NewEvent) (wangge.Event, bool, error) {
	n.scope = scope
	return createEvent(ctx, db.Pool, n)
}

// outsideScope is the refusal of a report located outside the reporter's
// jurisdiction: a 404 (wangge.ErrNotFound) with the reason.
func outsideScope(n NewEvent) error {
	return fmt.Errorf("location (%.6f, %.6f) lies in grid %s, outside your jurisdiction (%s): %w",
		n.Lon, n.Lat, n.GridCode, n.scope, wangge.ErrNotFound)
}

func createEvent(ctx context.Context, q querier, n NewEvent) (e wangge.Event, created bool, err error) {
	if !n.scope.Covers(n.GridCode) {
		return e, false, outsideScope(n)
	}
	var key *string
	if n.IdemKey != "" {
		key = &n.IdemKey
	}
	got, err := createEvents(ctx, q, []NewEvent{n})
	if err != nil {
		return e, false, err
	}
	if e, ok := got[0]; ok {
		return e, true, nil
	}
	if key != nil {
		// Another request holds the key: ON CONFLICT waited for it to
		// commit, so its event is visible now.
		var hash *string
		err := q.QueryRow(ctx, `SELECT `+eventCols+`, e.idempotency_hash FROM events e WHERE e.idempotency_key = $1 AND e.grid_code LIKE $2`,
			*key, n.scope.Like()).Scan(append(eventDest(&e), &hash)...)
		if err == nil {
			if hash != nil && *hash != n.IdemHash {
				return e, false, fmt.Errorf("Idempotency-Key %q was used for a different request (event %d): %w",
					*key, e.ID, wangge.ErrConflict)
			}
			return e, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return e, false, fmt.Errorf("postgis: event by idempotency key: %w", err)
		}
		// The key holds an event outside the caller's scope: a conflict,
		// without showing that event.
		var used bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE idempotency_key = $1)`, *key).Scan(&used); err != nil {
			return e, false, fmt.Errorf("postgis: event by idempotency key: %w", err)
		}
		if used {
			return e, false, fmt.Errorf("Idempotency-Key %q was used for a different request: %w", *key, wangge.ErrConflict)
		}
	}
	return e, false, wangge.Invalid("category", "unknown category %q", n.Category)
}

// translate turns constraint violations into sentinel errors.
func translate(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23503": // foreign key
		return wangge.Invalid("", "%s", fkReason(pe.ConstraintName))
	case "23514", "22001", "22P02": // check, too long, bad text representation
		// The client gets the column when the driver names it, never our
		// constraint names.
		if pe.ColumnName != "" {
			return wangge.Invalid(pe.ColumnName, "value out of range or malformed")
		}
		return wangge.Invalid("", "a value is out of range or malformed")
	case "40001", "40P01":
		return fmt.Errorf("concurrent change, retry: %w", wangge.ErrConflict)
	}
	return err
}

func fkReason(constraint string) string {
	switch {
	case strings.Contains(constraint, "duplicate_of"):
		return "duplicate_of names no event"
	case strings.Contains(constraint, "unit"):
		return "unit_id names no unit"
	case strings.Contains(constraint, "object"):
		return "object_id names no object"
	case strings.Contains(constraint, "category"):
		return "unknown category"
	}
	return "reference to a missing row"
}

// Event reads one event with its log; outside scope it is not found.
func (db *DB) Event(ctx context.Context, scope wangge.Scope, id int64) (wangge.Event, error) {
	var e wangge.Event
	err := db.Pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events e WHERE e.id = $1 AND e.grid_code LIKE $2`,
		id, scope.Like()).Scan(eventDest(&e)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("event %d: %w", id, wangge.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("postgis: event %d: %w", id, err)
	}
	if e.Log, err = eventLog(ctx, db.Pool, id); err != nil {
		return e, err
	}
	return e, nil
}

func eventLog(ctx context.Context, q querier, id int64) ([]wangge.LogEntry, error) {
	rows, err := q.Query(ctx, `SELECT at, actor, action, coalesce(from_status, ''), to_status, coalesce(from_tier, ''),
		to_tier, note FROM event_log WHERE event_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("postgis: event %d log: %w", id, err)
	}
	var (
		out []wangge.LogEntry
		l   wangge.LogEntry
	)
	_, err = pgx.ForEachRow(rows, []any{&l.At, &l.Actor, &l.Action, &l.From, &l.To, &l.FromTier, &l.ToTier, &l.Note},
		func() error { out = append(out, l); return nil })
	if err != nil {
		return nil, fmt.Errorf("postgis: event %d log: %w", id, err)
	}
	return out, nil
}

// EventQuery selects events for a list. Zero fields do not filter.
type EventQuery struct {
	BBox         *[4]float64 // min lon, min lat, max lon, max lat
	Statuses     []wangge.Status
	Region       string    // code prefix of the event's grid
	Since        time.Time // updated at or after
	IDs          []int64
	Categories   []string
	ReportedFrom time.Time // reported at or after
	ReportedTo   time.Time // reported before
	Before       int64     // keyset: only ids below it (the next page of a newest-first list); 0: from the newest
	Limit        int
}

// Events lists the events inside scope, the newest first.
func (db *DB) Events(ctx context.Context, scope wangge.Scope, f EventQuery) ([]wangge.Event, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where = append(where, "e.grid_code LIKE "+arg(scope.Like()))
	if f.BBox != nil {
		where = append(where, fmt.Sprintf("e.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
			arg(f.BBox[0]), arg(f.BBox[1]), arg(f.BBox[2]), arg(f.BBox[3])))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ss[i] = string(s)
		}
		where = append(where, "e.status = ANY("+arg(ss)+")")
	}
	if f.Region != "" {
		where = append(where, "e.grid_code LIKE "+arg(f.Region+"%"))
	}
	if !f.Since.IsZero() {
		where = append(where, "e.updated_at >= "+arg(f.Since))
	}
	if len(f.IDs) > 0 {
		where = append(where, "e.id = ANY("+arg(f.IDs)+")")
	}
	if len(f.Categories) > 0 {
		where = append(where, "e.category_code = ANY("+arg(f.Categories)+")")
	}
	if !f.ReportedFrom.IsZero() {
		where = append(where, "e.reported_at >= "+arg(f.ReportedFrom))
	}
	if !f.ReportedTo.IsZero() {
		where = append(where, "e.reported_at < "+arg(f.ReportedTo))
	}
	if f.Before > 0 {
		where = append(where, "e.id < "+arg(f.Before))
	}
	q := `SELECT ` + eventCols + ` FROM events e WHERE ` + strings.Join(where, " AND ")
	q += " ORDER BY e.id DESC LIMIT " + arg(f.Limit)
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgis: events: %w", err)
	}
	out := []wangge.Event{}
	var e wangge.Event
	_, err = pgx.ForEachRow(rows, eventDest(&e), func() error { out = append(out, e); return nil })
	if err != nil {
		return nil, fmt.Errorf("postgis: events: %w", err)
	}
	return out, nil
}

// Category is an event category: its default tier, priority and SLA.
type Category struct {
	Code, NameZh, NameEn string
	Tier                 wangge.Tier
	Priority             int16
	SLAMinutes           int32
}

// EventCategories lists the categories, ordered by code.
func (db *DB) EventCategories(ctx context.Context) ([]Category, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code, name_zh, name_en, default_tier, priority, sla_minutes
		FROM event_categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("postgis: event categories: %w", err)
	}
	var (
		out []Category
		c   Category
	)
	_, err = pgx.ForEachRow(rows, []any{&c.Code, &c.NameZh, &c.NameEn, &c.Tier, &c.Priority, &c.SLAMinutes},
		func() error { out = append(out, c); return nil })
	if err != nil {
		return nil, fmt.Errorf("postgis: event categories: %w", err)
	}
	return out, nil
}
