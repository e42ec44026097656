package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the flusher writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogBufferHoldsInfoFlushesWarningsAndTheRestOnStop(t *testing.T) {
	var out syncBuffer
	buf := newLogBuffer(&out)
	log := slog.New(flushHandler{slog.NewTextHandler(buf, nil), buf}).With("replica", "a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { buf.run(ctx, time.Hour); close(done) }()

	log.Info("request", "route", "/tiles")
	if s := out.String(); s != "" {
		t.Fatalf("an info line went out before the flush interval: %q", s)
	}
	log.Warn("listen connection lost")
	s := out.String()
	if !strings.Contains(s, "msg=request") || !strings.Contains(s, "msg=\"listen connection lost\" replica=a") {
		t.Fatalf("a warning must flush itself and what came before it, got %q", s)
	}
	log.Info("stopped")
	cancel()
	<-done
	if s := out.String(); !strings.HasSuffix(s, "msg=stopped replica=a\n") {
		t.Fatalf("the last lines must go out when the server stops, got %q", s)
	}
}
