package postgis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge"
)

// EventWriter groups concurrent event intakes into one statement and one
// commit (group commit): under load, requests that arrive while a batch is
// being written go together in the next one, so the per-commit cost (WAL
// flush, the NOTIFY queue lock every notifying commit takes) is paid once
// per batch instead of once per event. Each caller still gets its answer
// only after its event is committed. At low load a batch is one event and
// nothing waits.
type EventWriter struct {
	db       *DB
	log      *slog.Logger
	in       chan *createReq
	maxBatch int
	flushers int
	wg       sync.WaitGroup

	batches, events atomic.Int64

	// Observe, when set before Run, hears each batch's size and how long
	// its statement and commit took (metrics).
	Observe func(size int, took time.Duration)
}

// Stats tells how many batches were written and the events in them.
func (w *EventWriter) Stats() (batches, events int64) { return w.batches.Load(), w.events.Load() }

type createReq struct {
	n       NewEvent
	e       wangge.Event
	created bool
	err     error
	done    chan struct{}
}

// NewEventWriter makes a writer with flushers concurrent batches of at
// most maxBatch events; Run starts it.
func (db *DB) NewEventWriter(log *slog.Logger, flushers, maxBatch int) *EventWriter {
	return &EventWriter{db: db, log: log, in: make(chan *createReq, maxBatch*flushers), maxBatch: maxBatch, flushers: flushers}
}

// Run writes batches until ctx ends.
func (w *EventWriter) Run(ctx context.Context) {
	for range w.flushers {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.loop(ctx) }()
	}
	w.wg.Wait()
}

func (w *EventWriter) loop(ctx context.Context) {
	batch := make([]*createReq, 0, w.maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			w.refuse()
			return
		case r := <-w.in:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		start := time.Now()
		w.write(ctx, batch)
		if w.Observe != nil {
			w.Observe(len(batch), time.Since(start))
		}
	}
}

// refuse answers whatever is still queued once the writer stops.
func (w *EventWriter) refuse() {
	for {
		select {
		case r := <-w.in:
			r.err = fmt.Errorf("postgis: event writer stopped: %w", wangge.ErrUnavailable)
			close(r.done)
		default:
			return
		}
	}
}

// CreateEvent queues n and waits for its batch to commit; same contract
// as DB.CreateEvent.
func (w *EventWriter) CreateEvent(ctx context.Context, scope wangge.Scope, n NewEvent) (wangge.Event, bool, error) {
	n.scope = scope
	r := &createReq{n: n, done: make(chan struct{})}
	select {
	case w.in <- r:
	case <-ctx.Done():
		return wangge.Event{}, false, ctx.Err()
	}
	select {
	case <-r.done:
		return r.e, r.created, r.err
	case <-ctx.Done():
		// The event may still be committed: a retry with the same
		// Idempotency-Key finds it.
		return wangge.Event{}, false, ctx.Err()
	}
}

// write records a batch in one statement. Rows that come back are done;
// the others (unknown category, Idempotency-Key already used) and, when
// the statement fails, every row, go through the one-event path, which
// tells each caller its own reason.
func (w *EventWriter) write(ctx context.Context, batch []*createReq) {
	w.batches.Add(1)
	w.events.Add(int64(len(batch)))
	if len(batch) == 1 {
		r := batch[0]
		r.e, r.created, r.err = createEvent(ctx, w.db.Pool, r.n)
		close(r.done)
		return
	}
	ns := make([]NewEvent, len(batch))
	for i, r := range batch {
		ns[i] = r.n
	}
	got, err := createEvents(ctx, w.db.Pool, ns)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("event batch failed; writing one by one", "events", len(batch), "err", err)
	}
	for i, r := range batch {
		if e, ok := got[i]; ok && err == nil {
			r.e, r.created = e, true
		} else {
			r.e, r.created, r.err = createEvent(ctx, w.db.Pool, r.n)
		}
		close(r.done)
	}
}

