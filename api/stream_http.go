package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
)

// streamKinds are the message kinds a client may ask for (prefixes).
var streamKinds = []string{"event", "unit", "grid", "kpi"}

// parseStreamQuery reads ?bbox=&region=&kinds=event,unit and the
// Last-Event-ID (header, or ?last_event_id= for clients that cannot set it).
func parseStreamQuery(q url.Values, lastHeader string) (*subscriber, int64, error) {
	sub := &subscriber{}
	if s := q.Get("bbox"); s != "" {
		b, err := eventBBox(s)
		if err != nil {
			return nil, 0, err
		}
		sub.bbox = &b
	}
	if s := q.Get("region"); s != "" {
		if _, ok := wangge.LevelOf(s); !ok {
			return nil, 0, wangge.Invalid("region", "%q is not a district, street, community or grid code", s)
		}
		sub.region = s
	}
	if s := q.Get("kinds"); s != "" {
		for _, k := range strings.Split(s, ",") {
			if !slices.Contains(streamKinds, k) {
				return nil, 0, wangge.Invalid("kinds", "unknown kind %q (event, unit, grid, kpi)", k)
			}
			sub.kinds = append(sub.kinds, k+".")
		}
	}
	last := int64(-1)
	if lastHeader == "" {
		lastHeader = q.Get("last_event_id")
	}
	if lastHeader != "" {
		v, err := strconv.ParseInt(lastHeader, 10, 64)
		if err != nil || v < 0 {
			return nil, 0, wangge.Invalid("Last-Event-ID", "expected a sequence number, got %q", lastHeader)
		}
		last = v
	}
	return sub, last, nil
}

func (s *Server) routeStream(st *Stream) {
	s.router.GET("/api/v1/stream", func(c *gin.Context) { serveStream(c, st, s) })
	if s.kpi != nil {
		st.startKPI(s.kpi.changed, s.log)
	}
	if v := s.versions; v != nil {
		st.mu.Lock()
		st.onChange = v.touch
		st.mu.Unlock()
	}
}

// serveStream: GET /api/v1/stream — Server-Sent Events. Each message has
// id (its sequence number), event (its kind) and data (JSON). kpi.changed
// (no id: it is this replica's, not replayed) carries the caller's
// jurisdiction's GET /api/v1/kpi answer at most once a second after its
// events change. Messages
// after Last-Event-ID are replayed, or "resync" is sent when they are no
// longer held. Comment lines keep the connection alive.
func serveStream(c *gin.Context, st *Stream, s *Server) {
	sub, last, err := parseStreamQuery(c.Request.URL.Query(), c.GetHeader("Last-Event-ID"))
	if err != nil {
		fail(c, s.log, err)
		return
	}
	// Each client hears only its jurisdiction: frames carry the region
	// (grid) they concern; a region asked for outside it is not found.
	sub.scope = scope(c)
	// unit.changed carries live unit positions: staff only (the policy's
	// staff.contacts), like the responder routes.
	sub.noUnit = !principal(c).Can(wangge.PermStaffContacts)
	if sub.region != "" && !sub.scope.Covers(sub.region) {
		fail(c, s.log, fmt.Errorf("region %s is outside your jurisdiction (%s): %w", sub.region, sub.scope, wangge.ErrNotFound))
		return
	}
	sub.ch = make(chan []byte, st.opts.ClientBuffer)
	sub.gone = make(chan struct{})
	replay, resync, newest := st.subscribe(sub, last)
	defer st.unsubscribe(sub)

	w := c.Writer
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(st.opts.WriteTimeout))
		_, err := w.Write(b)
		return err == nil
	}
	if !write([]byte("retry: 2000\n: connected\n\n")) {
		return
	}
	if resync {
		// The client's id is older than the replay buffer: it reloads its
		// state, and continues from the newest id given here.
		if !write(fmt.Appendf(nil, "id: %d\nevent: resync\ndata: {\"reason\":\"messages after %d are no longer held\",\"seq\":%d}\n\n", newest, last, newest)) {
			return
		}
	}
	for _, b := range replay {
		if !write(b) {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(st.opts.Heartbeat)
	defer beat.Stop()
	ctx := c.Request.Context()
	var out []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.gone:
			write([]byte("event: cutoff\ndata: {\"reason\":\"cut off: too slow, or the server is stopping; reconnect with Last-Event-ID\"}\n\n"))
			return
		case <-beat.C:
			if !write([]byte(": ping\n\n")) || rc.Flush() != nil {
				return
			}
		case b := <-sub.ch:
			// Sleep rather than select: senders then fill the buffered
			// channel without waking this goroutine for every message.
			// What gathered goes out in one Write (net/http passes a write
			// larger than its buffers straight to the socket: one syscall).
			time.Sleep(st.opts.Coalesce)
			out = append(out[:0], b...)
			for more := true; more; {
				select {
				case b := <-sub.ch:
					out = append(out, b...)
				default:
					more = false
				}
			}
			if !write(out) {
				return
			}
			if cap(out) > 1<<20 {
				out = nil // a burst's buffer is not kept for the life of the stream
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
