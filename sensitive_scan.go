package wangge

import "fmt"

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
