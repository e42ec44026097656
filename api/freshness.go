package api

import (
	"context"
	"fmt"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/tiles"
)

// VersionSource reads every layer's data version (postgis.DB).
type VersionSource interface {
	TileVersions(ctx context.Context) (map[string]int64, error)
}

// SeenVersions is an index that tells which data version it reflects
// (postgis.Locator).
type SeenVersions interface {
	Seen(layer string) int64
}

// Freshness makes a write read-your-writes on its own replica (DESIGN.md
// §7): after a grid edit commits, its answer waits until this replica's
// tile cache and locate index have taken the edit's notifications, so the
// next locate or tile from the same client sees it. Other replicas follow
// by NOTIFY as before.
type Freshness struct {
	Versions VersionSource
	Tiles    *tiles.Service // nil: not waited for
	Locator  SeenVersions   // nil: not waited for
	Timeout  time.Duration  // 0: 2 s
}

// Wait returns once every layer version the database holds now is
// reflected here, or fails after the timeout (the write stands; only the
// wait gave up).
func (f *Freshness) Wait(ctx context.Context) error {
	if f == nil {
		return nil
	}
	want, err := f.Versions.TileVersions(ctx)
	if err != nil {
		return err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		behind := ""
		for layer, v := range want {
			if f.Tiles != nil && f.Tiles.LayerVersion(layer) < v {
				behind = "tiles " + layer
				break
			}
		}
		if behind == "" && f.Locator != nil && f.Locator.Seen("grids") < want["grids"] {
			behind = "locate index"
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("this replica's %s is behind the database after %v: %w", behind, timeout, wangge.ErrUnavailable)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
