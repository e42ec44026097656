package wangge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where an event stands in its life (DESIGN.md §1).
type Status string

const (
	StatusReported   Status = "reported"
	StatusAccepted   Status = "accepted"
	StatusDispatched Status = "dispatched"
	StatusOnSite     Status = "on_site"
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
	StatusEvaluated  Status = "evaluated"
	StatusRejected   Status = "rejected"
	StatusDuplicate  Status = "duplicate"
)

// Open tells whether the event still waits for someone: its deadline runs
// and it can be escalated.
func (s Status) Open() bool {
	return s == StatusReported || s == StatusAccepted || s == StatusDispatched || s == StatusOnSite
}

// Action is one step of the workflow, as event_log.action records it.
type Action string

const (
	ActReport        Action = "report"
	ActAccept        Action = "accept"
	ActDispatch      Action = "dispatch"
	ActArrive        Action = "arrive"
	ActResolve       Action = "resolve"
	ActClose         Action = "close"
	ActEvaluate      Action = "evaluate"
	ActEscalate      Action = "escalate"
	ActReject        Action = "reject"
	ActMarkDuplicate Action = "mark_duplicate"
	ActReopen        Action = "reopen"
	ActNote          Action = "note"
)

// transitions: from which statuses each action may start, and where it
// leads ("" keeps the status: escalate changes the tier, note nothing).
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActAccept:        {[]Status{StatusReported}, StatusAccepted},
	ActDispatch:      {[]Status{StatusAccepted, StatusDispatched}, StatusDispatched},
	ActArrive:        {[]Status{StatusDispatched}, StatusOnSite},
	ActResolve:       {[]Status{StatusAccepted, StatusDispatched, StatusOnSite}, StatusResolved},
	ActClose:         {[]Status{StatusResolved}, StatusClosed},
	ActEvaluate:      {[]Status{StatusClosed}, StatusEvaluated},
	ActEscalate:      {[]Status{StatusReported, StatusAccepted, StatusDispatched, StatusOnSite}, ""},
	ActReject:        {[]Status{StatusReported, StatusAccepted}, StatusRejected},
	ActMarkDuplicate: {[]Status{StatusReported, StatusAccepted}, StatusDuplicate},
	ActReopen:        {[]Status{StatusResolved, StatusClosed}, StatusAccepted},
	ActNote: {[]Status{StatusReported, StatusAccepted, StatusDispatched, StatusOnSite, StatusResolved,
		StatusClosed, StatusEvaluated, StatusRejected, StatusDuplicate}, ""},
}

// actionOrder fixes the order Allowed lists actions in.
var actionOrder = []Action{ActAccept, ActDispatch, ActArrive, ActResolve, ActClose, ActEvaluate, ActEscalate,
	ActReject, ActMarkDuplicate, ActReopen, ActNote}

// ParseAction reads an action a client may request ("report" is intake's).
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if _, ok := transitions[a]; !ok {
		return "", Invalid("action", "unknown action %q (one of %s)", s, strings.Join(actionNames(actionOrder), ", "))
	}
	return a, nil
}

// NextTier is the tier above t, or false at the top.
func NextTier(t Tier) (Tier, bool) {
	switch t {
	case TierGrid:
		return TierStreet, true
	case TierStreet:
		return TierDistrict, true
	}
	return t, false
}

// ParseTier reads a tier name.
func ParseTier(s string) (Tier, error) {
	switch t := Tier(s); t {
	case TierGrid, TierStreet, TierDistrict:
		return t, nil
	}
	return "", Invalid("tier", "unknown tier %q (grid, street or district)", s)
}

// Allowed lists the actions possible from status s at tier t.
func Allowed(s Status, t Tier) []Action {
	var out []Action
	for _, a := range actionOrder {
		if !slices.Contains(transitions[a].from, s) {
			continue
		}
		if _, up := NextTier(t); a == ActEscalate && !up {
			continue
		}
		out = append(out, a)
	}
	return out
}

