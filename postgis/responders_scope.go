package postgis

import (
	"strings"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// ScopeQuery narrows a nearest-responder query to the responders whose
// home (the grid a grid worker owns, else its post's grid) lies inside
// scope, as both engines filter: through the query's street or district,
// the codes the index files responders by. A scope finer than a street (a
// community, a grid) is taken as its street: the index knows no finer
// home, and the police or fire post next door is the one to send. ok is
// false when the caller's scope and the asked street or district do not
// overlap (or the scope covers nothing): the answer is empty.
func ScopeQuery(scope wangge.Scope, q geo.Query) (geo.Query, bool) {
	if scope.Like() == "-" {
		return q, false
	}
	own := scope.Region()
	if len(own) > 9 {
		own = own[:9]
	}
	asked := q.Street
	if asked == "" {
		asked = q.District
	}
	code := asked
	switch {
	case len(own) > len(asked) && strings.HasPrefix(own, asked):
		code = own
	case !strings.HasPrefix(asked, own):
		return q, false
	}
	q.Street, q.District = "", ""
	switch len(code) {
	case 9:
		q.Street = code
	case 6:
		q.District = code
	}
	return q, true
}
