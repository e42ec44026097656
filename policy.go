package wangge

import "slices"

// Permission is something a request does. Every route names exactly one
// (api refuses to register a route without one); some permissions are
// grants consulted inside an answer (PII views) rather than by a route.
type Permission string

const (
	PermPublic         Permission = "public"          // health, login, the front end's files
	PermSession        Permission = "session"         // who am I, log out
	PermMapRead        Permission = "map.read"        // tiles, drill-down counts, stats, search, features, locate
	PermBuildingsRead  Permission = "buildings.read"  // a building and its households (residents as the view allows)
	PermEventsRead     Permission = "events.read"     // events without reporter, KPIs, the live stream, events tiles
	PermEventsReport   Permission = "events.report"   // POST /events
	PermEventsHandle   Permission = "events.handle"   // workflow transitions
	PermAlarmsRaise    Permission = "alarms.raise"    // a sensor's alarm
	PermRespondersRead Permission = "responders.read" // nearest posts and units
	PermUnitsPosition  Permission = "units.position"  // a unit's live position
	PermUnitsStatus    Permission = "units.status"    // a unit's status, dispatch
	PermPlansRead      Permission = "plans.read"      // plans, grid history, neighbours
	PermPlansDraft     Permission = "plans.draft"     // POST /plans
	PermPlansApply     Permission = "plans.apply"     // apply a plan, revert a grid
	PermAuditRead      Permission = "audit.read"
	PermUsersManage    Permission = "users.manage"
	PermMetricsRead    Permission = "metrics.read"   // Prometheus metrics and pprof
	PermOpen311Read    Permission = "open311.read"   // service requests as GeoReport shows them
	PermOpen311Submit  Permission = "open311.submit" // a citizen's request through a gateway
	PermOpen311Public  Permission = "open311.public" // discovery and service list (public unless configured)

	// Grants read inside answers: what personal data a view shows.
	PermResidentsFull Permission = "residents.full" // names, ID numbers, phones, exact ages, tags
	PermReporterRead  Permission = "reporter.read"  // an event's reporter (name, phone)
	PermStaffContacts Permission = "staff.contacts" // grid workers' phones, live unit positions
)

// staff are the roles that work events on the ground or in a centre.
var staff = []Role{RoleCommander, RoleGridWorker, RoleResponder}

// wall are the roles that see the map wall.
var wall = []Role{RoleAdmin, RoleCommander, RoleGridWorker, RolePlanner, RoleApprover, RoleResponder, RoleViewer}

// policy is the one table that decides who may do what (role × permission);
// the scope half is the principal's jurisdiction, applied by every store
// method. Public is open to everyone, anonymous included.
var policy = map[Permission][]Role{
	PermSession:        slices.Clone(Roles),
	PermMapRead:        wall,
	PermBuildingsRead:  []Role{RoleCommander, RoleGridWorker, RoleViewer},
	PermEventsRead:     []Role{RoleAdmin, RoleCommander, RoleGridWorker, RolePlanner, RoleApprover, RoleResponder, RoleViewer},
	PermEventsReport:   staff,
	PermEventsHandle:   staff,
	PermAlarmsRaise:    []Role{RoleSensor},
	PermRespondersRead: staff,
	PermUnitsPosition:  []Role{RoleResponder},
	PermUnitsStatus:    staff,
	PermPlansRead:      []Role{RoleCommander, RolePlanner, RoleApprover},
	PermPlansDraft:     []Role{RolePlanner},
	PermPlansApply:     []Role{RoleApprover},
	PermAuditRead:      []Role{RoleAuditor},
	PermUsersManage:    []Role{RoleAdmin},
	PermMetricsRead:    []Role{RoleAdmin},
	PermOpen311Read:    []Role{RoleGateway, RoleCommander, RoleViewer},
	PermOpen311Submit:  []Role{RoleGateway},
	PermOpen311Public:  append([]Role{RoleGateway}, wall...),

	PermResidentsFull: []Role{RoleGridWorker},
	PermReporterRead:  []Role{RoleCommander, RoleGridWorker},
	PermStaffContacts: staff,
}

// publicByDefault are permissions an anonymous caller has unless the
// deployment closes them (Open311 discovery and services).
var publicByDefault = map[Permission]bool{PermPublic: true, PermOpen311Public: true}

// RoleMay tells whether role holds perm. Only PermPublic (and, by default,
// PermOpen311Public) is open to RoleAnonymous.
func RoleMay(role Role, perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	if role == RoleAnonymous {
		return false
	}
	return slices.Contains(policy[perm], role)
}

// May is the one decision of a route's permission for a role, anonymous
// included: public routes for everyone, Open311 discovery for everyone
// while the deployment keeps it public, the rest by the policy table.
func May(role Role, perm Permission, open311Public bool) bool {
	if perm == PermOpen311Public && open311Public || publicByDefault[perm] && perm != PermOpen311Public {
		return true
	}
	return RoleMay(role, perm)
}

// Known tells whether perm is in the policy table (a route naming an
// unknown permission is refused at registration).
func Known(perm Permission) bool {
	_, ok := policy[perm]
	return ok || perm == PermPublic
}

// Permissions lists what a role may do, for GET /api/v1/session.
func Permissions(role Role) []Permission {
	var out []Permission
	for p, rs := range policy {
		if slices.Contains(rs, role) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
