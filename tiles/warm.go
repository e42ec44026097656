package tiles

import (
	"context"
	"time"
)

// Warm renders, one tile at a time, every tile of the named sources from
// z0 to maxZoom over the data's bounds, so the whole-city view a command
// centre opens on — the most expensive tiles to render — is served from
// memory from the first request. One worker only: requests come first.
// It returns how many tiles it rendered.
func (s *Service) Warm(ctx context.Context, sources []string, maxZoom uint32) int {
	b := s.Bounds()
	n := 0
	start := time.Now()
	for z := uint32(0); z <= maxZoom; z++ {
		r := Covering(b, z, 0)
		for x := r.X0; x <= r.X1; x++ {
			for y := r.Y0; y <= r.Y1; y++ {
				for _, name := range sources {
					src, ok := s.cat.Source(name)
					if !ok || z < src.MinZoom() {
						continue
					}
					if ctx.Err() != nil {
						return n
					}
					if _, hit, err := s.Get(ctx, src, TileID{z, x, y}, Filter{}); err == nil && !hit {
						n++
					}
				}
			}
		}
	}
	s.log.Info("tile cache warmed", "sources", sources, "max_zoom", maxZoom, "rendered", n, "duration", time.Since(start).Round(time.Millisecond))
	return n
}
