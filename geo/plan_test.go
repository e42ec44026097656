package geo

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge"
)

func TestCheckDrawnLine(t *testing.T) {
	tests := []struct {
		name   string
		line   orb.LineString
		closed bool
		rule   string // "" when fine
	}{
		{"straight", orb.LineString{{106.5, 29.5}, {106.6, 29.5}}, false, ""},
		{"zigzag", orb.LineString{{0, 0}, {1, 1}, {2, 0}, {3, 1}}, false, ""},
		{"double click", orb.LineString{{0, 0}, {1, 1}, {1, 1}, {2, 0}}, false, ""},
		{"bow tie", orb.LineString{{0, 0}, {2, 2}, {2, 0}, {0, 2}}, false, "self_intersection"},
		{"retraces", orb.LineString{{0, 0}, {2, 0}, {1, 0}}, false, "self_intersection"},
		{"touches itself", orb.LineString{{0, 0}, {2, 0}, {2, 2}, {1, 2}, {1, 0}}, false, "self_intersection"},
		{"one point", orb.LineString{{1, 1}, {1, 1}}, false, "shape"},
		{"latitude out of range", orb.LineString{{106.5, 29.5}, {106.6, 91}}, false, "coordinates"},
		{"swapped", orb.LineString{{29.5, 106.5}, {29.6, 106.6}}, false, "coordinates"},
		{"ring", orb.LineString{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, true, ""},
		{"open ring", orb.LineString{{0, 0}, {1, 0}, {1, 1}}, true, "shape"},
		{"figure eight", orb.LineString{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}, true, "self_intersection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := CheckDrawnLine(tt.line, tt.closed)
			switch {
			case tt.rule == "" && p != nil:
				t.Fatalf("refused: %s", p)
			case tt.rule != "" && p == nil:
				t.Fatalf("accepted, want %s", tt.rule)
			case p != nil && p.Rule != tt.rule:
				t.Fatalf("rule %s (%s), want %s", p.Rule, p, tt.rule)
			case p != nil && p.Rule == "self_intersection" && p.Near == nil:
				t.Fatalf("no location: %s", p)
			}
		})
	}
}

func TestCheckOps(t *testing.T) {
	c, err := CheckOps([]GridOp{{Kind: OpMerge, From: "500103001001002", To: "500103001001001"},
		{Kind: OpReassign, Parcels: []int64{1}, To: "500103001001001"}})
	if err != nil || c != "500103001001" {
		t.Fatalf("community %q, err %v", c, err)
	}
	bad := [][]GridOp{
		nil,
		{{Kind: "paint", Grid: "500103001001001"}},
		{{Kind: OpMerge, From: "500103001001001", To: "500103001001001"}},
		{{Kind: OpMerge, From: "500103001001001", To: "500103001002001"}},
		{{Kind: OpReassign, To: "500103001001001"}},
		{{Kind: OpSplit, Grid: "5001"}},
	}
	for i, ops := range bad {
		_, err := CheckOps(ops)
		var pe *PlanError
		if !errors.As(err, &pe) || errors.Is(err, wangge.ErrInvalid) {
			t.Errorf("case %d: err %v, want a PlanError", i, err)
		}
	}
}

func TestCheckResult(t *testing.T) {
	ok := GridResult{Code: "a", Parcels: 3, PiecesBefore: 1, PiecesAfter: 1, AreaM2: 5000, MinAreaM2: 2000, InCommunity: true}
	split := ok
	split.PiecesAfter, split.Stray = 2, orb.Point{106.58, 29.56}
	holed := ok
	holed.HolesAfter = 1
	small := ok
	small.AreaM2 = 100
	empty := ok
	empty.Parcels = 0
	multi := ok // a grid in two pieces already may stay so
	multi.PiecesBefore, multi.PiecesAfter = 2, 2
	newGrid := ok
	newGrid.PiecesBefore = 0
	tests := []struct {
		name string
		g    GridResult
		rule string
	}{
		{"fine", ok, ""}, {"split", split, "disconnected"}, {"hole", holed, "hole"}, {"small", small, "min_area"},
		{"empty", empty, "empty"}, {"already two pieces", multi, ""}, {"new", newGrid, ""},
		{"retired with parcels", GridResult{Code: "b", Retired: true, Parcels: 1}, "retired_not_empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := CheckResult([]GridResult{tt.g})
			switch {
			case tt.rule == "" && len(ps) > 0:
				t.Fatalf("refused: %v", ps)
			case tt.rule != "" && (len(ps) != 1 || ps[0].Rule != tt.rule):
				t.Fatalf("problems %v, want one %s", ps, tt.rule)
			}
		})
	}
	if got := CheckResult([]GridResult{split})[0].String(); got != "grid a would be split in 2 pieces near 106.58,29.56" {
		t.Errorf("message %q", got)
	}
}
