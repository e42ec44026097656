package api

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// StreamSource is where the live stream's messages come from
// (postgis.DB: LISTEN wangge_stream plus the outbox to catch up from).
type StreamSource interface {
	ListenStream(ctx context.Context, log *slog.Logger, onConnect func(), handle func([]postgis.StreamMessage))
	StreamSince(ctx context.Context, after int64, limit int) ([]postgis.StreamMessage, error)
	StreamTail(ctx context.Context, n int) ([]postgis.StreamMessage, error)
}

// StreamOptions sizes the stream; zero fields take the defaults.
type StreamOptions struct {
	Replay       int           // messages kept for Last-Event-ID replay (10,000)
	ClientBuffer int           // messages queued per client before it is cut off (1,024)
	Heartbeat    time.Duration // comment line to keep proxies and dead-peer detection going (15 s)
	WriteTimeout time.Duration // one write to a client (10 s)
	// Coalesce is how long a client's writer lets messages gather after
	// the first before it writes and flushes them together (25 ms): one
	// syscall and one wake-up per window instead of per message, which is
	// what lets 100 walls follow thousands of messages a second.
	Coalesce time.Duration
}

// Stream fans the database's stream messages out to this replica's SSE
// clients. Each message is encoded once; a client whose queue is full is
// cut off (it reconnects with Last-Event-ID and is replayed), so one slow
// wall never slows the others or the listener.
type Stream struct {
	opts StreamOptions

	mu      sync.Mutex
	ring    []frame // circular, arrival order
	head    int     // next slot to write
	full    bool
	inRing  map[int64]bool
	evicted int64 // highest seq dropped from the ring
	newest  int64 // highest seq seen
	subs    map[*subscriber]struct{}
	closed  bool

	kpiDirty map[string]bool // grid codes of events written since the last kpi.changed round
	kpiOn    bool
	onChange func()        // called for every event or grid message (nil: none)
	stop     chan struct{} // closed by Close: ends the kpi.changed pusher

	dropped atomic.Int64
}

// frame is a message ready to write, with what filters need.
type frame struct {
	seq    int64
	kind   string
	region string
	bbox   *[4]float64
	bytes  []byte
}

// NewStream makes an empty stream; Follow feeds it.
func NewStream(o StreamOptions) *Stream {
	if o.Replay <= 0 {
		o.Replay = 10_000
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = 1024
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Coalesce <= 0 {
		o.Coalesce = 25 * time.Millisecond
	}
	return &Stream{opts: o, ring: make([]frame, o.Replay), inRing: map[int64]bool{}, subs: map[*subscriber]struct{}{}}
}

// Follow loads the replay buffer, then LISTENs until ctx ends, catching up
// from the outbox after every reconnect. ready is closed once the first
// LISTEN is in place (nil: not wanted).
func (s *Stream) Follow(ctx context.Context, src StreamSource, log *slog.Logger, ready chan<- struct{}) {
	first := true
	onConnect := func() {
		if first {
			first = false
			if ms, err := src.StreamTail(ctx, s.opts.Replay); err != nil {
				log.Warn("stream replay buffer not loaded", "err", err)
			} else {
				s.Publish(ms)
			}
			if ready != nil {
				close(ready)
			}
			return
		}
		s.mu.Lock()
		after := s.newest
		s.mu.Unlock()
		ms, err := src.StreamSince(ctx, after, s.opts.Replay)
		if err != nil {
			log.Warn("stream catch-up failed", "err", err)
			return
		}
		log.Info("stream caught up after reconnect", "messages", len(ms))
		s.Publish(ms)
	}
	src.ListenStream(ctx, log, onConnect, s.Publish)
}

// Publish adds messages (duplicates by seq are ignored) and hands them to
// every matching client without blocking.
func (s *Stream) Publish(ms []postgis.StreamMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		if s.inRing[m.Seq] || m.Seq <= s.evicted {
			continue // seen already (catch-up overlapping a notification)
		}
		f := frame{seq: m.Seq, kind: m.Kind, region: m.Region, bbox: m.BBox, bytes: appendFrame(nil, &m)}
		s.push(f)
		if s.onChange != nil && (strings.HasPrefix(m.Kind, "event.") || strings.HasPrefix(m.Kind, "grid.")) {
			s.onChange()
		}
		if s.kpiOn && strings.HasPrefix(m.Kind, "event.") {
			if s.kpiDirty == nil {
				s.kpiDirty = map[string]bool{}
			}
			s.kpiDirty[m.Region] = true
		}
		for sub := range s.subs {
			if !sub.wants(&f) {
				continue
			}
			s.offer(sub, f.bytes)
		}
	}
}

