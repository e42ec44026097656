package postgis_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// The store holds plans to the caller's jurisdiction and to four eyes,
// whatever the handler in front of it checked.
func TestPlanScopeAndFourEyes(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	rules := postgis.DefaultPlanRules
	op := f.reassignable(t)
	street, district := f.community[:9], f.community[:6]
	var sibling string // another street of the district
	if err := f.db.Pool.QueryRow(ctx, `SELECT code FROM regions WHERE level = 'street' AND code LIKE $1 AND code <> $2
		ORDER BY code LIMIT 1`, district+"%", street).Scan(&sibling); err != nil {
		t.Fatal(err)
	}
	var stored int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM grid_plans`).Scan(&stored)

	// Out of scope: a planner of another street cannot draft, read or
	// apply a plan of this community, and nothing is stored.
	outsider := principal(t, f.db, wangge.RolePlanner, sibling)
	if _, err := f.db.CreatePlan(ctx, outsider.Scope(), postgis.PlanRequest{Ops: []geo.GridOp{op}, By: outsider}, rules); !errors.Is(err, wangge.ErrNotFound) {
		t.Fatalf("draft outside the scope: %v, want not found", err)
	}
	var after int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM grid_plans`).Scan(&after)
	if after != stored {
		t.Errorf("a refused draft was stored (%d → %d plans)", stored, after)
	}
	p, err := f.create(t, op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Plan(ctx, outsider.Scope(), p.PlanID); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("read outside the scope: %v, want not found", err)
	}
	if got, err := f.db.Plan(ctx, f.planner.Scope(), p.PlanID); err != nil || got.By != f.planner.Name {
		t.Errorf("read inside: %v, by %q", err, got.By)
	}

	// Four eyes, refused before anything is applied.
	refused := []struct {
		name string
		by   wangge.Principal
		want error
		why  string
	}{
		{"approver of another street", principal(t, f.db, wangge.RoleApprover, sibling), wangge.ErrNotFound, ""},
		{"approver of the same street", principal(t, f.db, wangge.RoleApprover, street), wangge.ErrForbidden, "parent region"},
		{"approver below the planner", principal(t, f.db, wangge.RoleApprover, f.community), wangge.ErrForbidden, "parent region"},
		{"a planner", principal(t, f.db, wangge.RolePlanner, district), wangge.ErrForbidden, "approver"},
		// The drafter made an approver of the district since: still the same eyes.
		{"the drafter", wangge.Principal{UserID: f.planner.UserID, Name: f.planner.Name, Role: wangge.RoleApprover, Region: district},
			wangge.ErrForbidden, "cannot apply it too"},
	}
	for _, tt := range refused {
		_, err := f.db.ApplyPlan(ctx, tt.by.Scope(), p.PlanID, tt.by, rules)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%s: %v, want %v (%q)", tt.name, err, tt.want, tt.why)
		}
	}
	if got, _ := f.db.Plan(ctx, wangge.CityScope(), p.PlanID); got.Status != "draft" {
		t.Fatalf("a refused apply changed the plan: %s", got.Status)
	}
	applied, err := f.db.ApplyPlan(ctx, f.approver.Scope(), p.PlanID, f.approver, rules)
	if err != nil {
		t.Fatalf("the district's approver: %v", err)
	}
	got, _ := f.db.Plan(ctx, f.approver.Scope(), p.PlanID)
	if applied.AppliedBy != f.approver.Name || got.AppliedBy != f.approver.Name || got.By != f.planner.Name {
		t.Errorf("applied plan names drafter %q and applier %q/%q", got.By, applied.AppliedBy, got.AppliedBy)
	}
	var region string
	var drafter, applier int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT created_region, created_by_user, applied_by_user FROM grid_plans WHERE id = $1`,
		p.PlanID).Scan(&region, &drafter, &applier)
	if region != street || drafter != f.planner.UserID || applier != f.approver.UserID {
		t.Errorf("stored drafter %d of %s, applier %d", drafter, region, applier)
	}
	// The database holds the line even if the code did not.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE grid_plans SET applied_by_user = created_by_user WHERE id = $1`, p.PlanID); err == nil {
		t.Error("the database let a plan's drafter be its applier")
	}

	// A plan from before accounts (no region recorded) needs the city's approver.
	old, err := f.create(t, f.reassignable(t))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.db.Pool.Exec(ctx, `UPDATE grid_plans SET created_region = NULL, created_by_user = NULL WHERE id = $1`, old.PlanID)
	if _, err := f.db.ApplyPlan(ctx, f.approver.Scope(), old.PlanID, f.approver, rules); !errors.Is(err, wangge.ErrForbidden) {
		t.Errorf("district approver on a plan without a drafter region: %v, want forbidden", err)
	}
	city := principal(t, f.db, wangge.RoleApprover, "")
	if _, err := f.db.ApplyPlan(ctx, city.Scope(), old.PlanID, city, rules); err != nil {
		t.Errorf("city approver: %v", err)
	}
}

func TestGridReadsAndRevertScoped(t *testing.T) {
	f := newPlanFixture(t)
	ctx := context.Background()
	op := f.reassignable(t)
	f.applyChecked(t, op)
	other := wangge.ScopeOf(f.community[:6] + "999")
	if _, err := f.db.GridHistory(ctx, other, op.To); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("history outside the scope: %v", err)
	}
	if _, err := f.db.GridNeighbours(ctx, other, op.To); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("neighbours outside the scope: %v", err)
	}
	// A community's scope: its grid's neighbours in other communities are left out.
	all, err := f.db.GridNeighbours(ctx, wangge.CityScope(), op.To)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := f.db.GridNeighbours(ctx, wangge.ScopeOf(f.community), op.To)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range mine {
		if !n.SameCommunity {
			t.Errorf("neighbour %s outside community %s listed to its scope", n.Code, f.community)
		}
	}
	same := 0
	for _, n := range all {
		if n.SameCommunity {
			same++
		}
	}
	if len(mine) != same {
		t.Errorf("%d neighbours in the community's scope, %d of the city's list are in it", len(mine), same)
	}
	if _, err := f.db.RevertGrid(ctx, other, op.To, 1, wangge.Principal{Name: "x", Role: wangge.RoleApprover}, "", postgis.DefaultPlanRules); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("revert outside the scope: %v", err)
	}
	if _, err := f.db.RevertGrid(ctx, f.planner.Scope(), op.To, 1, f.planner, "", postgis.DefaultPlanRules); !errors.Is(err, wangge.ErrForbidden) {
		t.Errorf("revert by a planner: %v, want forbidden", err)
	}
	p, err := f.db.RevertGrid(ctx, f.approver.Scope(), op.To, 1, f.approver, "", postgis.DefaultPlanRules)
	if err != nil {
		t.Fatal(err)
	}
	var kind string
	var drafter, applier int64
	_ = f.db.Pool.QueryRow(ctx, `SELECT kind, created_by_user, applied_by_user FROM grid_plans WHERE id = $1`, p.PlanID).
		Scan(&kind, &drafter, &applier)
	if kind != "revert" || drafter != f.approver.UserID || applier != f.approver.UserID || p.By != f.approver.Name {
		t.Errorf("revert plan: kind %s, drafter %d, applier %d, by %s", kind, drafter, applier, p.By)
	}
}
