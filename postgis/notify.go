package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// TileChannel carries tile_changed() notifications (migration 0007).
const TileChannel = "wangge_tiles"

// TileChange is one write to a tile layer, as tile_changed() announces it.
type TileChange struct {
	Layer   string     `json:"layer"`
	Version int64      `json:"version"`
	BBox    [4]float64 `json:"bbox"` // min lon, min lat, max lon, max lat
}

// ParseTileChange decodes a wangge_tiles payload.
func ParseTileChange(payload string) (TileChange, error) {
	var c TileChange
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		return c, fmt.Errorf("postgis: tile change %q: %w", payload, err)
	}
	return c, nil
}

// TileVersions reads every layer's data version.
func (db *DB) TileVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT layer, version FROM tile_versions`)
	if err != nil {
		return nil, fmt.Errorf("postgis: tile versions: %w", err)
	}
	out := map[string]int64{}
	var (
		l string
		v int64
	)
	_, err = pgx.ForEachRow(rows, []any{&l, &v}, func() error { out[l] = v; return nil })
	if err != nil {
		return nil, fmt.Errorf("postgis: tile versions: %w", err)
	}
	return out, nil
}

// TileChanged records a write to layer inside the lon/lat box, in tx when
// given (the notification then leaves only if the transaction commits).
func (db *DB) TileChanged(ctx context.Context, tx pgx.Tx, layer string, minLon, minLat, maxLon, maxLat float64) error {
	q := `SELECT tile_changed($1, ST_MakeEnvelope($2, $3, $4, $5, 4326))`
	var err error
	if tx != nil {
		_, err = tx.Exec(ctx, q, layer, minLon, minLat, maxLon, maxLat)
	} else {
		_, err = db.Pool.Exec(ctx, q, layer, minLon, minLat, maxLon, maxLat)
	}
	if err != nil {
		return fmt.Errorf("postgis: tile changed %s: %w", layer, err)
	}
	return nil
}

// Listen holds one connection LISTENing on channel and hands every payload
// to handle, in order, until ctx ends. A lost connection is re-established
// with backoff. onConnect runs each time LISTEN is in place (first time
// included): notifications sent while disconnected are lost, so that is
// where the caller loads the state it then keeps current.
func (db *DB) Listen(ctx context.Context, channel string, log *slog.Logger, onConnect func(), handle func(payload string)) {
	db.listen(ctx, channel, log, func() error {
		if onConnect != nil {
			onConnect()
		}
		return nil
	}, handle)
}

// listen is Listen whose onConnect may fail: the connection is then dropped
// and tried again after the backoff, so state that could not be loaded is
// loaded on the next connection rather than left stale.
func (db *DB) listen(ctx context.Context, channel string, log *slog.Logger, onConnect func() error, handle func(payload string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, func() error {
			if err := onConnect(); err != nil {
				return err
			}
			backoff = 100 * time.Millisecond
			return nil
		}, handle)
		if ctx.Err() != nil {
			return
		}
		db.reconnects.Add(1)
		log.Warn("listen connection lost; reconnecting", "channel", channel, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, ready func() error, handle func(string)) error {
	pooled, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgis: listen: acquire: %w", err)
	}
	// The connection carries LISTEN state: take it out of the pool for good.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgis: listen %s: %w", channel, err)
	}
	if err := ready(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgis: wait for %s: %w", channel, err)
		}
		handle(n.Payload)
	}
}
