package geo

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// Grid edits (DESIGN.md §1): grids are sets of parcels, so every edit is
// a parcel reassignment, possibly after cutting parcels along a line. This
// file holds the pure half: the operations' shape checks and the rules a
// plan's result must meet. The data layer computes the geometry.

// OpKind names a grid edit.
type OpKind string

// The grid edits.
const (
	OpReassign OpKind = "reassign" // parcels → a neighbouring grid
	OpMerge    OpKind = "merge"    // grid From joins grid To
	OpSplit    OpKind = "split"    // Grid cut in two along Line
	OpDraw     OpKind = "draw"     // Grid takes the area inside Boundary
)

// MaxLinePoints bounds a drawn line or boundary.
const MaxLinePoints = 2000

// GridOp is one operation of a plan. Which fields matter depends on Kind.
type GridOp struct {
	Kind     OpKind         `json:"op"`
	Parcels  []int64        `json:"parcels,omitempty"`  // reassign
	To       string         `json:"to,omitempty"`       // reassign: target grid; merge: the grid that stays
	From     string         `json:"from,omitempty"`     // merge: the grid that is retired
	Grid     string         `json:"grid,omitempty"`     // split, draw
	Line     orb.LineString `json:"line,omitempty"`     // split
	Boundary orb.Ring       `json:"boundary,omitempty"` // draw: closed ring, the grid's new outline
}

