package wangge

import (
	"fmt"
	"strings"
)

// Drafter is who drafted a grid plan, as recorded with it from the
// credential: the user and the region the user held then.
type Drafter struct {
	Name   string
	UserID int64  // 0: drafted before accounts existed
	Region string // "" the whole city
	Known  bool   // false: a plan from before accounts, whose region was never recorded
}

// CheckFourEyes tells whether approver may apply a plan drafted by d
// (issue 14): an approver, another user than the drafter, whose region is
// the drafter's region's parent or an ancestor of it. A city-level
// planner's plan needs a city-level approver; so does a plan whose
// drafter's region was never recorded. A refusal wraps ErrForbidden and
// says why.
func CheckFourEyes(d Drafter, approver Principal) error {
	if approver.Role != RoleApprover {
		return fmt.Errorf("a plan is applied by an approver, not a %s: %w", approver.Role, ErrForbidden)
	}
	if d.UserID != 0 && d.UserID == approver.UserID || d.Name == approver.Name {
		return fmt.Errorf("four eyes: %s drafted this plan and cannot apply it too; an approver of a parent region must: %w",
			d.Name, ErrForbidden)
	}
	switch {
	case !d.Known || d.Region == "":
		if approver.Region != "" {
			return fmt.Errorf("four eyes: this plan was drafted at city level, so a city-level approver applies it, not one of region %s: %w",
				approver.Region, ErrForbidden)
		}
	case len(approver.Region) >= len(d.Region) || !strings.HasPrefix(d.Region, approver.Region):
		return fmt.Errorf("four eyes: this plan was drafted in region %s, so an approver of its parent region or above applies it, not one of region %s: %w",
			d.Region, regionName(approver.Region), ErrForbidden)
	}
	return nil
}

func regionName(code string) string {
	if code == "" {
		return "the city"
	}
	return code
}
