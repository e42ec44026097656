-- What fast tiles need ready-made (DESIGN.md §3):
-- * generalised copies of region and grid outlines for low zooms, kept in
--   step with geom by a trigger (geom_lo for z ≤ 9, geom_mid for z10–11);
-- * resident counts per grid, so a grid tile never aggregates buildings.
--   refresh_grid_counts(prefix) recomputes them for the grids under a code
--   prefix; writers of buildings or grids call it for what they touched.
ALTER TABLE grids
    ADD COLUMN households integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    ADD COLUMN residents  integer NOT NULL DEFAULT 0 CHECK (residents >= 0),
    ADD COLUMN tagged     integer NOT NULL DEFAULT 0 CHECK (tagged >= 0),
    ADD COLUMN geom_lo    geometry(MultiPolygon, 4326),
    ADD COLUMN geom_mid   geometry(MultiPolygon, 4326);
ALTER TABLE regions
    ADD COLUMN geom_lo  geometry(MultiPolygon, 4326),
    ADD COLUMN geom_mid geometry(MultiPolygon, 4326);

-- Tolerances in degrees: about one ground pixel at z9 (15 m) and z11 (3 m)
-- at Chongqing's latitude.
CREATE FUNCTION generalise_outline() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.geom IS NULL THEN
        NEW.geom_lo := NULL;
        NEW.geom_mid := NULL;
    ELSE
        NEW.geom_lo := ST_Multi(ST_CollectionExtract(ST_SimplifyPreserveTopology(NEW.geom, 0.00015), 3));
        NEW.geom_mid := ST_Multi(ST_CollectionExtract(ST_SimplifyPreserveTopology(NEW.geom, 0.00003), 3));
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER grids_generalise BEFORE INSERT OR UPDATE OF geom ON grids
    FOR EACH ROW EXECUTE FUNCTION generalise_outline();
CREATE TRIGGER regions_generalise BEFORE INSERT OR UPDATE OF geom ON regions
    FOR EACH ROW EXECUTE FUNCTION generalise_outline();

UPDATE grids SET geom = geom WHERE geom IS NOT NULL;
UPDATE regions SET geom = geom;

CREATE FUNCTION refresh_grid_counts(p_prefix text) RETURNS integer
LANGUAGE sql AS $$
    WITH c AS (
        SELECT g.code, coalesce(sum(b.households), 0)::int AS h, coalesce(sum(b.residents), 0)::int AS r,
               coalesce(sum(b.tagged), 0)::int AS t
        FROM grids g LEFT JOIN buildings b ON b.grid_code = g.code
        WHERE g.code LIKE p_prefix || '%'
        GROUP BY g.code
    ), u AS (
        UPDATE grids g SET households = c.h, residents = c.r, tagged = c.t
        FROM c WHERE g.code = c.code AND (g.households, g.residents, g.tagged) IS DISTINCT FROM (c.h, c.r, c.t)
        RETURNING 1
    )
    SELECT count(*)::int FROM u
$$;

SELECT refresh_grid_counts('');
