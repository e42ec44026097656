package wangge

import (
	"errors"
	"fmt"
)

// Sentinel errors. Lower layers wrap them with context ("postgis: grid
// %s: %w"); api/errors.go alone maps them to HTTP status codes.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid input")
	ErrConflict    = errors.New("conflict")
	ErrStale       = errors.New("stale version")
	ErrUnavailable = errors.New("unavailable")
	ErrForbidden   = errors.New("forbidden")
)

// InputError is an ErrInvalid that names the offending field, so that the
// API can answer with a precise reason.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true for every InputError.
func (e *InputError) Unwrap() error { return ErrInvalid }

// Invalid builds an InputError.
func Invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
