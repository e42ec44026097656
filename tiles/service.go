package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wangge/wangge"
)

// MaxTileBytes is the size every tile must stay under; a larger one is
// served whole (never truncated) but logged, since it means a zoom band
// carries too much.
const MaxTileBytes = 500 << 10

// Renderer draws the layers of one tile as MVT bytes (postgis satisfies it).
type Renderer interface {
	RenderTile(ctx context.Context, layers []string, z, x, y uint32, f Filter) ([]byte, error)
}

// Tile is a served tile: gzip bytes (nil when empty) and its ETag, a hash
// of the content so that an unchanged tile keeps its ETag across edits.
type Tile struct {
	Gzip  []byte
	ETag  string
	Empty bool
}

// Service renders, caches and invalidates tiles.
type Service struct {
	cat      *Catalogue
	render   Renderer
	cache    *Cache
	group    singleflight.Group
	log      *slog.Logger
	timeout  time.Duration
	mu       sync.Mutex
	versions map[string]int64 // per layer, as tile_versions holds them
	bounds   Bound
	// gens counts the invalidations each layer has seen (and flushes under
	// ""): a render that saw another count when it began is not cached,
	// since an edit may have evicted the tiles before the render stored
	// its older one.
	gens map[string]uint64
}

// SetBounds records the data's extent, which TileJSON reports.
func (s *Service) SetBounds(b Bound) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bounds = b
}

// Bounds is the data's extent (the whole world until SetBounds).
func (s *Service) Bounds() Bound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bounds
}

// NewService wires a renderer and a cache of cacheBytes.
func NewService(cat *Catalogue, r Renderer, cacheBytes int64, log *slog.Logger) *Service {
	s := &Service{cat: cat, render: r, cache: NewCache(cacheBytes), log: log, timeout: 20 * time.Second,
		versions: map[string]int64{}, bounds: Bound{-180, -85.0511, 180, 85.0511}, gens: map[string]uint64{}}
	return s
}

// Catalogue is the service's source list.
func (s *Service) Catalogue() *Catalogue { return s.cat }

// CacheStats reports the cache.
func (s *Service) CacheStats() CacheStats { return s.cache.Stats() }

// Version of a source: the sum of its layers' versions, which grows with
// every write to any of them.
func (s *Service) Version(src Source) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v int64
	for _, l := range src.Layers {
		v += s.versions[l.Name]
	}
	return v
}

// Get returns a tile from the cache, or renders it once however many
// callers ask at the same moment.
func (s *Service) Get(ctx context.Context, src Source, t TileID, f Filter) (Tile, bool, error) {
	key := cacheKey(src.Name, t, FilterKey(f))
	if e, ok := s.cache.get(key); ok {
		return Tile{Gzip: e.gz, ETag: e.etag, Empty: e.gz == nil}, true, nil
	}
	names := layerNames(src.LayersAt(t.Z))
	if len(names) == 0 {
		return Tile{Empty: true, ETag: `"empty"`}, false, nil
	}
	gen := s.generation(src)
	// Requests after an edit never join a render that began before it.
	ch := s.group.DoChan(key+"#"+strconv.FormatUint(gen, 10), func() (any, error) {
		// Detached from one caller so a closed tab does not fail the others,
		// but bounded so nothing runs forever.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		raw, err := s.render.RenderTile(rctx, names, t.Z, t.X, t.Y, f)
		if err != nil {
			return nil, fmt.Errorf("tiles: render %s: %w", key, err)
		}
		e := &entry{key: key, source: src.Name, tile: t, etag: `"empty"`}
		if src.TTL > 0 {
			e.expires = time.Now().Add(src.TTL)
		}
		if len(raw) > 0 {
			if len(raw) > MaxTileBytes {
				s.log.Warn("tile over size budget", "source", src.Name, "tile", t.String(), "bytes", len(raw))
			}
			sum := sha256.Sum256(raw)
			e.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
			if e.gz, err = gzipBytes(raw); err != nil {
				return nil, err
			}
		}
		if s.generation(src) == gen {
			s.cache.put(e)
		}
		return e, nil
	})
	select {
	case <-ctx.Done():
		return Tile{}, false, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return Tile{}, false, fmt.Errorf("%w: %w", wangge.ErrUnavailable, r.Err)
		}
		e := r.Val.(*entry)
		return Tile{Gzip: e.gz, ETag: e.etag, Empty: e.gz == nil}, false, nil
	}
}

// generation is the invalidation count of a source's layers.
func (s *Service) generation(src Source) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gens[""]
	for _, l := range src.Layers {
		g += s.gens[l.Name]
	}
	return g
}

// cacheKey is "source/z/x/y?filter", built without fmt: it is computed
// for every request, cached or not.
func cacheKey(source string, t TileID, filter string) string {
	b := make([]byte, 0, len(source)+len(filter)+24)
	b = append(b, source...)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Y), 10)
	b = append(b, '?')
	b = append(b, filter...)
	return string(b)
}

// Changed applies a write to layer inside b at the given data version: it
// evicts exactly the cached tiles, at every zoom and in every source
// carrying the layer, that the box touches, and raises the layer's version.
func (s *Service) Changed(layer string, version int64, b Bound) int {
	s.mu.Lock()
	s.versions[layer] = max(s.versions[layer], version)
	s.gens[layer]++ // before the eviction: a render finishing after it sees the change
	s.mu.Unlock()
	var ranges [MaxZoom + 1]Range
	for z := range ranges {
		ranges[z] = Covering(b, uint32(z), bufferFrac)
	}
	n := s.cache.evict(func(e *entry) bool {
		src, ok := s.cat.Source(e.source)
		return ok && carries(src, layer) && ranges[e.tile.Z].Contains(e.tile)
	})
	s.log.Debug("tiles invalidated", "layer", layer, "version", version, "evicted", n)
	return n
}

// LayerVersion is the data version of a layer the cache reflects: writes
// up to it have evicted their tiles.
func (s *Service) LayerVersion(layer string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[layer]
}

// SetVersions replaces the layers' versions (at start, and after a lost
// notification connection, with Flush).
func (s *Service) SetVersions(v map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l, n := range v {
		s.versions[l] = n
	}
}

// Flush empties the cache: after notifications may have been missed,
// nothing cached can be trusted.
func (s *Service) Flush() {
	s.mu.Lock()
	s.gens[""]++
	s.mu.Unlock()
	s.cache.evict(func(*entry) bool { return true })
}

// bufferFrac is the render buffer (64 of 4096 units) as a fraction of a tile.
const bufferFrac = 64.0 / 4096

func carries(src Source, layer string) bool {
	for _, l := range src.Layers {
		if l.Name == layer {
			return true
		}
	}
	return false
}

func layerNames(ls []Layer) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

func gzipBytes(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("tiles: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("tiles: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipWriters are reused: a flate writer carries ~1 MB of tables, whose
// allocation cost more than compressing a small tile.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// Gunzip returns the raw MVT bytes for a client that does not accept gzip.
func Gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("tiles: gunzip: %w", err)
	}
	return io.ReadAll(zr)
}
