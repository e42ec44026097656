package tiles

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// gatedRenderer draws a tile whose bytes name the render, and can hold a
// render until the test lets it finish (the pure cache logic: no database
// is needed to order a render against an edit).
type gatedRenderer struct {
	calls atomic.Int64
	gate  chan struct{} // nil: no wait
}

func (r *gatedRenderer) RenderTile(ctx context.Context, _ []string, _, _, _ uint32, _ Filter) ([]byte, error) {
	n := r.calls.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	return []byte{byte(n)}, nil
}

// TestRenderBeforeEditIsNotCached: a render that began before an edit
// finishes after the edit's eviction; its tile is served to those who
// asked before the edit but never cached, and a request after the edit
// starts a render of its own instead of joining the old one.
func TestRenderBeforeEditIsNotCached(t *testing.T) {
	r := &gatedRenderer{gate: make(chan struct{})}
	s := NewService(NewCatalogue(), r, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)))
	src, _ := s.cat.Source("grids")
	tile := TileID{Z: 14, X: 13041, Y: 6783}
	ctx := context.Background()
	old := make(chan Tile, 1)
	go func() {
		tl, _, err := s.Get(ctx, src, tile, Filter{})
		if err != nil {
			t.Error(err)
		}
		old <- tl
	}()
	for r.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Changed("grids", 2, tile.Bound()) // the edit lands while the first render runs
	fresh := make(chan Tile, 1)
	go func() {
		tl, _, _ := s.Get(ctx, src, tile, Filter{})
		fresh <- tl
	}()
	for r.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(r.gate)
	<-old
	<-fresh
	r.gate = nil
	again, cached, err := s.Get(ctx, src, tile, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !cached || r.calls.Load() != 2 {
		t.Fatalf("after the edit: cached %v, %d renders; want the post-edit render cached (2 renders)", cached, r.calls.Load())
	}
	if raw, _ := Gunzip(again.Gzip); len(raw) != 1 || raw[0] != 2 {
		t.Fatalf("cached tile is render %v, want the one begun after the edit (2)", raw)
	}
}

// TestTimeDependentTilesExpire: a source with a TTL (events: overdue
// flags turn with the clock) is rendered again once it passes.
func TestTimeDependentTilesExpire(t *testing.T) {
	r := &gatedRenderer{}
	s := NewService(NewCatalogue(), r, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)))
	src, _ := s.cat.Source("events")
	if src.TTL != EventsTileTTL || src.TTL <= 0 {
		t.Fatalf("events TTL %v", src.TTL)
	}
	src.TTL = 30 * time.Millisecond
	tile := TileID{Z: 14, X: 13041, Y: 6783}
	for range 2 {
		if _, _, err := s.Get(context.Background(), src, tile, Filter{}); err != nil {
			t.Fatal(err)
		}
	}
	if r.calls.Load() != 1 {
		t.Fatalf("%d renders within the TTL, want 1", r.calls.Load())
	}
	time.Sleep(40 * time.Millisecond)
	if _, cached, _ := s.Get(context.Background(), src, tile, Filter{}); cached || r.calls.Load() != 2 {
		t.Fatalf("past the TTL: cached %v, %d renders", cached, r.calls.Load())
	}
}

// TestCacheCountsEvictionsAndInvalidations: the metrics' two reasons a
// tile leaves the cache.
func TestCacheCountsEvictionsAndInvalidations(t *testing.T) {
	c := NewCache(3 * (entryOverhead + 64))
	for i := range 5 {
		c.put(&entry{key: string(rune('a' + i)), gz: make([]byte, 60)})
	}
	if st := c.Stats(); st.Evicted == 0 || st.Entries+int(st.Evicted) != 5 {
		t.Fatalf("after 5 puts into room for ~3: %+v", st)
	}
	n := c.evict(func(*entry) bool { return true })
	if st := c.Stats(); st.Invalid != uint64(n) || st.Entries != 0 {
		t.Fatalf("after invalidating all: %+v (n %d)", st, n)
	}
}
