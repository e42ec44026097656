package api

import (
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// planBody is POST /api/v1/plans.
type planBody struct {
	Operations []geo.GridOp `json:"operations"`
	Reason     string       `json:"reason"`
	By         ignoredBy    `json:"by"`
	CRS        string       `json:"crs"` // of the lines: wgs84 (default), gcj02, bd09
}

type applyBody struct {
	By ignoredBy `json:"by"`
}

type revertBody struct {
	Version int       `json:"version"`
	By      ignoredBy `json:"by"`
	Reason  string    `json:"reason"`
}

// ignoredBy is the "by" older clients (and the wall before accounts) send
// with a plan, an apply or a revert. It is accepted, so they keep working,
// and never read: who drafts, applies or reverts is the credential's user
// (principal(c).Actor()). Being of its own type, no handler can take it
// for a name by mistake.
type ignoredBy struct{}

func (*ignoredBy) UnmarshalJSON([]byte) error { return nil }

// Bounds on one plan: a community has a few hundred parcels, and a hand
// drawn line a few hundred points; past these the request is not a plan.
const (
	maxOps          = 100
	maxParcelsPerOp = 5_000
	maxLinePoints   = 2_000
)

// request checks the fields the data layer does not (why, how many) and
// converts drawn lines to WGS-84; by is the drafter, the caller. The
// operations' own shape is checked by geo.CheckOps, whose refusals answer
// 422.
func (b planBody) request(by wangge.Principal) (postgis.PlanRequest, error) {
	req := postgis.PlanRequest{Ops: b.Operations, Reason: b.Reason, By: by}
	if len(b.Operations) > maxOps {
		return req, wangge.Invalid("operations", "at most %d operations in a plan, got %d", maxOps, len(b.Operations))
	}
	for i, op := range b.Operations {
		switch {
		case len(op.Parcels) > maxParcelsPerOp:
			return req, wangge.Invalid("operations", "operation %d names %d parcels; at most %d", i, len(op.Parcels), maxParcelsPerOp)
		case len(op.Line) > maxLinePoints || len(op.Boundary) > maxLinePoints:
			return req, wangge.Invalid("operations", "operation %d draws more than %d points", i, maxLinePoints)
		}
	}
	if err := wangge.CheckText("reason", b.Reason, 0, 500); err != nil {
		return req, err
	}
	crs, err := geo.ParseCRS(b.CRS)
	if err != nil {
		return req, err
	}
	for i := range req.Ops {
		if p := geo.CheckDrawnLine(req.Ops[i].Line, false); len(req.Ops[i].Line) > 0 && p == nil {
			req.Ops[i].Line = toWGS84(crs, req.Ops[i].Line)
		}
		if p := geo.CheckDrawnLine(orb.LineString(req.Ops[i].Boundary), true); len(req.Ops[i].Boundary) > 0 && p == nil {
			req.Ops[i].Boundary = toWGS84(crs, req.Ops[i].Boundary)
		}
	}
	return req, nil
}

// toWGS84 converts a checked line (out-of-range input is left for the
// checks to refuse with its position).
func toWGS84[L ~[]orb.Point](crs geo.CRS, l L) L {
	out := make(L, len(l))
	for i, p := range l {
		out[i][0], out[i][1] = geo.ToWGS84(crs, p[0], p[1])
	}
	return out
}

func (b revertBody) check() error {
	if b.Version < 1 {
		return wangge.Invalid("version", "version (≥ 1) is required")
	}
	return wangge.CheckText("reason", b.Reason, 0, 500)
}

func planID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, wangge.Invalid("id", "%q is not a plan id", c.Param("id"))
	}
	return id, nil
}
