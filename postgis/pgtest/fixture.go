package pgtest

import (
	"context"
	"testing"

	"github.com/wangge/wangge/postgis"
)

// SmallCity is a hand-made fixture in Yuzhong: one district, street and
// community, two grids of two parcels each, three buildings, objects and
// posts. Tests that need the generated city use data.Seed instead; this one
// is small enough to reason about feature by feature.
//
//	grid 500103001001001: 106.560–106.570 E, 29.550–29.560 N
//	grid 500103001001002: 106.570–106.580 E, 29.550–29.560 N
const SmallCity = `
INSERT INTO regions (code, level, name, kind, parent_code, geom) VALUES
 ('500103', 'district', '渝中区', '', NULL, ST_Multi(ST_MakeEnvelope(106.50, 29.50, 106.60, 29.60, 4326))),
 ('500103001', 'street', '七星岗街道', 'urban', '500103', ST_Multi(ST_MakeEnvelope(106.55, 29.55, 106.58, 29.56, 4326))),
 ('500103001001', 'community', '测试社区居民委员会', 'urban', '500103001', ST_Multi(ST_MakeEnvelope(106.56, 29.55, 106.58, 29.56, 4326)));
INSERT INTO grids (id, code, community_code, name, geom) VALUES
 (1, '500103001001001', '500103001001', '第1网格', ST_Multi(ST_MakeEnvelope(106.56, 29.55, 106.57, 29.56, 4326))),
 (2, '500103001001002', '500103001001', '第2网格', ST_Multi(ST_MakeEnvelope(106.57, 29.55, 106.58, 29.56, 4326)));
INSERT INTO parcels (id, grid_code, community_code, land_use, geom) VALUES
 (11, '500103001001001', '500103001001', 'residential', ST_Multi(ST_MakeEnvelope(106.560, 29.55, 106.565, 29.56, 4326))),
 (12, '500103001001001', '500103001001', 'commercial',  ST_Multi(ST_MakeEnvelope(106.565, 29.55, 106.570, 29.56, 4326))),
 (21, '500103001001002', '500103001001', 'residential', ST_Multi(ST_MakeEnvelope(106.570, 29.55, 106.575, 29.56, 4326))),
 (22, '500103001001002', '500103001001', 'green',       ST_Multi(ST_MakeEnvelope(106.575, 29.55, 106.580, 29.56, 4326)));
INSERT INTO buildings (id, grid_code, parcel_id, address, use, floors, households, residents, tagged, geom) VALUES
 (101, '500103001001001', 11, '渝中区七星岗测试路1号', 'residential', 18, 120, 310, 12, ST_MakeEnvelope(106.5610, 29.5510, 106.5620, 29.5520, 4326)),
 (102, '500103001001001', 12, '渝中区七星岗测试路2号', 'commercial',  30,   0,   0,  0, ST_MakeEnvelope(106.5660, 29.5530, 106.5670, 29.5540, 4326)),
 (201, '500103001001002', 21, '渝中区七星岗测试路3号', 'residential', 11,  80, 200,  5, ST_MakeEnvelope(106.5710, 29.5510, 106.5720, 29.5520, 4326));
INSERT INTO objects (id, category, category_code, grid_code, device_id, geom) VALUES
 (1001, 'hydrant', '0101', '500103001001001', NULL, ST_SetSRID(ST_MakePoint(106.5630, 29.5530), 4326)),
 (1002, 'smoke_sensor', '0512', '500103001001002', 'SMK-0001', ST_SetSRID(ST_MakePoint(106.5715, 29.5515), 4326));
INSERT INTO posts (id, kind, name, grid_code, geom) VALUES
 (501, 'police', '七星岗派出所', '500103001001001', ST_SetSRID(ST_MakePoint(106.5650, 29.5580), 4326)),
 (502, 'micro_fire', '测试社区微型消防站', '500103001001002', ST_SetSRID(ST_MakePoint(106.5750, 29.5580), 4326));
SELECT refresh_grid_counts('500103');
`

// LoadSmallCity inserts SmallCity into a migrated database.
func LoadSmallCity(t testing.TB, db *postgis.DB) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), SmallCity); err != nil {
		t.Fatalf("pgtest: load small city: %v", err)
	}
}
