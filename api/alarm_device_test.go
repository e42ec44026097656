package api_test

import (
	"context"
	"testing"

	"github.com/wangge/wangge"
)

// TestDeviceFollowsItsAlarm: a smoke sensor in alarm goes back to normal
// when its alarm event is rejected (a false alarm), and only then.
func TestDeviceFollowsItsAlarm(t *testing.T) {
	c := newCity(t)
	status := func() string {
		var s string
		if err := c.db.Pool.QueryRow(context.Background(), `SELECT status FROM objects WHERE device_id = 'SMK-0001'`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := send(t, "POST", c.url+"/api/v1/alarms", `{"device_id":"SMK-0001","note":"烟雾"}`, "Authorization", "Bearer "+c.inside[wangge.RoleSensor])
	if a.status != 201 || status() != "alarm" {
		t.Fatalf("alarm: %d %v, device %s", a.status, a.body, status())
	}
	id := c.id(int64(a.body["id"].(float64)))
	cmd := []string{"Authorization", "Bearer " + c.inside[wangge.RoleCommander]}
	send(t, "POST", c.url+"/api/v1/events/"+id+"/transitions", `{"action":"note","note":"核实中"}`, cmd...).want(t, 200, "")
	if s := status(); s != "alarm" {
		t.Fatalf("a note ended the alarm: device %s", s)
	}
	send(t, "POST", c.url+"/api/v1/events/"+id+"/transitions", `{"action":"reject","note":"误报"}`, cmd...).want(t, 200, "")
	if s := status(); s != "normal" {
		t.Fatalf("after the alarm was rejected the device is %s, want normal", s)
	}
}
