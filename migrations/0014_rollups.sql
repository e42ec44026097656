-- Rollups (issue 17): the command centre's figures kept current in the
-- transactions that change them, so a drill-down, a choropleth or the
-- city's KPIs read a few rows whatever the number of residents and events.
--
-- * rollup_counts: what stands in a region — residents (by tag),
--   households, buildings, objects by category, posts and units by kind,
--   active grids — per code at every level ('' the city, then district,
--   street, community, grid).
-- * event_rollups: events by the day (Asia/Shanghai) they were reported,
--   for the city and each district (overall, by tier, by category) and each
--   street (overall): reported, resolved, closed, rejected or duplicate,
--   evaluated and their scores, report-to-close minutes, and a histogram of
--   report-to-resolution minutes for the median. Open and overdue figures
--   come from the open events (a small set), finer regions from the events
--   themselves (a street's year is a few thousand).
--
-- Statement-level triggers with transition tables keep both: one upsert
-- per statement, whatever it touched. Deltas that cancel (a grid edit
-- moving buildings inside a community, a unit's position) are dropped
-- before the upsert, so such writes lock no region's row; the rows are
-- upserted in key order, so two writers take them in the same order.
-- rollups_expected_* recompute from the base tables: the rebuild after a
-- bulk load and `wangge rollups verify` use them.

CREATE TABLE rollup_counts (
    code text   NOT NULL CHECK (code ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})?$'),
    key  text   NOT NULL,
    n    bigint NOT NULL,
    PRIMARY KEY (code, key)
);
-- Choropleths read one key for every region of a level.
CREATE INDEX rollup_counts_level_idx ON rollup_counts (key, length(code), code);

-- Handling-time histogram: bucket i (1-based) holds [1.4^(i-1) - 1, 1.4^i - 1)
-- minutes, the last one everything from about 24 days on: a median read
-- from it lies in the exact one's bucket or next to it (in 20,000 random
-- trials at most 31% off), and histograms add up across rows.
CREATE FUNCTION handling_bucket(minutes float8) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(32, floor(ln(greatest(minutes, 0) + 1) / ln(1.4))::int + 1)
$$;

