package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// Units and responders in and out of the jurisdiction: a responder moves
// its own unit only, a commander sets status and dispatches only units at
// home in its region and only to events in it, and reads an event's
// responders and the nearest ones only there.
func TestUnitsScopedHTTP(t *testing.T) {
	db, url, rs, _ := fixture(t, 400)
	ctx := context.Background()
	u := firstUnitOf(rs)
	var w geo.Responder // a unit of another street
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit && r.Street != "" && r.Street != u.Street {
			w = r
			break
		}
	}
	event := func(street string) string {
		var id int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
			description, reported_at, deadline_at, geom) VALUES ('fire_alarm', 'accepted', 'grid', 'sensor', 1, $1,
			'smoke', now(), now() + interval '30 min', ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
			street+"001001", u.Lon, u.Lat).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(id)
	}
	here, there := event(u.Street), event(w.Street)
	base := startReplica(t, ctx, url, "").srv.URL + "/api/v1"
	commander := testToken(t, db, wangge.RoleCommander, u.Street, nil)
	worker := testToken(t, db, wangge.RoleGridWorker, u.Street+"001001", nil)
	responder := testToken(t, db, wangge.RoleResponder, u.Street, &u.Key.ID)
	misplaced := testToken(t, db, wangge.RoleResponder, w.Street, &u.Key.ID) // its unit lies outside its region
	viewer := testToken(t, db, wangge.RoleViewer, u.District, nil)
	at := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	unit := func(id int64, what string) string { return fmt.Sprintf("/units/%d/%s", id, what) }
	nearest := fmt.Sprintf("/responders/nearest?lon=%f&lat=%f&k=10", u.Lon, u.Lat)
	for _, c := range []struct {
		name, tok, method, path, body string
		want                          int
	}{
		{"anonymous", "", "GET", nearest, "", 401},
		{"viewer", viewer, "GET", nearest, "", 403},
		{"commander: nearest", commander, "GET", nearest, "", 200},
		{"commander: responders of an event in its street", commander, "GET", "/events/" + here + "/responders", "", 200},
		{"commander: responders of an event elsewhere", commander, "GET", "/events/" + there + "/responders", "", 404},
		{"commander: status of its unit", commander, "PUT", unit(u.Key.ID, "status"), `{"status":"on_scene","at":"` + at + `"}`, 200},
		{"commander: status of another street's unit", commander, "PUT", unit(w.Key.ID, "status"), `{"status":"on_scene"}`, 404},
		{"commander: dispatch to an event elsewhere", commander, "PUT", unit(u.Key.ID, "status"), `{"event_id":` + there + `}`, 404},
		{"commander: dispatch to an event of its street", commander, "PUT", unit(u.Key.ID, "status"), `{"event_id":` + here + `}`, 200},
		{"commander: no position reports", commander, "PUT", unit(u.Key.ID, "position"), `{"lon":106.6,"lat":29.6}`, 403},
		{"grid worker: status of a unit of its grid", worker, "PUT", unit(u.Key.ID, "status"), `{"status":"on_scene"}`, 200},
		{"responder: its own unit", responder, "PUT", unit(u.Key.ID, "position"), `{"lon":106.6,"lat":29.6}`, 200},
		{"responder: another unit", responder, "PUT", unit(w.Key.ID, "position"), `{"lon":106.6,"lat":29.6}`, 404},
		{"responder: another unit's status", responder, "PUT", unit(w.Key.ID, "status"), `{"status":"available"}`, 404},
		{"responder: its unit outside its region", misplaced, "PUT", unit(u.Key.ID, "position"), `{"lon":106.6,"lat":29.6}`, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := callTok(t, c.tok, c.method, base+c.path, c.body)
			wantAnswer(t, code, c.want, body)
			if c.path == nearest && code == 200 {
				rs, _ := body["responders"].([]any)
				if len(rs) == 0 {
					t.Fatalf("nothing near its own unit: %v", body)
				}
				for _, r := range rs {
					if st := r.(map[string]any)["street"]; st != u.Street {
						t.Errorf("%v of street %v answered to street %s's commander", r.(map[string]any)["id"], st, u.Street)
					}
				}
			}
		})
	}
	// The dispatch stored is the one inside the street.
	var ev *int64
	_ = db.Pool.QueryRow(ctx, `SELECT event_id FROM units WHERE id = $1`, u.Key.ID).Scan(&ev)
	if ev == nil || fmt.Sprint(*ev) != here {
		t.Errorf("unit dispatched to %v, want %s", ev, here)
	}
}

// Without staff.contacts an answer carries no unit (their positions are
// live); posts, fixed places, stay. The policy gives responders.read to
// staff only, so this is the second line.
func TestNearestBodyWithoutStaffContacts(t *testing.T) {
	ms := []geo.Match{
		{Responder: geo.Responder{Key: geo.Key{Class: geo.ClassPost, ID: 1}, Kind: geo.KindPolice, Lon: 106.5, Lat: 29.5}, Rank: 1},
		{Responder: geo.Responder{Key: geo.Key{Class: geo.ClassUnit, ID: 2}, Kind: geo.KindPatrol, Lon: 106.51, Lat: 29.51,
			PositionAt: time.Now()}, Rank: 2},
	}
	hidden := nearestBody(nearestParams{engine: "h3"}, ms, nil, time.Millisecond, false)
	if len(hidden.Responders) != 1 || hidden.Responders[0].Type != "post" {
		t.Errorf("without the grant: %+v", hidden.Responders)
	}
	shown := nearestBody(nearestParams{engine: "h3"}, ms, nil, time.Millisecond, true)
	if len(shown.Responders) != 2 || !strings.Contains(fmt.Sprint(shown.Responders[1]), "106.51") {
		t.Errorf("with the grant: %+v", shown.Responders)
	}
	for _, r := range []wangge.Role{wangge.RoleCommander, wangge.RoleGridWorker, wangge.RoleResponder} {
		if !wangge.RoleMay(r, wangge.PermStaffContacts) || !wangge.RoleMay(r, wangge.PermRespondersRead) {
			t.Errorf("%s: responders.read and staff.contacts should go together", r)
		}
	}
}
