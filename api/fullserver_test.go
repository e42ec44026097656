package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
	"github.com/wangge/wangge/tiles"
)

// Known personal data planted in the small city; the PII scan looks for
// each string in every answer.
const (
	piiName1    = "欧阳测试"
	piiName2    = "司马样本"
	piiID1      = "50010319900101123X"
	piiID2      = "500103195501014321"
	piiPhone    = "13987654321"
	piiWorker   = "13812345678" // the grid worker's phone
	piiReporter = "赵六拨打13900001111"
)

const fullFixture = `
INSERT INTO units (id, kind, name, phone, grid_code, post_id, status, position_at, geom) VALUES
 (9001, 'grid_worker', '网格员甲', '` + piiWorker + `', '500103001001001', NULL, 'available', now() - interval '1 hour', ST_SetSRID(ST_MakePoint(106.562, 29.552), 4326)),
 (9002, 'patrol', '巡逻一组', '', NULL, 501, 'available', now() - interval '1 hour', ST_SetSRID(ST_MakePoint(106.565, 29.558), 4326));
INSERT INTO households (id, building_id, grid_code, unit_no, size) VALUES (7001, 101, '500103001001001', '3-2-501', 2);
INSERT INTO residents (id, household_id, building_id, grid_code, name, id_number, phone, gender, birth_date, relation, tags) VALUES
 (8001, 7001, 101, '500103001001001', '` + piiName1 + `', '` + piiID1 + `', '` + piiPhone + `', 'F', '1990-01-01', 'head', '{elderly_alone}'),
 (8002, 7001, 101, '500103001001001', '` + piiName2 + `', '` + piiID2 + `', NULL, 'M', '1955-01-01', 'spouse', '{disabled}');`

// city is the whole server over the small city, every part wired as
// `wangge serve` wires it, with a principal per role inside the district
// 500103 and another outside it (district 500104, where nothing is).
type city struct {
	server  *api.Server
	db      *postgis.DB
	url     string
	inside  map[wangge.Role]string // role → token
	outside map[wangge.Role]string
	names   map[wangge.Role]string // inside principals' names
	eventID int64                  // an event in grid 500103001001001
	planID  int64                  // a draft plan of community 500103001001
}

var (
	insideRegion = map[wangge.Role]string{wangge.RoleCommander: "500103", wangge.RoleGridWorker: "500103001001001",
		wangge.RolePlanner: "500103001", wangge.RoleApprover: "500103", wangge.RoleResponder: "500103",
		wangge.RoleViewer: "500103", wangge.RoleSensor: "500103"}
	outsideRegion = map[wangge.Role]string{wangge.RoleCommander: "500104", wangge.RoleGridWorker: "500104001001001",
		wangge.RolePlanner: "500104001", wangge.RoleApprover: "500104", wangge.RoleResponder: "500104",
		wangge.RoleViewer: "500104", wangge.RoleSensor: "500104", wangge.RoleAdmin: "500104", wangge.RoleAuditor: "500104",
		wangge.RoleGateway: "500104"}
)

func newCity(t *testing.T) *city {
	t.Helper()
	db, _ := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := db.Pool.Exec(ctx, fullFixture); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := tiles.NewService(tiles.NewCatalogue(), db, 16<<20, log)
	tilesReady := make(chan struct{})
	go ts.Follow(ctx, db, tilesReady)
	<-tilesReady
	live, err := db.StartLive(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := db.StartLocator(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	events := &api.Events{Store: db, Locate: loc, KPI: db}
	stream := api.NewStream(api.StreamOptions{})
	streamReady := make(chan struct{})
	go stream.Follow(ctx, db, log, streamReady)
	<-streamReady
	srv := api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 20, Version: "test", Tiles: ts,
		Responders: &api.Responders{Index: live, SQL: db, Events: db, Units: live},
		Query:      &api.Query{Locator: loc, LocateSQL: db, Regions: db, Stats: db, Features: db, Search: db},
		Events:     events, Stream: stream, Plans: &api.Plans{Store: db, Fresh: &api.Freshness{Versions: db, Tiles: ts, Locator: loc}},
		Open311: &api.Open311{Events: events, Categories: db},
		Static:  fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>wangge</title>")}},
		Access:  apitest.Access(t, db), Metrics: api.NewMetrics()})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { stream.Close(); hs.Close() })
	c := &city{server: srv, db: db, url: hs.URL, inside: map[wangge.Role]string{}, outside: map[wangge.Role]string{}, names: map[wangge.Role]string{}}
	patrol := int64(9002)
	for _, r := range wangge.Roles {
		var unit *int64
		if r == wangge.RoleResponder {
			unit = &patrol
		}
		c.names[r], c.inside[r] = apitest.User(t, db, r, insideRegion[r], unit)
		c.outside[r] = apitest.Token(t, db, r, outsideRegion[r], unit)
	}
	c.eventID = c.create(t, wangge.RoleCommander, "/api/v1/events", `{"category":"fire_alarm","location":{"lon":106.5612,"lat":29.5512},
		"description":"三楼冒烟","reporter":"`+piiReporter+`","source":"hotline_12345"}`)
	c.planID = c.create(t, wangge.RolePlanner, "/api/v1/plans", `{"by":"tmp","reason":"matrix","operations":[{"op":"reassign","parcels":[12],"to":"500103001001002"}]}`)
	return c
}

// create POSTs as an inside principal and returns the new id.
func (c *city) create(t *testing.T, role wangge.Role, path, body string) int64 {
	t.Helper()
	a := send(t, "POST", c.url+path, body, "Authorization", "Bearer "+c.inside[role])
	if a.status != 201 {
		t.Fatalf("setup %s as %s: %d %v", path, role, a.status, a.body)
	}
	id, _ := a.body["id"].(float64)
	if pid, ok := a.body["plan_id"].(float64); ok {
		id = pid
	}
	if id == 0 {
		t.Fatalf("setup %s: no id in %v", path, a.body)
	}
	return int64(id)
}

func (c *city) id(n int64) string { return strconv.FormatInt(n, 10) }