// createEventsSQL records accepted events in one statement: tier, priority
// and deadline from the category, the grid's worker assigned, the report
// and the acceptance logged, the stream messages published (one NOTIFY).
// Ids are drawn first so that each returned row maps back to its request.
const createEventsSQL = `
WITH input AS MATERIALIZED (
	SELECT t.*, nextval(pg_get_serial_sequence('events', 'id')) AS id
	FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[],
		$9::text[], $10::bigint[], $11::smallint[], $12::text[], $13::text[], $14::timestamptz[], $15::text[], $16::text[])
		AS t(ord, category, source, grid, lon, lat, description, address, reporter, object_id, priority, ikey, ihash, at, actor, scope)),
ins AS (
	INSERT INTO events (id, category_code, status, tier, source, priority, grid_code, description, address, reporter,
		object_id, unit_id, idempotency_key, idempotency_hash, reported_at, deadline_at, updated_at, geom)
	SELECT i.id, i.category, 'accepted', c.default_tier, i.source, coalesce(i.priority, c.priority), i.grid,
		i.description, i.address, i.reporter, i.object_id,
		(SELECT min(u.id) FROM units u WHERE u.kind = 'grid_worker' AND u.grid_code = i.grid),
		i.ikey, i.ihash, i.at, i.at + make_interval(mins => c.sla_minutes), i.at, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)
	FROM input i JOIN event_categories c ON c.code = i.category
	WHERE i.grid LIKE i.scope -- the reporter's jurisdiction
	ORDER BY i.ord
	ON CONFLICT (idempotency_key) DO NOTHING
	RETURNING *),
lg AS (
	INSERT INTO event_log (event_id, at, actor, action, from_status, to_status, from_tier, to_tier, note)
	SELECT ins.id, ins.reported_at, v.actor, v.action, v.fs, v.ts, v.ft, ins.tier, v.note
	FROM ins JOIN input i ON i.id = ins.id CROSS JOIN LATERAL (VALUES
		(i.actor, 'report', NULL::text, 'reported', NULL::text, ''),
		('system', 'accept', 'reported', 'accepted', ins.tier,
			format('located to grid %s; %s tier, deadline %s; assigned to %s', ins.grid_code, ins.tier,
				to_char(ins.deadline_at, 'YYYY-MM-DD HH24:MI'), coalesce('unit ' || ins.unit_id, 'nobody (no grid worker)')))
	) AS v(actor, action, fs, ts, ft, note)
	ORDER BY ins.id, v.action DESC),
pub AS (
	INSERT INTO stream_outbox (kind, region, bbox, data)
	SELECT 'event.created', ins.grid_code, ARRAY[ST_X(ins.geom), ST_Y(ins.geom), ST_X(ins.geom), ST_Y(ins.geom)],
		event_stream_json(ROW(ins.*)::events)
	FROM ins ORDER BY ins.id
	RETURNING *),
-- One NOTIFY for the batch: the messages inline when they fit, else the
-- range to read back. Fewer notifications for the listeners to carry.
note AS (
	SELECT pg_notify('` + StreamChannel + `', CASE WHEN octet_length(m) <= 7900 THEN m
		ELSE json_build_object('from', lo, 'to', hi, 'tx', pg_current_xact_id()::text)::text END)
	FROM (SELECT jsonb_agg(stream_message(ROW(pub.*)::stream_outbox) ORDER BY pub.seq)::text AS m,
		min(pub.seq) AS lo, max(pub.seq) AS hi FROM pub) x
	WHERE lo IS NOT NULL)
SELECT i.ord, ` + eventCols + ` FROM ins e JOIN input i ON i.id = e.id LEFT JOIN note ON true`

