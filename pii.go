package wangge

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The one PII policy (issue #14) as types: personal data read from the
// store cannot be written to an answer as it is. A Resident refuses to be
// marshalled, so a handler that forgot Redact fails with a 500 instead of
// leaking the register; a Sensitive string marshals as null until the
// policy reveals it to the caller.

// ErrUnredacted is what marshalling personal data without a view returns.
var ErrUnredacted = errors.New("personal data marshalled without redaction (use wangge.Redact)")

// Sensitive is a string only some principals may see (a grid worker's
// phone): it marshals as null unless Reveal found the permission.
type Sensitive struct {
	value string
	shown bool
}

// Conceal wraps a value read from the store; it is hidden until revealed.
func Conceal(v string) Sensitive { return Sensitive{value: v} }

// Reveal shows the value to p when the policy grants p the permission,
// and hides it otherwise (whatever it was before).
func (s Sensitive) Reveal(p Principal, perm Permission) Sensitive {
	s.shown = p.Can(perm)
	return s
}

// Shown tells whether the value will be marshalled.
func (s Sensitive) Shown() bool { return s.shown }

// Value is the value itself, for the server's own use (never an answer).
func (s Sensitive) Value() string { return s.value }

// MarshalJSON writes the value when revealed, null otherwise (and for an
// empty value: "no phone" is not a secret but null reads the same).
func (s Sensitive) MarshalJSON() ([]byte, error) {
	if !s.shown || s.value == "" {
		return []byte("null"), nil
	}
	return json.Marshal(s.value)
}

// UnmarshalJSON reads what an answer showed (clients, tests): a value
// that arrived in the clear stays shown, null stays hidden.
func (s *Sensitive) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("sensitive: %w", err)
	}
	*s = Sensitive{}
	if v != nil {
		s.value, s.shown = *v, true
	}
	return nil
}

// String never prints the value (logs, %v).
func (s Sensitive) String() string { return "[sensitive]" }

// Resident is a person of the register as the store reads it. It has no
// JSON form: Redact turns residents into what a view may show.
type Resident struct {
	ID        int64
	Name      string
	IDNumber  string
	Phone     string // "" when none
	Gender    string
	BirthDate time.Time
	Relation  string
	Tags      []string
}

// MarshalJSON refuses: a resident reaches an answer only through Redact.
func (Resident) MarshalJSON() ([]byte, error) { return nil, ErrUnredacted }

// Household is a household of a building with its residents, as stored.
type Household struct {
	ID        int64
	UnitNo    string
	Size      int
	Residents []Resident
}

// MarshalJSON refuses, as Resident does (a household holds residents).
func (Household) MarshalJSON() ([]byte, error) { return nil, ErrUnredacted }

// View is what an answer shows of residents.
type View string

const (
	// ViewFull is the grid's own worker visiting residents: names, ID
	// numbers, phones, exact ages, genders, tags, unit numbers.
	ViewFull View = "full"
	// ViewCounts is everyone else allowed to read buildings: no per-person
	// rows, only counts, age bands, tag counts and households' sizes.
	ViewCounts View = "counts"
)

// ViewOf is the view the policy grants p. The scope half (a worker sees
// only its own grid) is the store's: a building outside p's scope is not
// found.
func ViewOf(p Principal) View {
	if p.Can(PermResidentsFull) {
		return ViewFull
	}
	return ViewCounts
}

// Scan reads a text column into a Sensitive (database/sql's Scanner, which
// pgx honours): a value read from the store starts hidden, as Conceal
// makes it, so an event's reporter cannot reach an answer unrevealed.
func (s *Sensitive) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s = Conceal("")
	case string:
		*s = Conceal(v)
	case []byte:
		*s = Conceal(string(v))
	default:
		return fmt.Errorf("sensitive: cannot scan %T", src)
	}
	return nil
}
