package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wangge/wangge"
)

// TestPlanAnswersAreBounded: a plan naming thousands of made-up parcels is
// refused with a bounded answer, and one past the cap is refused before
// any work (before: 700,000 ids answered 77.7 MB).
func TestPlanAnswersAreBounded(t *testing.T) {
	c := newCity(t)
	planner := []string{"Authorization", "Bearer " + c.inside[wangge.RolePlanner]}
	ids := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(900000 + i)
		}
		return strings.Join(parts, ",")
	}
	body := func(n int) string {
		return `{"reason":"bounds","operations":[{"op":"reassign","parcels":[` + ids(n) + `],"to":"500103001001002"}]}`
	}
	send(t, "POST", c.url+"/api/v1/plans", body(6000), planner...).want(t, 400, "at most 5000")
	a := send(t, "POST", c.url+"/api/v1/plans", body(4000), planner...)
	if a.status != 422 && a.status != 404 {
		t.Fatalf("4,000 made-up parcels: %d %.300s", a.status, a.raw)
	}
	if len(a.raw) > 64<<10 {
		t.Fatalf("the refusal is %d bytes for a %d-byte plan", len(a.raw), len(body(4000)))
	}
	if ps, ok := a.body["problems"].([]any); ok && len(ps) > 50 {
		t.Fatalf("%d problems listed, want at most 50", len(ps))
	}
}
