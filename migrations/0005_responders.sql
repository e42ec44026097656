-- Responders (issue "nearest responders with H3"):
-- * units.status_at: the status is a register of its own, separate from the
--   position (position_at), so a late GPS fix never undoes a newer dispatch
--   and a late status never moves a unit. NULL = never reported.
-- * geography expression indexes: the exact SQL baseline orders by
--   geom::geography <-> point (great-circle distance on the sphere); the
--   geometry index would order by planar degrees, which is wrong on about
--   half of the points (DESIGN.md §4).
ALTER TABLE units ADD COLUMN status_at timestamptz;
CREATE INDEX posts_geog_idx ON posts USING gist ((geom::geography));
CREATE INDEX units_geog_idx ON units USING gist ((geom::geography));
