-- Parcels made by the importer for grids imported without any (issue 15):
-- grid edits move parcels, so every grid needs at least one. A generated
-- parcel is the grid's own outline (one per polygon part); a later parcels
-- import carves the parcels it brings out of the generated ones.
ALTER TABLE parcels ADD COLUMN generated boolean NOT NULL DEFAULT false;

-- Repair what was imported before: active grids without parcels get their
-- generated parcels, and buildings without a parcel take the parcel of
-- their grid under their inner point (the nearest one when none is).
INSERT INTO parcels (id, grid_code, community_code, land_use, geom, generated)
SELECT (SELECT coalesce(max(id), 0) FROM parcels) + row_number() OVER (ORDER BY g.code, d.path),
       g.code, g.community_code, 'mixed', ST_Multi(d.geom), true
FROM grids g, ST_Dump(g.geom) d
WHERE g.status = 'active' AND NOT EXISTS (SELECT 1 FROM parcels p WHERE p.grid_code = g.code);

UPDATE buildings b SET parcel_id = (SELECT p.id FROM parcels p WHERE p.grid_code = b.grid_code
                                    ORDER BY ST_Distance(p.geom, ST_PointOnSurface(b.geom)), p.id LIMIT 1)
WHERE b.parcel_id IS NULL;
