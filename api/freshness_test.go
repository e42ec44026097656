package api_test

import (
	"testing"

	"github.com/wangge/wangge"
)

// TestApplyIsReadYourWrites: the moment an apply answers, the same
// replica's locate gives the parcel's new grid (before: the old grid for
// ~100–150 ms, and an incident reported then went to the wrong grid).
func TestApplyIsReadYourWrites(t *testing.T) {
	c := newCity(t)
	approver := []string{"Authorization", "Bearer " + c.inside[wangge.RoleApprover]}
	viewer := []string{"Authorization", "Bearer " + c.inside[wangge.RoleViewer]}
	const inParcel12 = "/api/v1/locate?lon=106.5675&lat=29.555" // parcel 12: grid 001 until the plan moves it to 002
	before := send(t, "GET", c.url+inParcel12, "", viewer...)
	if g, _ := before.body["grid"].(map[string]any); g == nil || g["code"] != "500103001001001" {
		t.Fatalf("before the plan: %v", before.body)
	}
	send(t, "POST", c.url+"/api/v1/plans/"+c.id(c.planID)+"/apply", `{}`, approver...).want(t, 200, "")
	after := send(t, "GET", c.url+inParcel12, "", viewer...)
	if g, _ := after.body["grid"].(map[string]any); g == nil || g["code"] != "500103001001002" {
		t.Fatalf("right after the apply answered, locate says %v, want grid 500103001001002", after.body["grid"])
	}
	ev := send(t, "POST", c.url+"/api/v1/events", `{"category":"noise","location":{"lon":106.5675,"lat":29.555},"description":"刚改过的网格","source":"patrol"}`,
		"Authorization", "Bearer "+c.inside[wangge.RoleCommander])
	if ev.status != 201 || ev.body["grid_code"] != "500103001001002" {
		t.Fatalf("an incident right after the apply went to %v (%d)", ev.body["grid_code"], ev.status)
	}
}
