package postgis

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable tells whether err means the database cannot be reached or
// is shutting down (not that the request was wrong): connection refused
// or lost, a pool that cannot connect, the server restarting. The API
// answers these 503 with Retry-After instead of 500; this is the one place
// that reads driver errors for it.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P01–57P03: admin shutdown, crash
		// shutdown, cannot connect now; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// A connection lost mid-query: pgx says so in words, not types.
	msg := err.Error()
	return pgconn.SafeToRetry(err) || strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "failed to receive message") || strings.Contains(msg, "connection reset")
}

// TimedOut tells whether err is a statement or request deadline: the
// work was cut off, not refused.
func TimedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014" // query_canceled: statement_timeout
}
