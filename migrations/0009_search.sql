-- Search (GET /api/v1/search): substring matches on names and addresses,
-- served by trigram GIN indexes. pg_trgm ships with PostgreSQL's contrib
-- modules, which the PostGIS packages depend on; under a UTF-8 database
-- it makes trigrams of CJK text too (回龙湾社区 → 回龙湾, 龙湾社, …), so a
-- query of three or more characters is an index search. Shorter queries
-- still work, by scanning.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX regions_name_trgm_idx ON regions USING gin (name gin_trgm_ops);
CREATE INDEX buildings_address_trgm_idx ON buildings USING gin (address gin_trgm_ops);
CREATE INDEX buildings_name_trgm_idx ON buildings USING gin (name gin_trgm_ops) WHERE name <> '';
CREATE INDEX posts_name_trgm_idx ON posts USING gin (name gin_trgm_ops);
