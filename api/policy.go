package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
)

// audit says when a route's requests go to the audit log.
type audit int

const (
	auditNever  audit = iota
	auditAlways       // writes, logins, reads that always carry personal data
	auditIfPII        // reads that carry personal data when the caller's view shows it
)

// rule is what the policy says of one route: the permission it needs and
// whether it is audited. byParam overrides perm for some values of one path
// parameter (Open311's discovery and services are public, its requests not).
type rule struct {
	perm    wangge.Permission
	audit   audit
	pii     wangge.Permission // auditIfPII: the grant that makes the answer personal
	param   string
	byParam map[string]wangge.Permission
}

func open(p wangge.Permission) rule  { return rule{perm: p} }
func write(p wangge.Permission) rule { return rule{perm: p, audit: auditAlways} }

// routes is the policy of every route, by method and route template. A
// route registered without an entry here makes New panic: a new route is
// closed until this table opens it.
var routes = map[string]rule{
	"GET /healthz": open(wangge.PermPublic),
	"GET /readyz":  open(wangge.PermPublic),
	"GET /version": open(wangge.PermPublic),

	"POST /api/v1/session":              {perm: wangge.PermPublic, audit: auditAlways},
	"GET /api/v1/session":               open(wangge.PermSession),
	"DELETE /api/v1/session":            write(wangge.PermSession),
	"GET /api/v1/session/oidc":          open(wangge.PermPublic),
	"GET /api/v1/session/oidc/callback": {perm: wangge.PermPublic, audit: auditAlways},

	"GET /api/v1/users":                open(wangge.PermUsersManage),
	"POST /api/v1/users":               write(wangge.PermUsersManage),
	"POST /api/v1/users/:name/disable": write(wangge.PermUsersManage),
	"GET /api/v1/tokens":               open(wangge.PermUsersManage),
	"POST /api/v1/tokens":              write(wangge.PermUsersManage),
	"DELETE /api/v1/tokens/:id":        write(wangge.PermUsersManage),
	"GET /metrics":                     open(wangge.PermMetricsRead),
	"GET /debug/pprof/":                open(wangge.PermMetricsRead),
	"GET /debug/pprof/:profile":        open(wangge.PermMetricsRead),
	"GET /api/v1/audit":                {perm: wangge.PermAuditRead, audit: auditAlways},

	"GET /tiles":                  open(wangge.PermMapRead),
	"GET /tiles/:source":          open(wangge.PermMapRead),
	"GET /tiles/:source/:z/:x/:y": {perm: wangge.PermMapRead, param: "source", byParam: map[string]wangge.Permission{"events": wangge.PermEventsRead}},
	"GET /api/v1/locate":          open(wangge.PermMapRead),
	"POST /api/v1/locate":         open(wangge.PermMapRead),
	"GET /api/v1/regions":         open(wangge.PermMapRead),
	"GET /api/v1/regions/:code":   open(wangge.PermMapRead),
	"GET /api/v1/stats":           open(wangge.PermMapRead),
	"GET /api/v1/search":          open(wangge.PermMapRead),
	"GET /api/v1/collections":     open(wangge.PermMapRead),
	"GET /api/v1":                 open(wangge.PermMapRead), // the OGC API landing page
	"GET /api/v1/conformance":     open(wangge.PermMapRead),
	"GET /api/v1/api":             open(wangge.PermMapRead), // OpenAPI 3.0
	"GET /api/v1/collections/:layer": {perm: wangge.PermMapRead, param: "layer",
		byParam: map[string]wangge.Permission{"events": wangge.PermEventsRead}},
	"GET /api/v1/collections/:layer/items": {perm: wangge.PermMapRead, param: "layer",
		byParam: map[string]wangge.Permission{"events": wangge.PermEventsRead}},
	"GET /api/v1/collections/:layer/items/:id": {perm: wangge.PermMapRead, param: "layer",
		byParam: map[string]wangge.Permission{"events": wangge.PermEventsRead}},
	"GET /api/v1/buildings/:id": {perm: wangge.PermBuildingsRead, audit: auditIfPII, pii: wangge.PermResidentsFull},

	"POST /api/v1/events":                 write(wangge.PermEventsReport),
	"GET /api/v1/events":                  {perm: wangge.PermEventsRead, audit: auditIfPII, pii: wangge.PermReporterRead},
	"GET /api/v1/events/:id":              {perm: wangge.PermEventsRead, audit: auditIfPII, pii: wangge.PermReporterRead},
	"POST /api/v1/events/:id/transitions": write(wangge.PermEventsHandle),
	"POST /api/v1/alarms":                 write(wangge.PermAlarmsRaise),
	"GET /api/v1/kpi":                     open(wangge.PermEventsRead),
	"GET /api/v1/stream":                  open(wangge.PermEventsRead),
	"GET /api/v1/responders/nearest":      open(wangge.PermRespondersRead),
	"GET /api/v1/events/:id/responders":   open(wangge.PermRespondersRead),
	"PUT /api/v1/units/:id/position":      write(wangge.PermUnitsPosition),
	"PUT /api/v1/units/:id/status":        write(wangge.PermUnitsStatus),

	"POST /api/v1/plans":                 write(wangge.PermPlansDraft),
	"GET /api/v1/plans/:id":              open(wangge.PermPlansRead),
	"POST /api/v1/plans/:id/apply":       write(wangge.PermPlansApply),
	"GET /api/v1/grids/:code/history":    open(wangge.PermPlansRead),
	"GET /api/v1/grids/:code/neighbours": open(wangge.PermPlansRead),
	"POST /api/v1/grids/:code/revert":    write(wangge.PermPlansApply),

	"GET /open311/v2/:doc": {perm: wangge.PermOpen311Read, param: "doc", byParam: map[string]wangge.Permission{
		"discovery.json": wangge.PermOpen311Public, "discovery.xml": wangge.PermOpen311Public,
		"services.json": wangge.PermOpen311Public, "services.xml": wangge.PermOpen311Public}},
	"POST /open311/v2/:doc":          write(wangge.PermOpen311Submit),
	"GET /open311/v2/services/:code": open(wangge.PermOpen311Public),
	"GET /open311/v2/requests/:id":   open(wangge.PermOpen311Read),
	"GET /open311/v2/tokens/:token":  open(wangge.PermOpen311Read),
}

