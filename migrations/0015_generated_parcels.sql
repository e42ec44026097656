-- Parcels made by the importer for grids imported without any (issue 15):
-- grid edits move parcels, so every grid needs at least one. A generated
-- parcel is the grid's own outline (one per polygon part); a later parcels
-- import carves the parcels it brings out of the generated ones.
ALTER TABLE parcels ADD COLUMN generated boolean NOT NULL DEFAULT false;
