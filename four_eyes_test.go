package wangge

import (
	"errors"
	"testing"
)

func TestCheckFourEyes(t *testing.T) {
	street := Drafter{Name: "p", UserID: 1, Region: "500103001", Known: true}
	city := Drafter{Name: "p", UserID: 1, Region: "", Known: true}
	legacy := Drafter{Name: "p"}
	ap := func(id int64, region string) Principal {
		return Principal{UserID: id, Name: "a" + region, Role: RoleApprover, Region: region}
	}
	for _, tt := range []struct {
		name string
		d    Drafter
		a    Principal
		ok   bool
	}{
		{"parent region", street, ap(2, "500103"), true},
		{"city above a street", street, ap(2, ""), true},
		{"same region", street, ap(2, "500103001"), false},
		{"below", street, ap(2, "500103001001"), false},
		{"another branch", street, ap(2, "500104"), false},
		{"the drafter as approver", street, Principal{UserID: 1, Name: "p", Role: RoleApprover, Region: "500103"}, false},
		{"same name, no user id", Drafter{Name: "p", Region: "500103001", Known: true}, Principal{Name: "p", Role: RoleApprover}, false},
		{"a planner", street, Principal{UserID: 2, Name: "x", Role: RolePlanner, Region: "500103"}, false},
		{"city plan, city approver", city, ap(2, ""), true},
		{"city plan, district approver", city, ap(2, "500103"), false},
		{"legacy plan, city approver", legacy, ap(2, ""), true},
		{"legacy plan, district approver", legacy, ap(2, "500103"), false},
	} {
		err := CheckFourEyes(tt.d, tt.a)
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
