package api

import (
	"encoding/json"
	"testing"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// BenchmarkStreamPublish: one message fanned out to 100 clients (their
// queues drained as a writer would), the listener's share of the cost.
func BenchmarkStreamPublish(b *testing.B) {
	s := NewStream(StreamOptions{})
	subs := make([]*subscriber, 100)
	for i := range subs {
		subs[i] = &subscriber{scope: wangge.CityScope(), ch: make(chan []byte, 1024), gone: make(chan struct{})}
		s.subscribe(subs[i], -1)
	}
	data := json.RawMessage(`{"id":1,"category":"noise","status":"accepted","tier":"grid","priority":3,"source":"staff","grid_code":"500103001001001","lon":106.56,"lat":29.55,"description":"深夜施工噪音","unit_id":9001,"reported_at":"2026-11-30T12:00:00+08:00","deadline_at":"2026-12-01T12:00:00+08:00","version":1,"updated_at":"2026-11-30T12:00:00+08:00"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Publish([]postgis.StreamMessage{{Seq: int64(i + 1), Kind: "event.created", Region: "500103001001001",
			BBox: &[4]float64{106.56, 29.55, 106.56, 29.55}, Data: data}})
		if i%512 == 511 {
			for _, sub := range subs {
				for len(sub.ch) > 0 {
					<-sub.ch
				}
			}
		}
	}
}
