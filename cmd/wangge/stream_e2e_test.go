package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis/pgtest"
)

// Two `wangge serve` processes on one database, as replicas behind a load
// balancer: an event reported to A reaches a wall connected to B within a
// second, through PostgreSQL LISTEN/NOTIFY and nothing else they share.
func TestEventPostedToOneProcessStreamsFromAnother(t *testing.T) {
	db, dbURL := pgtest.New(t)
	pgtest.LoadSmallCity(t, db)
	a, _ := startServer(t, dbURL)
	b, _ := startServer(t, dbURL)

	resp, err := http.Get(b + "/api/v1/stream?kinds=event")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream on B: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	type msg struct{ event, data string }
	msgs := make(chan msg, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var m msg
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "event: "):
				m.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				m.data = strings.TrimPrefix(line, "data: ")
			case line == "" && m.event != "":
				msgs <- m
				m = msg{}
			}
		}
		close(msgs)
	}()

	body := `{"category":"fire_alarm","location":{"lon":106.5655,"lat":29.5545},"description":"三楼冒烟","reporter":"张三","source":"grid_worker"}`
	start := time.Now()
	pr, err := http.Post(a+"/api/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ID       int64  `json:"id"`
		GridCode string `json:"grid_code"`
	}
	err = json.NewDecoder(pr.Body).Decode(&ev)
	pr.Body.Close()
	if pr.StatusCode != 201 || err != nil || ev.ID == 0 {
		t.Fatalf("POST to A: %d %v %+v", pr.StatusCode, err, ev)
	}
	deadline := time.After(time.Until(start.Add(time.Second)))
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatal("stream on B ended")
			}
			var got struct {
				Kind string `json:"kind"`
				Data struct {
					ID       int64  `json:"id"`
					GridCode string `json:"grid_code"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(m.data), &got); err != nil {
				t.Fatalf("message %q: %v", m.data, err)
			}
			if m.event == "event.created" && got.Data.ID == ev.ID {
				if got.Kind != m.event || got.Data.GridCode != ev.GridCode {
					t.Fatalf("message %s for event %+v", m.data, ev)
				}
				t.Logf("POST on process A → SSE on process B in %v", time.Since(start))
				return
			}
		case <-deadline:
			t.Fatalf("event %d posted to A did not reach B's stream within 1 s", ev.ID)
		}
	}
}