// createEvents records the events of batch in one statement; the map
// holds the created ones by their index in batch (a missing index: an
// unknown category, or an Idempotency-Key already used).
func createEvents(ctx context.Context, q querier, batch []NewEvent) (map[int]wangge.Event, error) {
	n := len(batch)
	var (
		ord                                                 = make([]int32, n)
		cat, src, grid, desc, addr, rep, ikey, ihash, actor = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n), make([]*string, n), make([]string, n)
		lon, lat                                            = make([]float64, n), make([]float64, n)
		obj                                                 = make([]*int64, n)
		scope                                               = make([]string, n)
		prio                                                = make([]*int16, n)
		at                                                  = make([]time.Time, n)
	)
	for i, x := range batch {
		ord[i], cat[i], src[i], grid[i], lon[i], lat[i] = int32(i), x.Category, string(x.Source), x.GridCode, x.Lon, x.Lat
		desc[i], addr[i], rep[i], obj[i], prio[i], at[i] = x.Description, x.Address, x.Reporter, x.ObjectID, x.Priority, x.At
		if x.IdemKey != "" {
			k, h := x.IdemKey, x.IdemHash
			ikey[i], ihash[i] = &k, &h
		}
		scope[i] = x.scope.Like()
		actor[i] = x.Actor
		if actor[i] == "" {
			actor[i] = x.Reporter
		}
		if actor[i] == "" {
			actor[i] = string(x.Source)
		}
	}
	rows, err := q.Query(ctx, createEventsSQL, ord, cat, src, grid, lon, lat, desc, addr, rep, obj, prio, ikey, ihash, at, actor, scope)
	if err != nil {
		return nil, fmt.Errorf("postgis: create events: %w", translate(err))
	}
	defer rows.Close()
	out := make(map[int]wangge.Event, n)
	for rows.Next() {
		var (
			o int32
			e wangge.Event
		)
		if err := rows.Scan(append([]any{&o}, eventDest(&e)...)...); err != nil {
			return nil, fmt.Errorf("postgis: create events: %w", translate(err))
		}
		out[int(o)] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: create events: %w", translate(err))
	}
	return out, nil
}

// BatchedEvents is the event store with intake through an EventWriter.
type BatchedEvents struct {
	*DB
	Writer *EventWriter
}

// CreateEvent goes through the writer.
func (b BatchedEvents) CreateEvent(ctx context.Context, scope wangge.Scope, n NewEvent) (wangge.Event, bool, error) {
	e, created, err := b.Writer.CreateEvent(ctx, scope, n)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return e, created, fmt.Errorf("postgis: create event: %w", err)
	}
	return e, created, err
}

// IntakeEvents keeps what must never wait behind reads on a pool of its
// own (DESIGN.md §7): new incidents (through the writer, which writes on
// Intake), alarms and workflow transitions go to Intake; reads of events
// use Reads, which busy readers may fill.
type IntakeEvents struct {
	Reads  *DB
	Intake *DB
	Writer *EventWriter // made on Intake
}

// CreateEvent goes through the writer.
func (i IntakeEvents) CreateEvent(ctx context.Context, scope wangge.Scope, n NewEvent) (wangge.Event, bool, error) {
	return BatchedEvents{DB: i.Intake, Writer: i.Writer}.CreateEvent(ctx, scope, n)
}

// Event reads one event on the read pool.
func (i IntakeEvents) Event(ctx context.Context, scope wangge.Scope, id int64) (wangge.Event, error) {
	return i.Reads.Event(ctx, scope, id)
}

// Events lists events on the read pool.
func (i IntakeEvents) Events(ctx context.Context, scope wangge.Scope, f EventQuery) ([]wangge.Event, error) {
	return i.Reads.Events(ctx, scope, f)
}

// Transition moves an event on the intake pool.
func (i IntakeEvents) Transition(ctx context.Context, scope wangge.Scope, r TransitionReq) (wangge.Event, error) {
	return i.Intake.Transition(ctx, scope, r)
}

// RaiseAlarm records a sensor's alarm on the intake pool.
func (i IntakeEvents) RaiseAlarm(ctx context.Context, scope wangge.Scope, a Alarm) (wangge.Event, bool, error) {
	return i.Intake.RaiseAlarm(ctx, scope, a)
}
