package wangge

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApplyLife(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s := EventState{Status: StatusAccepted, Tier: TierGrid, Deadline: at.Add(time.Hour)}
	unit, score := int64(7), int16(5)
	steps := []struct {
		step       Step
		wantStatus Status
		wantTier   Tier
	}{
		{Step{Action: ActEscalate, Actor: "system", SLA: time.Hour}, StatusAccepted, TierStreet},
		{Step{Action: ActDispatch, Actor: "street centre", UnitID: &unit}, StatusDispatched, TierStreet},
		{Step{Action: ActArrive, Actor: "unit 7"}, StatusOnSite, TierStreet},
		{Step{Action: ActResolve, Actor: "unit 7", Note: "fixed"}, StatusResolved, TierStreet},
		{Step{Action: ActClose, Actor: "street centre"}, StatusClosed, TierStreet},
		{Step{Action: ActEvaluate, Actor: "citizen", Score: &score}, StatusEvaluated, TierStreet},
		{Step{Action: ActNote, Actor: "auditor", Note: "checked"}, StatusEvaluated, TierStreet},
	}
	for i, tt := range steps {
		tt.step.At = at.Add(time.Duration(i) * time.Minute)
		next, e, err := Apply(s, tt.step)
		if err != nil {
			t.Fatalf("%s: %v", tt.step.Action, err)
		}
		if next.Status != tt.wantStatus || next.Tier != tt.wantTier {
			t.Fatalf("%s: got %s/%s; want %s/%s", tt.step.Action, next.Status, next.Tier, tt.wantStatus, tt.wantTier)
		}
		if e.From != s.Status || e.To != next.Status || e.Actor != tt.step.Actor {
			t.Errorf("%s: log entry %+v", tt.step.Action, e)
		}
		s = next
	}
	if s.Satisfaction == nil || *s.Satisfaction != 5 || s.Resolved == nil || s.Closed == nil {
		t.Errorf("final state %+v", s)
	}
}

func TestApplyRefuses(t *testing.T) {
	at := time.Now()
	bad := int16(6)
	tests := []struct {
		name    string
		state   EventState
		step    Step
		want    error
		allowed []Action
	}{
		{"close an open event", EventState{Status: StatusAccepted, Tier: TierGrid}, Step{Action: ActClose, Actor: "x"},
			ErrConflict, []Action{ActDispatch, ActResolve, ActEscalate, ActReject, ActMarkDuplicate, ActNote}},
		{"escalate at district", EventState{Status: StatusAccepted, Tier: TierDistrict}, Step{Action: ActEscalate, Actor: "x"},
			ErrConflict, []Action{ActDispatch, ActResolve, ActReject, ActMarkDuplicate, ActNote}},
		{"evaluate an open event", EventState{Status: StatusOnSite, Tier: TierGrid}, Step{Action: ActEvaluate, Actor: "x"},
			ErrConflict, []Action{ActResolve, ActEscalate, ActNote}},
		{"no actor", EventState{Status: StatusAccepted, Tier: TierGrid}, Step{Action: ActResolve}, ErrInvalid, nil},
		{"html note", EventState{Status: StatusAccepted, Tier: TierGrid}, Step{Action: ActNote, Actor: "x", Note: "<b>hi</b>"}, ErrInvalid, nil},
		{"dispatch without unit", EventState{Status: StatusAccepted, Tier: TierGrid}, Step{Action: ActDispatch, Actor: "x"}, ErrInvalid, nil},
		{"score 6", EventState{Status: StatusClosed, Tier: TierGrid}, Step{Action: ActEvaluate, Actor: "x", Score: &bad}, ErrInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.step.At = at
			_, _, err := Apply(tt.state, tt.step)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v; want %v", err, tt.want)
			}
			var te *TransitionError
			if errors.As(err, &te) {
				if diff := cmp.Diff(tt.allowed, te.Allowed); diff != "" {
					t.Errorf("allowed (-want +got)\n%s", diff)
				}
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	for _, s := range []string{"温度<5度", "a < b and c > d", "路灯不亮\n第二行", "AT&T"} {
		if err := CheckText("d", s, 1, 4000); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"<script>alert(1)</script>", "<img src=x onerror=y>", "a &lt; b", "x\x00y", "", string(make([]rune, 4001))} {
		if err := CheckText("d", s, 1, 4000); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q accepted", s)
		}
	}
}
