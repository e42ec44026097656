package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api/ssetest"
	"github.com/wangge/wangge/postgis"
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
	// The street's commander reports and watches; another street's wall
	// on the same process hears nothing of it.
	token := func(name string, role wangge.Role, region string) string {
		ctx := context.Background()
		if _, err := db.CreateUser(ctx, postgis.NewUser{Name: name, Role: role, Region: region}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := db.IssueToken(ctx, wangge.CityScope(), name, time.Hour, "e2e")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	street := token("e2e-street", wangge.RoleCommander, "500103001")
	other := token("e2e-other", wangge.RoleCommander, "500103002")
	onB := ssetest.Dial(t, b+"/api/v1/stream?kinds=event", "Authorization", "Bearer "+street)
	elsewhere := ssetest.Dial(t, b+"/api/v1/stream?kinds=event", "Authorization", "Bearer "+other)

	body := `{"category":"fire_alarm","location":{"lon":106.5655,"lat":29.5545},"description":"三楼冒烟","reporter":"张三","source":"hotline_12345"}`
	start := time.Now()
	req, _ := http.NewRequest("POST", a+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+street)
	pr, err := http.DefaultClient.Do(req)
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
	m := ssetest.Wait(t, onB, time.Until(start.Add(time.Second)), func(m ssetest.Msg) bool {
		d, _ := m.Data["data"].(map[string]any)
		return m.Event == "event.created" && d["id"] == float64(ev.ID)
	})
	if d := m.Data["data"].(map[string]any); m.Data["kind"] != m.Event || d["grid_code"] != ev.GridCode {
		t.Fatalf("message %v for event %+v", m.Data, ev)
	}
	t.Logf("POST on process A → SSE on process B in %v", time.Since(start))
	select {
	case m := <-elsewhere:
		t.Errorf("another street's wall got %s %v", m.Event, m.Data)
	case <-time.After(300 * time.Millisecond):
	}
}
