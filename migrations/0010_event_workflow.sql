-- Incidents (issue 6): intake, workflow and the live stream.
--
-- * events.idempotency_hash: what the first request with an Idempotency-Key
--   asked for, so a key reused for a different request is refused rather
--   than silently answered with the wrong event.
-- * stream_outbox: every message of the live stream (GET /api/v1/stream)
--   with a database-wide sequence number, written in the transaction of the
--   change it announces. On commit, NOTIFY wangge_stream tells every
--   `wangge serve` replica, which all then agree on the numbering; a
--   replica that lost its LISTEN connection catches up from the table.
--   Payloads over NOTIFY's 8,000 bytes, and the batches of the unit writer,
--   are announced by range ({"from","to","tx"}) and read back from here.
ALTER TABLE events ADD COLUMN idempotency_hash text;
CREATE INDEX events_object_open_idx ON events (object_id, reported_at)
    WHERE object_id IS NOT NULL AND status IN ('reported', 'accepted', 'dispatched', 'on_site');
CREATE INDEX events_deadline_open_idx ON events (deadline_at)
    WHERE status IN ('reported', 'accepted', 'dispatched', 'on_site');
CREATE INDEX events_updated_idx ON events (updated_at);

CREATE TABLE stream_outbox (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    tx     xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind   text NOT NULL CHECK (kind IN ('event.created', 'event.updated', 'unit.changed', 'grid.changed')),
    region text NOT NULL DEFAULT '', -- grid code (or '' when none): filtered by prefix
    bbox   float8[4],                -- min lon, min lat, max lon, max lat; NULL: everywhere
    data   jsonb NOT NULL
);
CREATE INDEX stream_outbox_at_idx ON stream_outbox (at);

-- stream_message is the JSON a client receives (and the NOTIFY payload).
CREATE FUNCTION stream_message(o stream_outbox) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('seq', o.seq, 'kind', o.kind, 'at', o.at, 'region', o.region,
                              'bbox', to_jsonb(o.bbox), 'data', o.data)
$$;

-- stream_publish records one message and announces it on commit.
CREATE FUNCTION stream_publish(p_kind text, p_region text, p_box geometry, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    o stream_outbox;
    msg text;
BEGIN
    INSERT INTO stream_outbox (kind, region, bbox, data)
    VALUES (p_kind, coalesce(p_region, ''),
            CASE WHEN p_box IS NULL THEN NULL
                 ELSE ARRAY[ST_XMin(p_box), ST_YMin(p_box), ST_XMax(p_box), ST_YMax(p_box)] END,
            p_data)
    RETURNING * INTO o;
    msg := stream_message(o)::text;
    IF octet_length(msg) > 7900 THEN
        msg := json_build_object('from', o.seq, 'to', o.seq, 'tx', o.tx::text)::text;
    END IF;
    PERFORM pg_notify('wangge_stream', msg);
    RETURN o.seq;
END $$;

-- event_stream_json is an event as the walls see it: no reporter (PII),
-- the description cut short (the full event is one GET away).
CREATE FUNCTION event_stream_json(e events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', e.id, 'category', e.category_code, 'status', e.status, 'tier', e.tier,
        'priority', e.priority, 'source', e.source, 'grid_code', e.grid_code,
        'lon', ST_X(e.geom), 'lat', ST_Y(e.geom), 'description', left(e.description, 140),
        'unit_id', e.unit_id, 'reported_at', e.reported_at, 'deadline_at', e.deadline_at,
        'version', e.version, 'updated_at', e.updated_at)
$$;

-- Unit position/status changes and grid boundary changes reach the stream
-- from triggers, whoever writes them (unit writer, dispatch, grid editor).
-- Statement level: the unit writer's batch of 2,000 positions is one
-- INSERT … SELECT and one NOTIFY, not 2,000.
CREATE FUNCTION stream_units_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    WITH ins AS (
        INSERT INTO stream_outbox (kind, region, bbox, data)
        SELECT 'unit.changed', coalesce(n.grid_code, p.grid_code, ''),
               ARRAY[ST_X(n.geom), ST_Y(n.geom), ST_X(n.geom), ST_Y(n.geom)],
               jsonb_build_object('id', n.id, 'kind', n.kind, 'status', n.status, 'event_id', n.event_id,
                                  'lon', ST_X(n.geom), 'lat', ST_Y(n.geom), 'position_at', n.position_at,
                                  'status_at', n.status_at)
        FROM new_units n JOIN old_units o ON o.id = n.id
        LEFT JOIN posts p ON p.id = n.post_id
        WHERE n.geom IS DISTINCT FROM o.geom OR n.status IS DISTINCT FROM o.status
           OR n.event_id IS DISTINCT FROM o.event_id
        ORDER BY n.id
        RETURNING seq)
    SELECT min(seq), max(seq) INTO lo, hi FROM ins;
    IF lo IS NOT NULL THEN
        PERFORM pg_notify('wangge_stream',
            json_build_object('from', lo, 'to', hi, 'tx', pg_current_xact_id()::text)::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER units_stream AFTER UPDATE ON units
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION stream_units_changed();

-- Grids: row level, and only for the columns a wall draws. A statement-level
-- trigger would keep the old and new rows of every grid touched, outlines
-- included, for updates that change none of them (refresh_grid_counts over
-- the whole city); grid edits are rare, one message each is fine.
CREATE FUNCTION stream_grid_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM stream_publish('grid.changed', NEW.code, NEW.geom,
        jsonb_build_object('code', NEW.code, 'status', NEW.status, 'version', NEW.version,
                           'updated_at', NEW.updated_at, 'updated_by', NEW.updated_by));
    RETURN NULL;
END $$;
CREATE TRIGGER grids_stream AFTER UPDATE OF geom, status, version ON grids
    FOR EACH ROW
    WHEN (OLD.geom IS DISTINCT FROM NEW.geom OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION stream_grid_changed();