CREATE FUNCTION hist_step(s int[], b int, n int) RETURNS int[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF b IS NOT NULL AND n <> 0 THEN
        s[b] := s[b] + n;
    END IF;
    RETURN s;
END $$;

CREATE FUNCTION hist_add(a int[], b int[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) ORDER BY i) FROM generate_series(1, 32) i
$$;

-- hist_agg(bucket, n) counts n into bucket.
CREATE AGGREGATE hist_agg(int, int) (
    SFUNC = hist_step, STYPE = int[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
);

CREATE TABLE event_rollups (
    code           text   NOT NULL CHECK (code ~ '^([0-9]{6}|[0-9]{9})?$'),
    day            date   NOT NULL,
    tier           text   NOT NULL CHECK (tier IN ('', 'grid', 'street', 'district')),
    category       text   NOT NULL,
    reported       bigint NOT NULL,
    resolved       bigint NOT NULL, -- resolved, closed or evaluated (or a resolution time)
    closed         bigint NOT NULL, -- closed or evaluated
    excluded       bigint NOT NULL, -- rejected or duplicate
    evaluated      bigint NOT NULL,
    score_sum      bigint NOT NULL,
    closed_n       bigint NOT NULL, -- with a close time
    closed_minutes float8 NOT NULL, -- their report-to-close minutes, summed
    hist           int[]  NOT NULL, -- report-to-resolution minutes (handling_bucket)
    PRIMARY KEY (code, day, tier, category),
    -- '' is "all": a row is overall, by tier or by category; streets only overall.
    CHECK (tier = '' OR category = ''),
    CHECK (length(code) < 9 OR (tier = '' AND category = ''))
);
-- A choropleth's window: every district's or street's overall rows since a day.
CREATE INDEX event_rollups_overall_idx ON event_rollups (day, code) WHERE tier = '' AND category = '';

-- What one event contributes (sign s: +1 as it is, -1 as it was). A
-- one-row table function, so that the planner inlines it into the scan
-- (a rebuild at scale 1 reads millions of events).
CREATE FUNCTION event_rollup_terms(e events, s int) RETURNS TABLE (day date, reported int, resolved int, closed int,
    excluded int, evaluated int, score int, closed_n int, closed_minutes float8, bucket int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date, s,
        s * (e.resolved_at IS NOT NULL OR e.status IN ('resolved', 'closed', 'evaluated'))::int,
        s * (e.status IN ('closed', 'evaluated'))::int,
        s * (e.status IN ('rejected', 'duplicate'))::int,
        s * (e.satisfaction IS NOT NULL)::int,
        s * coalesce(e.satisfaction, 0),
        s * (e.closed_at IS NOT NULL)::int,
        s * coalesce(extract(epoch FROM e.closed_at - e.reported_at) / 60, 0)::float8,
        CASE WHEN e.resolved_at IS NOT NULL THEN handling_bucket(extract(epoch FROM e.resolved_at - e.reported_at) / 60) END
$$;

-- Adds signed per-grid deltas (grid code, key, n) to every level above and
-- including the grid; deltas summing to zero are left out.
CREATE FUNCTION rollup_add(p_grid text[], p_key text[], p_n bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO rollup_counts AS r (code, key, n)
    SELECT left(d.grid, l.len), d.key, sum(d.n)
    FROM unnest(p_grid, p_key, p_n) AS d(grid, key, n)
    CROSS JOIN (VALUES (0), (6), (9), (12), (15)) AS l(len)
    WHERE d.grid IS NOT NULL
    GROUP BY 1, 2
    HAVING sum(d.n) <> 0
    ORDER BY 1, 2
    ON CONFLICT (code, key) DO UPDATE SET n = r.n + EXCLUDED.n
$$;

-- The transition rows of a statement, signed: a query over them, per
-- trigger operation (transition tables are named new_rows and old_rows;
-- the cast keeps the table's row type through UNION ALL).
CREATE FUNCTION rollup_source(op text, tbl text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format(CASE op
        WHEN 'INSERT' THEN 'SELECT r::%1$I AS r, 1 AS s FROM new_rows r'
        WHEN 'DELETE' THEN 'SELECT r::%1$I AS r, -1 AS s FROM old_rows r'
        ELSE 'SELECT r::%1$I AS r, 1 AS s FROM new_rows r UNION ALL SELECT r::%1$I, -1 FROM old_rows r' END, tbl)
$$;

-- rollup_counts_trigger(keys, grid): keys is an SQL expression over a row
-- (r) giving its text[] of keys, grid the expression of its grid code.
CREATE FUNCTION rollup_counts_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT rollup_add(array_agg(g), array_agg(k), array_agg(n)) FROM (
        SELECT g, k, sum(s)::bigint AS n FROM (
            SELECT (t.r).*, t.s FROM (%s) t) r
        CROSS JOIN LATERAL (SELECT %s AS g) gg, unnest(%s) AS k
        GROUP BY 1, 2) d', rollup_source(TG_OP, TG_TABLE_NAME), TG_ARGV[1], TG_ARGV[0]);
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_events_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
    INSERT INTO event_rollups AS x (code, day, tier, category, reported, resolved, closed, excluded, evaluated,
        score_sum, closed_n, closed_minutes, hist)
    SELECT k.code, f.day, k.tier, k.category, sum(f.reported), sum(f.resolved), sum(f.closed), sum(f.excluded),
        sum(f.evaluated), sum(f.score), sum(f.closed_n), sum(f.closed_minutes),
        hist_agg(CASE WHEN length(k.code) < 9 THEN f.bucket END, f.reported)
    FROM (%s) t
    CROSS JOIN LATERAL event_rollup_terms(t.r, t.s) f
    CROSS JOIN LATERAL (VALUES ('', '', ''), ('', (t.r).tier, ''), ('', '', (t.r).category_code),
        (left((t.r).grid_code, 6), '', ''), (left((t.r).grid_code, 6), (t.r).tier, ''),
        (left((t.r).grid_code, 6), '', (t.r).category_code), (left((t.r).grid_code, 9), '', '')) k(code, tier, category)
    GROUP BY 1, 2, 3, 4
    HAVING sum(f.reported) <> 0 OR sum(f.resolved) <> 0 OR sum(f.closed) <> 0 OR sum(f.excluded) <> 0
        OR sum(f.evaluated) <> 0 OR sum(f.score) <> 0 OR sum(f.closed_n) <> 0 OR sum(f.closed_minutes) <> 0
        OR hist_agg(CASE WHEN length(k.code) < 9 THEN f.bucket END, f.reported) <> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (code, day, tier, category) DO UPDATE SET
        reported = x.reported + EXCLUDED.reported, resolved = x.resolved + EXCLUDED.resolved,
        closed = x.closed + EXCLUDED.closed, excluded = x.excluded + EXCLUDED.excluded,
        evaluated = x.evaluated + EXCLUDED.evaluated, score_sum = x.score_sum + EXCLUDED.score_sum,
        closed_n = x.closed_n + EXCLUDED.closed_n, closed_minutes = x.closed_minutes + EXCLUDED.closed_minutes,
        hist = hist_add(x.hist, EXCLUDED.hist)$q$, rollup_source(TG_OP, TG_TABLE_NAME));
    RETURN NULL;
END $$;

-- Keys per layer (the rows' own grid code unless said).
CREATE FUNCTION rollup_keys_resident(tags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['residents'] || CASE WHEN cardinality(tags) > 0 THEN ARRAY['tagged'] ELSE '{}'::text[] END
        || ARRAY(SELECT 'tag:' || t FROM unnest(tags) t)
$$;

-- A unit counts in its own grid (a grid worker's) or its post's.
CREATE FUNCTION unit_grid(grid text, post bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(grid, (SELECT p.grid_code FROM posts p WHERE p.id = post))
$$;

DO $$
DECLARE
    spec record;
    op text;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('residents', 'rollup_keys_resident(tags)', 'grid_code'),
        ('households', 'ARRAY[''households'']', 'grid_code'),
        ('buildings', 'ARRAY[''buildings'']', 'grid_code'),
        ('objects', 'ARRAY[''object:'' || category]', 'grid_code'),
        ('posts', 'ARRAY[''post:'' || kind]', 'grid_code'),
        ('units', 'ARRAY[''unit:'' || kind]', 'unit_grid(grid_code, post_id)'),
        ('grids', 'CASE WHEN status = ''active'' THEN ARRAY[''grids''] ELSE ''{}''::text[] END', 'code')
    ) AS s(tbl, keys, grid) LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT
                EXECUTE FUNCTION rollup_counts_trigger(%L, %L)',
                spec.tbl || '_rollup_' || op, op, spec.tbl,
                CASE op WHEN 'insert' THEN 'NEW TABLE AS new_rows' WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                    ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                spec.keys, spec.grid);
        END LOOP;
    END LOOP;
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON events REFERENCING %s FOR EACH STATEMENT
            EXECUTE FUNCTION rollup_events_trigger()', 'events_rollup_' || op, op,
            CASE op WHEN 'insert' THEN 'NEW TABLE AS new_rows' WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END);
    END LOOP;
END $$;

-- A post moving grid (a grid edit) takes its units without a grid along.
CREATE FUNCTION rollup_post_units_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_add(array_agg(g), array_agg(k), array_agg(n)) FROM (
        SELECT p.g, 'unit:' || u.kind AS k, sum(p.s)::bigint AS n
        FROM (SELECT id, grid_code AS g, 1 AS s FROM new_rows UNION ALL SELECT id, grid_code, -1 FROM old_rows) p
        JOIN units u ON u.post_id = p.id AND u.grid_code IS NULL
        GROUP BY 1, 2) d;
    RETURN NULL;
END $$;
CREATE TRIGGER posts_rollup_units AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_post_units_trigger();

-- The rollups recomputed from the base tables: per grid first (one pass
-- over each table), then summed up the levels.
CREATE FUNCTION rollups_expected_counts() RETURNS TABLE (code text, key text, n bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH g AS (
        -- residents: rollup_keys_resident's keys in one native pass (a
        -- scale-1 city has 32 million; unnest per row took minutes), the
        -- tags being the closed vocabulary of residents' CHECK
        SELECT r.grid_code AS grid, k.key, k.n
        FROM (SELECT grid_code, count(*) AS n, count(*) FILTER (WHERE tags <> '{}') AS tagged,
                sum(cardinality(array_positions(tags, 'elderly_alone'))) FILTER (WHERE tags <> '{}') AS elderly_alone,
                sum(cardinality(array_positions(tags, 'disabled'))) FILTER (WHERE tags <> '{}') AS disabled,
                sum(cardinality(array_positions(tags, 'child'))) FILTER (WHERE tags <> '{}') AS child,
                sum(cardinality(array_positions(tags, 'key_person'))) FILTER (WHERE tags <> '{}') AS key_person,
                sum(cardinality(array_positions(tags, 'low_income'))) FILTER (WHERE tags <> '{}') AS low_income,
                sum(cardinality(array_positions(tags, 'veteran'))) FILTER (WHERE tags <> '{}') AS veteran,
                sum(cardinality(array_positions(tags, 'left_behind_child'))) FILTER (WHERE tags <> '{}') AS left_behind_child,
                sum(cardinality(array_positions(tags, 'pregnant'))) FILTER (WHERE tags <> '{}') AS pregnant
              FROM residents GROUP BY 1) r
        CROSS JOIN LATERAL (VALUES ('residents', r.n), ('tagged', r.tagged), ('tag:elderly_alone', r.elderly_alone),
            ('tag:disabled', r.disabled), ('tag:child', r.child), ('tag:key_person', r.key_person),
            ('tag:low_income', r.low_income), ('tag:veteran', r.veteran), ('tag:left_behind_child', r.left_behind_child),
            ('tag:pregnant', r.pregnant)) AS k(key, n)
        WHERE k.n > 0
        UNION ALL SELECT grid_code, 'households', count(*) FROM households GROUP BY 1
        UNION ALL SELECT grid_code, 'buildings', count(*) FROM buildings GROUP BY 1
        UNION ALL SELECT grid_code, 'object:' || category, count(*) FROM objects GROUP BY 1, 2
        UNION ALL SELECT grid_code, 'post:' || kind, count(*) FROM posts GROUP BY 1, 2
        UNION ALL SELECT coalesce(u.grid_code, p.grid_code), 'unit:' || u.kind, count(*)
            FROM units u LEFT JOIN posts p ON p.id = u.post_id GROUP BY 1, 2
        UNION ALL SELECT code, 'grids', count(*) FROM grids WHERE status = 'active' GROUP BY 1
    )
    -- then up the levels, each from the one below (a fifth of the rows
    -- each time, not every grid row five times)
    , l15 AS (SELECT grid AS code, key, sum(n)::bigint AS n FROM g WHERE grid IS NOT NULL GROUP BY 1, 2)
    , l12 AS (SELECT left(code, 12) AS code, key, sum(n)::bigint AS n FROM l15 GROUP BY 1, 2)
    , l9 AS (SELECT left(code, 9) AS code, key, sum(n)::bigint AS n FROM l12 GROUP BY 1, 2)
    , l6 AS (SELECT left(code, 6) AS code, key, sum(n)::bigint AS n FROM l9 GROUP BY 1, 2)
    SELECT * FROM l15 UNION ALL SELECT * FROM l12 UNION ALL SELECT * FROM l9 UNION ALL SELECT * FROM l6
    UNION ALL SELECT '', key, sum(n)::bigint FROM l6 GROUP BY 2
$$;

-- hist_dense(buckets, counts) is the histogram of sparse (bucket, count)
-- pairs, for the rebuild's native aggregation.
CREATE FUNCTION hist_dense(b int[], n bigint[]) RETURNS int[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    h int[] := '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}';
BEGIN
    FOR i IN 1 .. coalesce(cardinality(b), 0) LOOP
        IF b[i] IS NOT NULL THEN
            h[b[i]] := h[b[i]] + n[i];
        END IF;
    END LOOP;
    RETURN h;
END $$;

-- Native aggregation per handling bucket (no array per row), then one
-- histogram per output row. Streets keep no histogram (their medians come from their
-- own events), as the trigger writes them.
CREATE FUNCTION rollups_expected_events() RETURNS SETOF event_rollups
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH f AS ( -- per district, day, tier, category and bucket: one native pass
        SELECT left(e.grid_code, 6) AS district, t.day, e.tier, e.category_code AS category, t.bucket,
            sum(t.reported) AS reported, sum(t.resolved) AS resolved, sum(t.closed) AS closed,
            sum(t.excluded) AS excluded, sum(t.evaluated) AS evaluated, sum(t.score) AS score_sum,
            sum(t.closed_n) AS closed_n, sum(t.closed_minutes) AS closed_minutes
        FROM events e CROSS JOIN LATERAL event_rollup_terms(e, 1) t
        GROUP BY 1, 2, 3, 4, 5
    ), g AS ( -- the city's and districts' rows: overall, by tier, by category
        SELECT CASE WHEN GROUPING(district) = 0 THEN district ELSE '' END AS code, day,
            CASE WHEN GROUPING(tier) = 0 THEN tier ELSE '' END AS tier,
            CASE WHEN GROUPING(category) = 0 THEN category ELSE '' END AS category, bucket,
            sum(reported) AS reported, sum(resolved) AS resolved, sum(closed) AS closed, sum(excluded) AS excluded,
            sum(evaluated) AS evaluated, sum(score_sum) AS score_sum, sum(closed_n) AS closed_n,
            sum(closed_minutes) AS closed_minutes
        FROM f
        GROUP BY GROUPING SETS ((day, bucket), (day, tier, bucket), (day, category, bucket),
            (district, day, bucket), (district, day, tier, bucket), (district, day, category, bucket))
    )
    SELECT code, day, tier, category, sum(reported)::bigint, sum(resolved)::bigint, sum(closed)::bigint,
        sum(excluded)::bigint, sum(evaluated)::bigint, sum(score_sum)::bigint, sum(closed_n)::bigint,
        sum(closed_minutes)::float8, hist_dense(array_agg(bucket), array_agg(reported::bigint))
    FROM g GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT left(e.grid_code, 9), t.day, '', '', sum(t.reported)::bigint, sum(t.resolved)::bigint, sum(t.closed)::bigint,
        sum(t.excluded)::bigint, sum(t.evaluated)::bigint, sum(t.score)::bigint, sum(t.closed_n)::bigint,
        sum(t.closed_minutes)::float8, '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
    FROM events e CROSS JOIN LATERAL event_rollup_terms(e, 1) t
    GROUP BY 1, 2
$$;

-- rollups_rebuild replaces both tables with their recomputation (after a
-- bulk load with the triggers off). The lock keeps writers out meanwhile.
CREATE FUNCTION rollups_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE rollup_counts, event_rollups IN EXCLUSIVE MODE;
    -- Computed by CREATE TABLE AS, which may scan in parallel (INSERT …
    -- SELECT may not), then swapped in.
    CREATE TEMP TABLE rollup_counts_new ON COMMIT DROP AS SELECT * FROM rollups_expected_counts();
    CREATE TEMP TABLE event_rollups_new ON COMMIT DROP AS SELECT * FROM rollups_expected_events();
    TRUNCATE rollup_counts, event_rollups;
    INSERT INTO rollup_counts SELECT * FROM rollup_counts_new;
    INSERT INTO event_rollups SELECT * FROM event_rollups_new;
END $$;

-- As RebuildRollups does (postgis/rollups.go): hash in memory, no JIT.
SET LOCAL work_mem = '256MB';
SET LOCAL jit = off;
SELECT rollups_rebuild();

-- A street's (or finer) events over a window: through the grid code, then
-- the report time, without visiting the rest of the street's history.
CREATE INDEX events_grid_reported_idx ON events (grid_code, reported_at);
-- Open events by place, from the index alone: every wall's KPI and open
-- and overdue figures read them.
CREATE INDEX events_open_grid_idx ON events (grid_code) INCLUDE (reported_at, deadline_at, tier, category_code)
    WHERE status IN ('reported', 'accepted', 'dispatched', 'on_site');
-- A city-wide grid or community choropleth of the window: every event of
-- the last 30 days with what the figures need, from the index alone.
CREATE INDEX events_window_idx ON events (reported_at) INCLUDE (grid_code, status, closed_at);
