package tiles

import (
	"context"
	"log/slog"

	"github.com/wangge/wangge/postgis"
)

// Changes is where the service learns of writes: the database's tile
// versions and its wangge_tiles notifications (postgis satisfies it).
type Changes interface {
	TileVersions(ctx context.Context) (map[string]int64, error)
	Listen(ctx context.Context, channel string, log *slog.Logger, onConnect func(), handle func(payload string))
}

// Follow applies every tile_changed() notification until ctx ends, so each
// replica evicts what any replica (or any other writer) changed. Each time
// the notification connection is (re)established it reloads the versions
// and empties the cache, since changes made while it was down were missed.
// ready, if not nil, is closed once the first connection listens.
func (s *Service) Follow(ctx context.Context, src Changes, ready chan<- struct{}) {
	first := true
	onConnect := func() {
		v, err := src.TileVersions(ctx)
		if err != nil {
			s.log.Warn("tile versions unavailable (schema not migrated?)", "err", err)
		} else {
			s.SetVersions(v)
		}
		s.Flush()
		if first && ready != nil {
			close(ready)
		}
		first = false
	}
	src.Listen(ctx, postgis.TileChannel, s.log, onConnect, func(payload string) {
		c, err := postgis.ParseTileChange(payload)
		if err != nil {
			s.log.Warn("bad tile notification", "err", err)
			return
		}
		s.Changed(c.Layer, c.Version, Bound{MinLon: c.BBox[0], MinLat: c.BBox[1], MaxLon: c.BBox[2], MaxLat: c.BBox[3]})
	})
}