// Grids lists the grid codes the operation names.
func (op GridOp) Grids() []string {
	var out []string
	for _, c := range []string{op.To, op.From, op.Grid} {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// Problem is one reason a plan cannot be applied, with where it is.
type Problem struct {
	Op     int        `json:"op"`             // index of the operation; -1: the plan's result
	Grid   string     `json:"grid,omitempty"` // the grid concerned
	Rule   string     `json:"rule"`           // machine-readable: disconnected, hole, empty, …
	Reason string     `json:"reason"`
	Near   *orb.Point `json:"near,omitempty"`
}

func (p Problem) String() string {
	s := p.Reason
	if p.Near != nil {
		s += " near " + FormatPoint(*p.Near)
	}
	return s
}

// PlanError refuses a plan: the API answers 422 with every problem.
type PlanError struct{ Problems []Problem }

func (e *PlanError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Refuse builds a PlanError of one problem.
func Refuse(op int, grid, rule string, near *orb.Point, format string, args ...any) *PlanError {
	return &PlanError{Problems: []Problem{{Op: op, Grid: grid, Rule: rule, Reason: fmt.Sprintf(format, args...), Near: near}}}
}

// IsGridCode tells whether s has the 15 digits of a grid code.
func IsGridCode(s string) bool {
	if len(s) != 15 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CheckOps checks the operations' shape (codes, coordinates, lines) before
// any geometry is computed, and that they all edit one community, which it
// returns.
func CheckOps(ops []GridOp) (string, error) {
	if len(ops) == 0 {
		return "", Refuse(-1, "", "empty", nil, "a plan needs at least one operation")
	}
	community := ""
	var probs []Problem
	add := func(i int, grid, rule string, near *orb.Point, format string, args ...any) {
		probs = append(probs, Problem{Op: i, Grid: grid, Rule: rule, Reason: fmt.Sprintf(format, args...), Near: near})
	}
	for i, op := range ops {
		for _, g := range op.Grids() {
			switch {
			case !IsGridCode(g):
				add(i, g, "code", nil, "operation %d: %q is not a 15-digit grid code", i, g)
			case community == "":
				community = g[:12]
			case g[:12] != community:
				add(i, g, "community", nil, "operation %d: grid %s is outside community %s (a plan edits one community)", i, g, community)
			}
		}
		switch op.Kind {
		case OpReassign:
			if len(op.Parcels) == 0 || op.To == "" {
				add(i, op.To, "shape", nil, "operation %d: reassign needs parcels and a target grid (to)", i)
			}
		case OpMerge:
			if op.From == "" || op.To == "" || op.From == op.To {
				add(i, op.From, "shape", nil, "operation %d: merge needs two different grids (from, to)", i)
			}
		case OpSplit:
			if op.Grid == "" {
				add(i, "", "shape", nil, "operation %d: split needs a grid", i)
			}
			if p := CheckDrawnLine(op.Line, false); p != nil {
				add(i, op.Grid, p.Rule, p.Near, "operation %d: %s", i, p.Reason)
			}
		case OpDraw:
			if op.Grid == "" {
				add(i, "", "shape", nil, "operation %d: draw needs a grid", i)
			}
			if p := CheckDrawnLine(orb.LineString(op.Boundary), true); p != nil {
				add(i, op.Grid, p.Rule, p.Near, "operation %d: %s", i, p.Reason)
			}
		default:
			add(i, "", "shape", nil, "operation %d: unknown op %q (reassign, merge, split, draw)", i, op.Kind)
		}
	}
	if community == "" && len(probs) == 0 {
		add(-1, "", "shape", nil, "the plan names no grid")
	}
	if len(probs) > 0 {
		return "", &PlanError{Problems: probs}
	}
	return community, nil
}

// CheckDrawnLine checks a line drawn by hand: finite WGS-84 positions, at
// least two distinct ones, no more than MaxLinePoints, and simple (it
// never crosses or retraces itself). closed: a ring, whose first and last
// positions must be equal and which needs three distinct positions.
func CheckDrawnLine(ls orb.LineString, closed bool) *Problem {
	bad := func(rule string, near *orb.Point, format string, args ...any) *Problem {
		return &Problem{Rule: rule, Reason: fmt.Sprintf(format, args...), Near: near}
	}
	if len(ls) > MaxLinePoints {
		return bad("shape", nil, "line has %d positions, at most %d", len(ls), MaxLinePoints)
	}
	for k, p := range ls {
		if err := ValidatePoint(p); err != nil {
			return bad("coordinates", nil, "position %d: %s", k, err.(*Error).Reason)
		}
	}
	pts := dedupe(ls)
	need := 2
	if closed {
		need = 4
		if len(ls) > 0 && ls[0] != ls[len(ls)-1] {
			return bad("shape", nil, "boundary ring must end where it starts")
		}
	}
	if len(pts) < need {
		return bad("shape", nil, "line needs at least %d distinct positions", need-btoi(closed))
	}
	if at, ok := selfIntersection(pts, closed); ok {
		return bad("self_intersection", &at, "line intersects itself")
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dedupe drops consecutive repeated positions (a double click).
func dedupe(ls orb.LineString) []orb.Point {
	out := make([]orb.Point, 0, len(ls))
	for _, p := range ls {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// selfIntersection finds where a polyline meets itself other than at the
// shared end of consecutive segments (and, closed, where the ring closes).
// Drawn lines are short, so all pairs are tested.
func selfIntersection(pts []orb.Point, closed bool) (orb.Point, bool) {
	n := len(pts) - 1 // segments
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m, at := intersect(pts[i], pts[i+1], pts[j], pts[j+1])
			if m == meetNone {
				continue
			}
			adjacent := j == i+1 || (closed && i == 0 && j == n-1)
			if adjacent && m == meetTouch {
				continue
			}
			return at, true
		}
	}
	return orb.Point{}, false
}

// Band is the target number of households in a grid.
type Band struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Urban and rural default bands (households per grid).
var (
	UrbanBand = Band{Min: 300, Max: 500}
	RuralBand = Band{Min: 100, Max: 300}
)

// Place says where h lies against the band: below, within or above.
func (b Band) Place(h int) string {
	switch {
	case h < b.Min:
		return "below"
	case h > b.Max:
		return "above"
	}
	return "within"
}

// GridResult is what a plan leaves of one grid it touches, measured by the
// data layer, for CheckResult.
type GridResult struct {
	Code         string
	Retired      bool // merged away: it must be left with nothing
	Parcels      int
	PiecesBefore int // 0 for a new grid
	PiecesAfter  int
	HolesBefore  int
	HolesAfter   int
	AreaM2       float64
	InCommunity  bool      // covered by its community's outline
	Stray        orb.Point // a point of the smallest piece (where a split shows)
	Hole         orb.Point // a point of a new hole
	Center       orb.Point // a point inside the grid
	MinAreaM2    float64
}

// CheckResult applies the partition rules to the grids a plan touches:
// not empty, no more pieces or holes than before (a new grid: one piece,
// no hole), at least the minimum area, inside the community.
func CheckResult(gs []GridResult) []Problem {
	var probs []Problem
	add := func(g GridResult, rule string, near orb.Point, format string, args ...any) {
		p := near
		probs = append(probs, Problem{Op: -1, Grid: g.Code, Rule: rule, Reason: fmt.Sprintf(format, args...), Near: &p})
	}
	for _, g := range gs {
		if g.Retired {
			if g.Parcels > 0 {
				add(g, "retired_not_empty", g.Center, "grid %s is merged away but still holds %d parcels", g.Code, g.Parcels)
			}
			continue
		}
		if g.Parcels == 0 {
			probs = append(probs, Problem{Op: -1, Grid: g.Code, Rule: "empty",
				Reason: fmt.Sprintf("grid %s would be left without parcels (merge it instead)", g.Code)})
			continue
		}
		maxPieces := max(g.PiecesBefore, 1)
		if g.PiecesAfter > maxPieces {
			add(g, "disconnected", g.Stray, "grid %s would be split in %d pieces", g.Code, g.PiecesAfter)
		}
		if g.HolesAfter > g.HolesBefore {
			add(g, "hole", g.Hole, "grid %s would get a hole", g.Code)
		}
		if g.AreaM2 < g.MinAreaM2 {
			add(g, "min_area", g.Center, "grid %s would cover %.0f m², under the minimum %.0f m²", g.Code, g.AreaM2, g.MinAreaM2)
		}
		if !g.InCommunity {
			add(g, "outside_community", g.Center, "grid %s would reach outside its community", g.Code)
		}
	}
	return probs
}