// TransitionError is an illegal transition (ErrConflict): it names the
// actions that are possible instead, for the 409 answer.
type TransitionError struct {
	Action  Action
	Status  Status
	Tier    Tier
	Allowed []Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s an event that is %s at %s tier; allowed: %s", e.Action, e.Status, e.Tier,
		strings.Join(actionNames(e.Allowed), ", "))
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *TransitionError) Unwrap() error { return ErrConflict }

func actionNames(as []Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// EventState is the part of an event the workflow reads and changes.
type EventState struct {
	Status       Status
	Tier         Tier
	UnitID       *int64
	Deadline     time.Time
	Dispatched   *time.Time
	Resolved     *time.Time
	Closed       *time.Time
	Satisfaction *int16
	DuplicateOf  *int64
}

// Step is a requested transition.
type Step struct {
	Action      Action
	Actor       string
	Note        string
	UnitID      *int64 // dispatch: the unit sent
	Score       *int16 // evaluate: satisfaction 1–5
	DuplicateOf *int64 // mark_duplicate
	ActorTier   Tier   // the tier the actor acts for; "" when not said
	SLA         time.Duration
	At          time.Time
}

// LogEntry is one event_log row.
type LogEntry struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   Action    `json:"action"`
	From     Status    `json:"from_status,omitempty"`
	To       Status    `json:"to_status"`
	FromTier Tier      `json:"from_tier,omitempty"`
	ToTier   Tier      `json:"to_tier"`
	Note     string    `json:"note"`
}

// Apply checks step against the state and returns the new state and its
// log entry. It does no I/O: the store runs it under a row lock.
func Apply(s EventState, st Step) (EventState, LogEntry, error) {
	tr, ok := transitions[st.Action]
	if !ok {
		return s, LogEntry{}, Invalid("action", "unknown action %q", st.Action)
	}
	if err := CheckActor(st.Actor); err != nil {
		return s, LogEntry{}, err
	}
	if err := CheckText("note", st.Note, 0, 2000); err != nil {
		return s, LogEntry{}, err
	}
	if err := checkStaleActor(s, st); err != nil {
		return s, LogEntry{}, err
	}
	next := s
	if !slices.Contains(tr.from, s.Status) {
		return s, LogEntry{}, &TransitionError{Action: st.Action, Status: s.Status, Tier: s.Tier, Allowed: Allowed(s.Status, s.Tier)}
	}
	if tr.to != "" {
		next.Status = tr.to
	}
	at := st.At
	switch st.Action {
	case ActDispatch:
		if st.UnitID == nil || *st.UnitID < 1 {
			return s, LogEntry{}, Invalid("unit_id", "dispatch needs the unit_id of the unit sent")
		}
		next.UnitID, next.Dispatched = st.UnitID, &at
	case ActEscalate:
		up, ok := NextTier(s.Tier)
		if !ok {
			return s, LogEntry{}, &TransitionError{Action: st.Action, Status: s.Status, Tier: s.Tier, Allowed: Allowed(s.Status, s.Tier)}
		}
		next.Tier, next.Deadline = up, at.Add(st.SLA) // the new tier gets its own deadline
	case ActResolve:
		next.Resolved = &at
	case ActClose:
		next.Closed = &at
	case ActEvaluate:
		if st.Score == nil || *st.Score < 1 || *st.Score > 5 {
			return s, LogEntry{}, Invalid("score", "evaluate needs a satisfaction score from 1 to 5")
		}
		next.Satisfaction = st.Score
	case ActMarkDuplicate:
		if st.DuplicateOf == nil || *st.DuplicateOf < 1 {
			return s, LogEntry{}, Invalid("duplicate_of", "mark_duplicate needs the id of the original event")
		}
		next.DuplicateOf = st.DuplicateOf
	case ActReopen:
		next.Resolved, next.Closed, next.Deadline = nil, nil, at.Add(st.SLA)
	}
	e := LogEntry{At: at, Actor: st.Actor, Action: st.Action, From: s.Status, To: next.Status,
		FromTier: s.Tier, ToTier: next.Tier, Note: st.Note}
	return next, e, nil
}