func routeKey(method, path string) string { return method + " " + path }

// ruleOf is the policy of a registered route; static files of the front
// end are public.
func (s *Server) ruleOf(method, path string) (rule, bool) {
	if r, ok := routes[routeKey(method, path)]; ok {
		return r, true
	}
	if (method == http.MethodGet || method == http.MethodHead) && s.static[path] {
		return open(wangge.PermPublic), true
	}
	return rule{}, false
}

// permOf is the permission a request needs under r.
func (r rule) permOf(c *gin.Context) wangge.Permission {
	if r.param != "" {
		if p, ok := r.byParam[c.Param(r.param)]; ok {
			return p
		}
	}
	return r.perm
}

// routeID names a registered route without building a string per request.
type routeID struct{ method, path string }

// resolved is a route's rule and class, looked up once when the server is
// built, so the middleware does a map lookup per request and no more.
type resolved struct {
	rule
	class Class
}

// resolveRoutes indexes every registered route's rule and class.
func (s *Server) resolveRoutes() {
	s.rules = map[routeID]resolved{}
	for _, ri := range s.router.Routes() {
		if r, ok := s.ruleOf(ri.Method, ri.Path); ok {
			s.rules[routeID{ri.Method, ri.Path}] = resolved{rule: r, class: classOf(ri.Method, ri.Path, r)}
		}
	}
}

// checkPolicy makes sure every registered route has a rule naming known
// permissions: a route added without one would otherwise be open.
func (s *Server) checkPolicy() error {
	var missing []string
	for _, ri := range s.router.Routes() {
		r, ok := s.ruleOf(ri.Method, ri.Path)
		if !ok {
			missing = append(missing, routeKey(ri.Method, ri.Path))
			continue
		}
		for _, p := range append([]wangge.Permission{r.perm}, values(r.byParam)...) {
			if !wangge.Known(p) {
				missing = append(missing, routeKey(ri.Method, ri.Path)+" (unknown permission "+string(p)+")")
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("api: routes without a policy entry: %s", strings.Join(missing, ", "))
	}
	return nil
}

func values(m map[string]wangge.Permission) []wangge.Permission {
	out := make([]wangge.Permission, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Rule describes a route's policy for tests and docs.
type Rule struct {
	Perm    wangge.Permission
	Param   string
	ByParam map[string]wangge.Permission
	Audited bool
}

// Policy lists every registered route with its rule (the generated matrix
// test walks it).
func (s *Server) Policy() map[string]Rule {
	out := map[string]Rule{}
	for _, ri := range s.router.Routes() {
		r, _ := s.ruleOf(ri.Method, ri.Path)
		out[routeKey(ri.Method, ri.Path)] = Rule{Perm: r.perm, Param: r.param, ByParam: r.byParam, Audited: r.audit != auditNever}
	}
	return out
}
