// Package ssetest is a Server-Sent Events client for tests of the live
// stream (GET /api/v1/stream), in this package's tests and end to end.
package ssetest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Msg is one Server-Sent Event as a client parses it; Data is its JSON.
type Msg struct {
	ID, Event string
	Data      map[string]any
}

// Dial connects to url (header: name, value pairs) and delivers each event
// on the returned channel until the test ends.
func Dial(t testing.TB, url string, header ...string) <-chan Msg {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan Msg, 1000)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var m Msg
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.Event != "" {
					out <- m
				}
				m = Msg{}
			case strings.HasPrefix(line, "id: "):
				m.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &m.Data)
			}
		}
		close(out)
	}()
	t.Cleanup(cancel)
	return out
}

// Wait returns the first message for which match is true, failing the
// test when none comes within the given time.
func Wait(t testing.TB, ch <-chan Msg, within time.Duration, match func(Msg) bool) Msg {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("stream closed")
			}
			if match(m) {
				return m
			}
		case <-deadline:
			t.Fatalf("no matching message within %v", within)
		}
	}
}