// checkStaleActor refuses an actor whose view is out of date: acting for
// a tier the event has been escalated away from, or as a unit that is not
// (or no longer) the one sent.
func checkStaleActor(s EventState, st Step) error {
	if st.ActorTier != "" && st.ActorTier != s.Tier && st.Action != ActNote {
		return fmt.Errorf("the event is handled at the %s tier now, not %s (it was escalated): %w", s.Tier, st.ActorTier, ErrConflict)
	}
	if st.Action != ActDispatch && st.UnitID != nil && (s.UnitID == nil || *s.UnitID != *st.UnitID) {
		return fmt.Errorf("unit %d is not the unit assigned to the event: %w", *st.UnitID, ErrConflict)
	}
	return nil
}

// CheckActor: who acted, as event_log requires it.
func CheckActor(a string) error {
	if strings.TrimSpace(a) == "" {
		return Invalid("actor", "actor is required (who does this)")
	}
	return CheckText("actor", a, 1, 100)
}

// htmlTag finds markup: a tag, a comment or a character reference. Text
// reaches the walls and third-party (Open311) clients, some of which render
// it as HTML; a plain "<" in "温度<5度" stays allowed.
var htmlTag = regexp.MustCompile(`(?i)</?[a-z!?][^>]*>|&#?[a-z0-9]+;`)

// CheckText refuses text outside [min, max] characters, with control
// characters other than newline and tab, or with HTML markup.
func CheckText(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		if min > 0 && n == 0 {
			return Invalid(field, "%s is required", field)
		}
		return Invalid(field, "%d characters; allowed %d to %d", n, min, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return Invalid(field, "control character %U not allowed", r)
		}
	}
	if m := htmlTag.FindString(s); m != "" {
		return Invalid(field, "HTML is not allowed in text (found %q)", m)
	}
	return nil
}

// Source is the channel an event came in by.
type Source string

// Sources lists the channels events.source accepts.
var Sources = []Source{"grid_worker", "hotline_12345", "citizen_app", "sensor", "video_ai", "patrol", "staff"}

// ParseSource reads a source name.
func ParseSource(s string) (Source, error) {
	if slices.Contains(Sources, Source(s)) {
		return Source(s), nil
	}
	names := make([]string, len(Sources))
	for i, x := range Sources {
		names[i] = string(x)
	}
	return "", Invalid("source", "unknown source %q (one of %s)", s, strings.Join(names, ", "))
}

// Event is an incident as the API shows it.
type Event struct {
	ID           int64      `json:"id"`
	Category     string     `json:"category"`
	Status       Status     `json:"status"`
	Tier         Tier       `json:"tier"`
	Source       Source     `json:"source"`
	Priority     int16      `json:"priority"`
	GridCode     string     `json:"grid_code"`
	Lon          float64    `json:"lon"` // WGS-84
	Lat          float64    `json:"lat"`
	Description  string     `json:"description"`
	Address      string     `json:"address"`
	Reporter     Sensitive  `json:"reporter"` // null unless revealed (reporter.read, in scope)
	ObjectID     *int64     `json:"object_id"`
	UnitID       *int64     `json:"unit_id"`
	DuplicateOf  *int64     `json:"duplicate_of"`
	ReportedAt   time.Time  `json:"reported_at"`
	DeadlineAt   time.Time  `json:"deadline_at"`
	DispatchedAt *time.Time `json:"dispatched_at"`
	ResolvedAt   *time.Time `json:"resolved_at"`
	ClosedAt     *time.Time `json:"closed_at"`
	Satisfaction *int16     `json:"satisfaction"`
	Version      int32      `json:"version"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Log          []LogEntry `json:"log,omitempty"`
}

// State is the workflow's view of e.
func (e *Event) State() EventState {
	return EventState{Status: e.Status, Tier: e.Tier, UnitID: e.UnitID, Deadline: e.DeadlineAt,
		Dispatched: e.DispatchedAt, Resolved: e.ResolvedAt, Closed: e.ClosedAt, Satisfaction: e.Satisfaction,
		DuplicateOf: e.DuplicateOf}
}
