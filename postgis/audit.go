package postgis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// AuditRecord is one row of audit_log: who did what to what, and how it
// ended.
type AuditRecord struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Action    string    `json:"action"` // a permission and route, e.g. "events.handle POST /api/v1/events/:id/transitions"
	Target    string    `json:"target"` // what it touched, e.g. "event 42", "building 101"
	RequestID string    `json:"request_id"`
	Client    string    `json:"client"`
	Outcome   string    `json:"outcome"` // the HTTP status, or "ok"/"refused" from the CLI
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// auditHash chains a row to the one before: SHA-256 over the previous hash
// and every field, separated by a unit separator no field can hold after
// cleaning. Times are taken at microsecond precision, as stored.
func auditHash(prev string, r AuditRecord) string {
	h := sha256.New()
	for _, s := range []string{prev, strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Role,
		r.Action, r.Target, r.RequestID, r.Client, r.Outcome} {
		h.Write([]byte(s))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cleanAuditField keeps a field printable and bounded (targets and actors
// can come from requests).
func cleanAuditField(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// AuditWriter appends to the audit log with group commit: concurrent
// requests share one transaction, and each caller returns only once its row
// is committed (the audit is synchronous: no answer leaves unrecorded).
type AuditWriter struct {
	db  *DB
	log *slog.Logger
	in  chan auditReq
}

type auditReq struct {
	rec  AuditRecord
	done chan error
}

// NewAuditWriter makes the writer; Run must be going for Append to return.
func (db *DB) NewAuditWriter(log *slog.Logger) *AuditWriter {
	return &AuditWriter{db: db, log: log, in: make(chan auditReq, 1024)}
}

// Append records r and waits for its commit (or ctx).
func (w *AuditWriter) Append(ctx context.Context, r AuditRecord) error {
	req := auditReq{rec: r, done: make(chan error, 1)}
	select {
	case w.in <- req:
	case <-ctx.Done():
		return fmt.Errorf("postgis: audit: %w", ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The row may still commit; the caller must not answer as if it had.
		return fmt.Errorf("postgis: audit: %w", ctx.Err())
	}
}

// Run writes batches until ctx ends, then answers what is queued.
func (w *AuditWriter) Run(ctx context.Context) {
	const maxBatch = 512
	for {
		var first auditReq
		select {
		case first = <-w.in:
		case <-ctx.Done():
			w.drain(fmt.Errorf("postgis: audit writer stopped: %w", wangge.ErrUnavailable))
			return
		}
		batch := []auditReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-w.in:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		err := w.db.appendAudit(context.WithoutCancel(ctx), batch)
		if err != nil {
			w.log.Error("audit rows not written", "n", len(batch), "err", err)
			err = fmt.Errorf("postgis: audit: %w", wangge.ErrUnavailable)
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (w *AuditWriter) drain(err error) {
	for {
		select {
		case r := <-w.in:
			r.done <- err
		default:
			return
		}
	}
}

// appendAudit writes a batch under the head row's lock, so ids stay
// consecutive and each hash chains to the last committed one.
func (db *DB) appendAudit(ctx context.Context, batch []auditReq) error {
	recs := make([]AuditRecord, len(batch))
	for i, r := range batch {
		recs[i] = r.rec
	}
	return AppendAudit(ctx, db, recs)
}

// AppendAudit writes records in one transaction (the CLI's own actions
// use it directly).
func AppendAudit(ctx context.Context, db *DB, recs []AuditRecord) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			last int64
			prev string
		)
		if err := tx.QueryRow(ctx, `SELECT last_id, hash FROM audit_head FOR UPDATE`).Scan(&last, &prev); err != nil {
			return fmt.Errorf("postgis: audit head: %w", err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		rows := make([][]any, len(recs))
		for i, r := range recs {
			last++
			r.ID, r.At = last, now
			r.Actor, r.Role = cleanAuditField(r.Actor, 100), cleanAuditField(r.Role, 32)
			r.Action, r.Target = cleanAuditField(r.Action, 200), cleanAuditField(r.Target, 200)
			r.RequestID, r.Client, r.Outcome = cleanAuditField(r.RequestID, 64), cleanAuditField(r.Client, 64), cleanAuditField(r.Outcome, 32)
			r.PrevHash = prev
			r.Hash = auditHash(prev, r)
			prev = r.Hash
			rows[i] = []any{r.ID, r.At, r.Actor, r.Role, r.Action, r.Target, r.RequestID, r.Client, r.Outcome, r.PrevHash, r.Hash}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_log"}, []string{"id", "at", "actor", "role", "action", "target",
			"request_id", "client", "outcome", "prev_hash", "hash"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("postgis: audit rows: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET last_id = $1, hash = $2`, last, prev); err != nil {
			return fmt.Errorf("postgis: audit head: %w", err)
		}
		return nil
	})
}

// AuditQuery filters the audit log; zero fields do not filter except
// Scope: an auditor of a region reads the rows of the accounts of that
// region (logins included), a city auditor every row.
type AuditQuery struct {
	Scope                 wangge.Scope
	Actor, Target, Action string // Action matches as a prefix ("events.handle")
	Since, Until          time.Time
	Before                int64 // keyset: rows with id < Before (0: from the newest)
	Limit                 int
}

// AuditLog reads the log newest first, by keyset on id.
func (db *DB) AuditLog(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	var since, until *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	if !q.Until.IsZero() {
		until = &q.Until
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, at, actor, role, action, target, request_id, client, outcome, prev_hash, hash
		FROM audit_log
		WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR target = $2) AND ($3 = '' OR starts_with(action, $3))
		  AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
		  AND ($6 = 0 OR id < $6)
		  AND ($8 OR actor IN (SELECT name FROM users WHERE region LIKE $9)
		            OR actor IN (SELECT 'login:' || name FROM users WHERE region LIKE $9))
		ORDER BY id DESC LIMIT $7`, q.Actor, q.Target, q.Action, since, until, q.Before, q.Limit, q.Scope.City(), q.Scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("postgis: audit log: %w", err)
	}
	return out, nil
}

func scanAudit(r pgx.CollectableRow) (AuditRecord, error) {
	var a AuditRecord
	err := r.Scan(&a.ID, &a.At, &a.Actor, &a.Role, &a.Action, &a.Target, &a.RequestID, &a.Client, &a.Outcome, &a.PrevHash, &a.Hash)
	return a, err
}

// AuditBreak says where the chain is broken.
type AuditBreak struct {
	ID     int64
	Reason string
}

func (b *AuditBreak) Error() string { return fmt.Sprintf("audit row %d: %s", b.ID, b.Reason) }

// VerifyAudit recomputes the chain from the first row to the head: a
// changed row, a removed or inserted one, or a removed tail is a break.
// It reads in one repeatable-read snapshot, so writers may go on.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	var n int64
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var (
			headID   int64
			headHash string
		)
		if err := tx.QueryRow(ctx, `SELECT last_id, hash FROM audit_head`).Scan(&headID, &headHash); err != nil {
			return fmt.Errorf("postgis: audit head: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT id, at, actor, role, action, target, request_id, client, outcome, prev_hash, hash
			FROM audit_log ORDER BY id`)
		if err != nil {
			return fmt.Errorf("postgis: audit verify: %w", err)
		}
		defer rows.Close()
		prev := strings.Repeat("0", 64)
		for rows.Next() {
			a, err := scanAudit(rows)
			if err != nil {
				return fmt.Errorf("postgis: audit verify: %w", err)
			}
			n++
			switch {
			case a.ID != n:
				return &AuditBreak{ID: a.ID, Reason: fmt.Sprintf("expected row %d here: rows removed or inserted", n)}
			case a.PrevHash != prev:
				return &AuditBreak{ID: a.ID, Reason: "does not chain to the row before"}
			case auditHash(prev, a) != a.Hash:
				return &AuditBreak{ID: a.ID, Reason: "its fields do not match its hash: the row was changed"}
			}
			prev = a.Hash
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgis: audit verify: %w", err)
		}
		if n != headID || prev != headHash {
			return &AuditBreak{ID: n, Reason: fmt.Sprintf("the log ends at row %d but the head says %d: rows removed at the end", n, headID)}
		}
		return nil
	})
	return n, err
}
