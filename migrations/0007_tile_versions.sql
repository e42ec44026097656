-- Tile data versions, one per layer. A write calls tile_changed(layer, box)
-- in its own transaction: the layer's version grows and, on commit, every
-- `wangge serve` replica hears it on channel wangge_tiles, evicts the
-- cached tiles the box covers and reports the new version in TileJSON.
CREATE TABLE tile_versions (
    layer   text PRIMARY KEY CHECK (layer IN ('districts', 'streets', 'communities', 'grids', 'parcels',
                                              'buildings', 'objects', 'posts', 'events')),
    version bigint NOT NULL DEFAULT 1 CHECK (version >= 1)
);
INSERT INTO tile_versions (layer)
VALUES ('districts'), ('streets'), ('communities'), ('grids'), ('parcels'), ('buildings'), ('objects'), ('posts'), ('events');

CREATE FUNCTION tile_changed(p_layer text, p_box geometry) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE tile_versions SET version = version + 1 WHERE layer = p_layer RETURNING version INTO v;
    IF v IS NULL THEN
        RAISE EXCEPTION 'tile_changed: unknown layer %', p_layer USING ERRCODE = '22023';
    END IF;
    IF p_box IS NULL OR ST_IsEmpty(p_box) THEN
        RETURN v; -- nothing drawn changed, but the version still moves
    END IF;
    PERFORM pg_notify('wangge_tiles', json_build_object('layer', p_layer, 'version', v,
        'bbox', json_build_array(ST_XMin(p_box), ST_YMin(p_box), ST_XMax(p_box), ST_YMax(p_box)))::text);
    RETURN v;
END $$;