// offer queues b for sub without blocking (s.mu held); a client whose
// queue is full is cut off (it reconnects and is replayed), never waited for.
func (s *Stream) offer(sub *subscriber, b []byte) {
	select {
	case sub.ch <- b:
	default:
		delete(s.subs, sub)
		close(sub.gone)
		s.dropped.Add(1)
	}
}

func (s *Stream) push(f frame) {
	if s.full {
		old := s.ring[s.head]
		delete(s.inRing, old.seq)
		s.evicted = max(s.evicted, old.seq)
	}
	s.ring[s.head] = f
	s.inRing[f.seq] = true
	s.newest = max(s.newest, f.seq)
	s.head++
	if s.head == len(s.ring) {
		s.head, s.full = 0, true
	}
}

// subscriber is one SSE client.
type subscriber struct {
	scope  wangge.Scope // the caller's jurisdiction: nothing outside it is sent
	noUnit bool         // the caller may not see live unit positions (staff.contacts)
	region string
	bbox   *[4]float64
	kinds  []string
	ch     chan []byte
	gone   chan struct{} // closed when cut off
}

func (sub *subscriber) wants(f *frame) bool {
	if !sub.scope.Covers(f.region) || sub.noUnit && strings.HasPrefix(f.kind, "unit.") {
		return false
	}
	if sub.region != "" && !strings.HasPrefix(f.region, sub.region) {
		return false
	}
	if sub.bbox != nil && f.bbox != nil {
		b, q := f.bbox, sub.bbox
		if b[2] < q[0] || b[0] > q[2] || b[3] < q[1] || b[1] > q[3] {
			return false
		}
	}
	if len(sub.kinds) > 0 {
		for _, k := range sub.kinds {
			if strings.HasPrefix(f.kind, k) {
				return true
			}
		}
		return false
	}
	return true
}

// subscribe registers sub and returns what it missed after lastID (-1: a
// fresh client, nothing to replay). resync is true when some of that was
// already dropped from the ring: the client must reload its state.
func (s *Stream) subscribe(sub *subscriber, lastID int64) (replay [][]byte, resync bool, newest int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(sub.gone)
		return nil, false, s.newest
	}
	s.subs[sub] = struct{}{}
	if lastID < 0 {
		return nil, false, s.newest
	}
	if lastID < s.evicted {
		return nil, true, s.newest
	}
	n := len(s.ring)
	start := 0
	if s.full {
		start = s.head
	} else {
		n = s.head
	}
	// Concurrent commits can number messages in one order and commit them
	// in another; every replica hears them in commit order (PostgreSQL's
	// one notification queue), which is the ring's order. So what a client
	// missed is what came after its last message in the ring, not what
	// has a higher number; a number not held falls back to the latter.
	after := -1
	if s.inRing[lastID] {
		for i := n - 1; i >= 0; i-- {
			if s.ring[(start+i)%len(s.ring)].seq == lastID {
				after = i
				break
			}
		}
	}
	for i := after + 1; i < n; i++ {
		f := &s.ring[(start+i)%len(s.ring)]
		if (after >= 0 || f.seq > lastID) && sub.wants(f) {
			replay = append(replay, f.bytes)
		}
	}
	return replay, false, s.newest
}

// Close cuts every client off (they reconnect, to another replica) and
// refuses new ones: http.Server.Shutdown would otherwise wait its whole
// grace period for streams that never end.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.stop != nil { // the pusher holds its own copy of the channel
		close(s.stop)
		s.stop = nil
	}
	for sub := range s.subs {
		delete(s.subs, sub)
		close(sub.gone)
	}
}

func (s *Stream) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	delete(s.subs, sub)
	s.mu.Unlock()
}

// Clients is the number of connected clients; Dropped how many were cut
// off for being too slow.
func (s *Stream) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Dropped counts clients cut off for being too slow.
func (s *Stream) Dropped() int64 { return s.dropped.Load() }
