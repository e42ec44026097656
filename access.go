package wangge

import (
	"slices"
	"strings"
)

// Role is what a principal does in the city (issue #14). A user has one
// role and one jurisdiction; machines (Open311 gateways, sensor hubs) are
// principals with roles of their own.
type Role string

const (
	RoleAdmin      Role = "admin"       // users, tokens, settings
	RoleCommander  Role = "commander"   // command centre of its tier
	RoleGridWorker Role = "grid_worker" // reports and handles its grid's events, visits residents
	RolePlanner    Role = "planner"     // drafts grid plans in its region
	RoleApprover   Role = "approver"    // applies plans drafted below it (four eyes)
	RoleResponder  Role = "responder"   // one unit: its position, status, dispatched events
	RoleAuditor    Role = "auditor"     // reads the audit log, writes nothing
	RoleViewer     Role = "viewer"      // the map wall without personal data
	RoleGateway    Role = "gateway"     // an Open311 app or the 12345 hotline submitting requests
	RoleSensor     Role = "sensor"      // a sensor hub raising alarms for devices in its region

	// RoleAnonymous is the principal of a request without a credential.
	RoleAnonymous Role = "anonymous"
)

// Roles lists the roles a credential can carry, for validation and for
// the generated policy matrix.
var Roles = []Role{RoleAdmin, RoleCommander, RoleGridWorker, RolePlanner, RoleApprover, RoleResponder,
	RoleAuditor, RoleViewer, RoleGateway, RoleSensor}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", Invalid("role", "unknown role %q (one of %s)", s, strings.Join(names, ", "))
}

// Scope is a jurisdiction: the region codes a caller may see, as a code
// prefix. Store methods take it first and filter in SQL with
// `code LIKE scope.Like()`, so a handler that forgot a check still cannot
// leak another region's rows. The zero Scope covers nothing: a scope must
// be asked for (CityScope, ScopeOf, Principal.Scope), never defaulted.
type Scope struct {
	prefix string
	set    bool
}

// CityScope covers the whole city.
func CityScope() Scope { return Scope{set: true} }

// ScopeOf covers a region (6, 9, 12 digits) or a grid (15) and everything
// inside it; "" is the whole city.
func ScopeOf(region string) Scope { return Scope{prefix: region, set: true} }

// Region is the code the scope covers ("" for the whole city).
func (s Scope) Region() string { return s.prefix }

// City tells whether the scope is the whole city.
func (s Scope) City() bool { return s.set && s.prefix == "" }

// Covers tells whether a region or grid code lies inside the scope.
func (s Scope) Covers(code string) bool { return s.set && strings.HasPrefix(code, s.prefix) }

// Within tells whether the scope lies inside a region: a street's scope is
// within its district. Drill-down uses it to name the ancestors of the
// caller's region without their counts.
func (s Scope) Within(code string) bool { return s.set && strings.HasPrefix(s.prefix, code) }

// Like is the LIKE pattern the store filters codes with. Codes are digits,
// so "-" matches no code: the zero Scope reads nothing.
func (s Scope) Like() string {
	if !s.set {
		return "-"
	}
	return s.prefix + "%"
}

func (s Scope) String() string {
	switch {
	case !s.set:
		return "none"
	case s.prefix == "":
		return "city"
	}
	return s.prefix
}

// Principal is who makes a request: a user by session or token, a machine
// by token, or nobody.
type Principal struct {
	UserID       int64  `json:"-"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	Region       string `json:"region"`            // "" the whole city
	UnitID       *int64 `json:"unit_id,omitempty"` // a responder's unit
	CredentialID int64  `json:"-"`                 // the session or token used (for revocation, audit)
}

// Anonymous is the principal of a request without a credential.
func Anonymous() Principal { return Principal{Role: RoleAnonymous} }

// Scope is the principal's jurisdiction; an anonymous caller's covers
// nothing.
func (p Principal) Scope() Scope {
	if p.Role == RoleAnonymous || p.Role == "" {
		return Scope{}
	}
	return ScopeOf(p.Region)
}

// Can tells whether the policy grants the permission to the principal's
// role (inside its scope).
func (p Principal) Can(perm Permission) bool { return RoleMay(p.Role, perm) }

// Actor is how the audit and event logs name the principal.
func (p Principal) Actor() string {
	if p.Role == RoleAnonymous || p.Name == "" {
		return "anonymous"
	}
	return p.Name
}

// CheckRegion validates a jurisdiction for a role: a code of ours, or ""
// for the whole city; a grid worker's is a grid, a responder's covers its
// unit's area.
func CheckRegion(role Role, region string) error {
	if region != "" {
		if _, ok := LevelOf(region); !ok {
			return Invalid("region", "%q is not a district (6 digits), street (9), community (12) or grid (15) code", region)
		}
	}
	if role == RoleGridWorker && len(region) != 15 {
		return Invalid("region", "a grid worker's region is a grid (15 digits), not %q", region)
	}
	return nil
}
