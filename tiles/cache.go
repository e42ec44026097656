package tiles

import (
	"container/list"
	"sync"
	"time"
)

// entry is one cached tile: its gzip bytes (nil for an empty tile) and ETag.
type entry struct {
	key     string
	source  string
	tile    TileID
	gz      []byte
	etag    string
	size    int64
	expires time.Time // zero: until a write evicts it
}

// Cache is a bytes-bounded LRU of compressed tiles. Memory, not entry
// count, is what runs out on a map wall, so the bound is in bytes.
type Cache struct {
	mu       sync.Mutex
	max, cur int64
	ll       *list.List // front = most recently used
	items    map[string]*list.Element
	hits     uint64
	misses   uint64
	evicted  uint64 // dropped for room (the LRU's own choice)
	invalid  uint64 // dropped because a write covered them
}

// NewCache holds at most maxBytes of tiles (plus small per-entry overhead).
func NewCache(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

const entryOverhead = 128 // bytes charged per entry for key, etag and list links

func (c *Cache) get(key string) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		if e.expires.IsZero() || time.Now().Before(e.expires) {
			c.ll.MoveToFront(el)
			c.hits++
			return e, true
		}
		c.removeLocked(el) // its time-dependent attributes may have changed
	}
	c.misses++
	return nil, false
}

func (c *Cache) put(e *entry) {
	e.size = int64(len(e.gz)+len(e.key)) + entryOverhead
	if e.size > c.max {
		return // larger than the whole cache: serve it, don't keep it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.cur -= el.Value.(*entry).size
		c.ll.Remove(el)
	}
	c.items[e.key] = c.ll.PushFront(e)
	c.cur += e.size
	for c.cur > c.max {
		last := c.ll.Back()
		c.removeLocked(last)
		c.evicted++
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.cur -= e.size
}

// evict removes every entry for which drop is true and returns how many.
func (c *Cache) evict(drop func(*entry) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if drop(el.Value.(*entry)) {
			c.removeLocked(el)
			n++
		}
		el = next
	}
	c.invalid += uint64(n)
	return n
}

// CacheStats is a snapshot for /tiles and the logs.
type CacheStats struct {
	Entries  int    `json:"entries"`
	Bytes    int64  `json:"bytes"`
	MaxBytes int64  `json:"max_bytes"`
	Hits     uint64 `json:"hits"`
	Misses   uint64 `json:"misses"`
	Evicted  uint64 `json:"evicted"`     // dropped for room
	Invalid  uint64 `json:"invalidated"` // dropped by writes
}

// Stats reports the cache's size and hit counts.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.items), Bytes: c.cur, MaxBytes: c.max, Hits: c.hits, Misses: c.misses,
		Evicted: c.evicted, Invalid: c.invalid}
}
