package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wangge/wangge"
)

// Four eyes over HTTP: a planner drafts; it cannot apply (its role lacks
// plans.apply), nor can an approver of its own level, of a sibling street
// or of another district; the district's approver applies, and the grid's
// history names both. A body's by changes nothing; plans and grids outside
// the caller's jurisdiction are 404.
func TestPlanFourEyesHTTP(t *testing.T) {
	e := planServer(t)
	street, district := e.community[:9], e.community[:6]
	var sibling string
	e.scalar(t, &sibling, `SELECT code FROM regions WHERE level = 'street' AND code LIKE $1 AND code <> $2 ORDER BY code LIMIT 1`,
		district+"%", street)
	// The body names someone else ("by":"planner"): the plan is the
	// credential's user's all the same.
	id, parcel, _, to := e.draft(t)
	outsider := testToken(t, e.db, wangge.RolePlanner, sibling, nil)
	if code, got := callTok(t, outsider, "POST", e.base+"/plans", reassignBody(parcel, to)); code != 404 {
		t.Fatalf("draft by another street's planner: %d %v, want 404", code, got)
	}
	path := fmt.Sprintf("%s/plans/%.0f", e.base, id)
	if code, plan := callTok(t, e.planner, "GET", path, ""); code != 200 || plan["by"] != e.plannerName {
		t.Fatalf("draft: %d %v", code, plan)
	}

	for _, c := range []struct {
		name   string
		tok    string
		status int
		reason string
	}{
		{"anonymous", "", 401, ""},
		{"the planner itself", e.planner, 403, "may not plans.apply"},
		{"an approver of the planner's street", testToken(t, e.db, wangge.RoleApprover, street, nil), 403, "parent region"},
		{"an approver of its community", testToken(t, e.db, wangge.RoleApprover, e.community, nil), 403, "parent region"},
		{"an approver of a sibling street", testToken(t, e.db, wangge.RoleApprover, sibling, nil), 404, ""},
		{"an approver of another district", testToken(t, e.db, wangge.RoleApprover, "500104", nil), 404, ""},
	} {
		code, got := callTok(t, c.tok, "POST", path+"/apply", `{"by":"`+e.approverName+`"}`)
		msg, _ := got["error"].(string)
		if code != c.status || !strings.Contains(msg, c.reason) {
			t.Errorf("%s: %d %v, want %d (%q)", c.name, code, got, c.status, c.reason)
		}
	}
	if code, got := callTok(t, outsider, "GET", path, ""); code != 404 {
		t.Errorf("read by another street's planner: %d %v, want 404", code, got)
	}
	if code, got := callTok(t, e.planner, "GET", path, ""); code != 200 || got["status"] != "draft" {
		t.Fatalf("the refusals changed the plan: %d %v", code, got)
	}

	code, applied := callTok(t, e.approver, "POST", path+"/apply", `{"by":"mallory"}`)
	if code != 200 || applied["applied_by"] != e.approverName || applied["by"] != e.plannerName {
		t.Fatalf("the district's approver: %d %v", code, applied)
	}
	code, hist := callTok(t, e.approver, "GET", e.base+"/grids/"+to+"/history", "")
	vs, _ := hist["versions"].([]any)
	if code != 200 || len(vs) == 0 {
		t.Fatalf("history: %d %v", code, hist)
	}
	if v := vs[0].(map[string]any); v["changed_by"] != e.approverName || v["planned_by"] != e.plannerName {
		t.Errorf("newest version names %v (applied) and %v (drafted), want %s and %s", v["changed_by"], v["planned_by"],
			e.approverName, e.plannerName)
	}
	if strings.Contains(fmt.Sprint(hist), "mallory") {
		t.Errorf("a body's by reached the history: %v", hist)
	}
	// The audit log names the credential's users, and the new plan.
	var drafted, approved int
	e.scalar(t, &drafted, `SELECT count(*) FROM audit_log WHERE actor = $1 AND outcome = '201' AND target = $2`,
		e.plannerName, fmt.Sprintf("plan %.0f (community %s)", id, e.community))
	e.scalar(t, &approved, `SELECT count(*) FROM audit_log WHERE actor = $1 AND outcome = '200' AND target LIKE $2`,
		e.approverName, fmt.Sprintf("%%%.0f%%", id))
	if drafted != 1 || approved != 1 {
		t.Errorf("audit rows: %d for the draft, %d for the apply; want 1 and 1", drafted, approved)
	}

	// Grids outside the caller's jurisdiction are 404; reverting is the
	// approver's, who is named as its actor.
	for _, c := range []struct {
		tok, method, path, body string
		status                  int
	}{
		{outsider, "GET", "/grids/" + to + "/history", "", 404},
		{outsider, "GET", "/grids/" + to + "/neighbours", "", 404},
		{testToken(t, e.db, wangge.RoleApprover, sibling, nil), "POST", "/grids/" + to + "/revert", `{"version":1}`, 404},
		{e.planner, "POST", "/grids/" + to + "/revert", `{"version":1}`, 403},
		{testToken(t, e.db, wangge.RoleViewer, district, nil), "GET", "/grids/" + to + "/history", "", 403},
	} {
		if code, got := callTok(t, c.tok, c.method, e.base+c.path, c.body); code != c.status {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, got, c.status)
		}
	}
	code, rv := callTok(t, e.approver, "POST", e.base+"/grids/"+to+"/revert", `{"version":1,"by":"mallory"}`)
	if code != 200 || rv["applied_by"] != e.approverName {
		t.Fatalf("revert: %d %v", code, rv)
	}
	var changedBy string
	e.scalar(t, &changedBy, `SELECT changed_by FROM grid_versions WHERE grid_code = $1 ORDER BY version DESC LIMIT 1`, to)
	if changedBy != e.approverName {
		t.Errorf("revert recorded as %q, want %s", changedBy, e.approverName)
	}
}
