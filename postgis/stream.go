package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// StreamChannel carries the live stream's messages (migration 0010): the
// message itself, an array of a batch's messages, or a range of
// stream_outbox rows to read back.
const StreamChannel = "wangge_stream"

// StreamMessage is one message of the live stream. Seq comes from the
// database, so every replica numbers a message the same way.
type StreamMessage struct {
	Seq    int64           `json:"seq"`
	Kind   string          `json:"kind"` // event.created, event.updated, unit.changed, grid.changed
	At     time.Time       `json:"at"`
	Region string          `json:"region"` // grid code, '' when none
	BBox   *[4]float64     `json:"bbox"`   // nil: not placed
	Data   json.RawMessage `json:"data"`
}

// streamNotice is a NOTIFY payload: a message, or (From > 0) a range.
type streamNotice struct {
	StreamMessage
	From int64  `json:"from"`
	To   int64  `json:"to"`
	Tx   string `json:"tx"`
}

const streamCols = `seq, kind, at, region, bbox, data`

func scanStream(rows pgx.Rows) ([]StreamMessage, error) {
	var (
		out []StreamMessage
		m   StreamMessage
		box []float64
	)
	_, err := pgx.ForEachRow(rows, []any{&m.Seq, &m.Kind, &m.At, &m.Region, &box, &m.Data}, func() error {
		m.BBox = nil
		if len(box) == 4 {
			m.BBox = &[4]float64{box[0], box[1], box[2], box[3]}
		}
		m.Data = append(json.RawMessage(nil), m.Data...)
		out = append(out, m)
		return nil
	})
	return out, err
}

// StreamSince reads up to limit messages after seq, in seq order: what a
// replica missed while its LISTEN connection was down.
func (db *DB) StreamSince(ctx context.Context, after int64, limit int) ([]StreamMessage, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+streamCols+` FROM stream_outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream since %d: %w", after, err)
	}
	ms, err := scanStream(rows)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream since %d: %w", after, err)
	}
	return ms, nil
}

// StreamTail reads the last n messages, in seq order: a starting replica's
// replay buffer.
func (db *DB) StreamTail(ctx context.Context, n int) ([]StreamMessage, error) {
	rows, err := db.Pool.Query(ctx, `SELECT * FROM (SELECT `+streamCols+` FROM stream_outbox ORDER BY seq DESC LIMIT $1) t
		ORDER BY seq`, n)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream tail: %w", err)
	}
	ms, err := scanStream(rows)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream tail: %w", err)
	}
	return ms, nil
}

func (db *DB) streamRange(ctx context.Context, n streamNotice) ([]StreamMessage, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+streamCols+` FROM stream_outbox
		WHERE seq BETWEEN $1 AND $2 AND tx = $3::xid8 ORDER BY seq`, n.From, n.To, n.Tx)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream %d–%d: %w", n.From, n.To, err)
	}
	ms, err := scanStream(rows)
	if err != nil {
		return nil, fmt.Errorf("postgis: stream %d–%d: %w", n.From, n.To, err)
	}
	return ms, nil
}

// ListenStream follows StreamChannel (through Listen, with its reconnects)
// and hands every message to handle, in arrival order. onConnect runs each
// time LISTEN is in place, before any message: the caller catches up there
// with StreamSince.
func (db *DB) ListenStream(ctx context.Context, log *slog.Logger, onConnect func(), handle func([]StreamMessage)) {
	db.Listen(ctx, StreamChannel, log, onConnect, func(payload string) {
		if len(payload) > 0 && payload[0] == '[' { // a batch's messages
			var ms []StreamMessage
			if err := json.Unmarshal([]byte(payload), &ms); err != nil {
				log.Warn("bad stream notification", "err", err)
				return
			}
			handle(ms)
			return
		}
		var n streamNotice
		if err := json.Unmarshal([]byte(payload), &n); err != nil {
			log.Warn("bad stream notification", "err", err)
			return
		}
		if n.From == 0 {
			handle([]StreamMessage{n.StreamMessage})
			return
		}
		ms, err := db.streamRange(ctx, n)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("stream messages not read", "err", err)
			}
			return
		}
		handle(ms)
	})
}
