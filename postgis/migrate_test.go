package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMigrateTwiceChangesNothing(t *testing.T) {
	db, _ := pgtest.Empty(t)
	ctx := context.Background()
	ms, err := postgis.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Migrate(ctx, quiet())
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if len(first) != len(ms) {
		t.Fatalf("first migrate applied %d files, want %d", len(first), len(ms))
	}
	second, err := db.Migrate(ctx, quiet())
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(second) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", second)
	}
	pending, err := db.Pending(ctx)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending after migrate = %v, %v", pending, err)
	}
}

func TestConcurrentMigratorsApplyEachFileOnce(t *testing.T) {
	db, _ := pgtest.Empty(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	applied := make(chan int, 4)
	for range 4 {
		go func() {
			names, err := db.Migrate(ctx, quiet())
			applied <- len(names)
			errs <- err
		}()
	}
	total := 0
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("migrate: %v", err)
		}
		total += <-applied
	}
	ms, _ := postgis.Migrations()
	if total != len(ms) {
		t.Fatalf("4 concurrent migrators applied %d files in all, want %d", total, len(ms))
	}
}

// The database itself refuses bad rows, whatever code writes them.
func TestSchemaRejectsBadRows(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	square := `ST_Multi(ST_GeomFromText('POLYGON((106.5 29.5,106.6 29.5,106.6 29.6,106.5 29.6,106.5 29.5))',4326))`
	setup := []string{
		`INSERT INTO regions (code, level, name, geom) VALUES ('500103','district','渝中区',` + square + `)`,
		`INSERT INTO regions (code, level, name, parent_code, geom) VALUES ('500103001','street','七星岗街道','500103',` + square + `)`,
		`INSERT INTO regions (code, level, name, parent_code, geom) VALUES ('500103001001','community','测试社区','500103001',` + square + `)`,
		`INSERT INTO grids (id, code, community_code, name, geom) VALUES (1, '500103001001001','500103001001','第1网格',` + square + `)`,
	}
	for _, s := range setup {
		if _, err := db.Pool.Exec(ctx, s); err != nil {
			t.Fatalf("valid row refused: %v\n%s", err, s)
		}
	}
	tests := []struct {
		name string
		sql  string
		code string // SQLSTATE class expected
	}{
		{"self-intersecting polygon", `INSERT INTO grids (id, code, community_code, name, geom) VALUES (2, '500103001001002','500103001001','bow tie',
			ST_Multi(ST_GeomFromText('POLYGON((106.5 29.5,106.6 29.6,106.6 29.5,106.5 29.6,106.5 29.5))',4326)))`, "23514"},
		{"wrong SRID", `INSERT INTO grids (id, code, community_code, name, geom) VALUES (3, '500103001001003','500103001001','mercator',
			ST_Multi(ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 1,0 0))',3857)))`, "22023"},
		{"unknown event status", `INSERT INTO events (category_code, status, tier, source, priority, grid_code, description, reported_at, deadline_at, geom)
			VALUES ('noise','lost','grid','patrol',3,'500103001001001','x',now(),now()+interval '1h',ST_SetSRID(ST_MakePoint(106.55,29.55),4326))`, "23514"},
		{"unit with unknown status", `INSERT INTO units (id, kind, name, status, position_at, geom)
			VALUES (1,'patrol','p1','asleep',now(),ST_SetSRID(ST_MakePoint(106.55,29.55),4326))`, "23514"},
		{"grid without a parent", `INSERT INTO grids (id, code, community_code, name, geom) VALUES (4, '500103001999001','500103001999','orphan',` + square + `)`, "23503"},
		{"grid code outside its community", `INSERT INTO grids (id, code, community_code, name, geom) VALUES (5, '500103002001001','500103001001','misfiled',` + square + `)`, "23514"},
		{"street whose parent is not its prefix", `INSERT INTO regions (code, level, name, parent_code, geom) VALUES ('500104001','street','x','500103',` + square + `)`, "23514"},
		{"malformed community code", `INSERT INTO regions (code, level, name, parent_code, geom) VALUES ('50010300100A','community','x','500103001',` + square + `)`, "23514"},
		{"building with zero floors", `INSERT INTO buildings (id, grid_code, address, use, floors, geom) VALUES (1,'500103001001001','a','residential',0,
			ST_GeomFromText('POLYGON((106.5 29.5,106.51 29.5,106.51 29.51,106.5 29.5))',4326))`, "23514"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Pool.Exec(ctx, tt.sql)
			var pe *pgconn.PgError
			if err == nil {
				t.Fatal("the database accepted the row")
			}
			if !asPgError(err, &pe) || pe.Code != tt.code {
				t.Fatalf("error = %v, want SQLSTATE %s", err, tt.code)
			}
		})
	}
}

func TestExtent(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	if _, _, _, _, ok, err := db.Extent(ctx); err != nil || ok {
		t.Fatalf("empty database: ok=%v err=%v, want no extent", ok, err)
	}
	pgtest.LoadSmallCity(t, db)
	x0, y0, x1, y1, ok, err := db.Extent(ctx)
	if err != nil || !ok || x0 != 106.5 || y0 != 29.5 || x1 != 106.6 || y1 != 29.6 {
		t.Fatalf("extent %v %v %v %v ok=%v err=%v, want the district's box", x0, y0, x1, y1, ok, err)
	}
}
