package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/wangge/wangge/postgis"
)

// The hand-assembled stream JSON is what json.Marshal gives: byte for byte
// when Data is compact (and free of the <>& json.Marshal escapes), the
// same value otherwise, always on one line.
func TestStreamJSONMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.FixedZone("CST", 8*3600))
	box := &[4]float64{106.56123, 29.55, 106.5700001, 29.6}
	cases := []postgis.StreamMessage{
		{Seq: 1, Kind: "event.created", At: at, Region: "500103001001001", BBox: box,
			Data: json.RawMessage(`{"id":1,"description":"深夜施工噪音","lon":106.56}`)},
		{Seq: 2, Kind: "grid.changed", At: at.UTC(), Region: "", Data: json.RawMessage(`{"code":"500103001001002","version":2}`)},
		{Seq: 3, Kind: "unit.changed", At: at, Region: `odd"region\<>&` + "\n", BBox: box, Data: nil},
		// As the database sends it: jsonb's text has spaces after : and ,.
		{Seq: 4, Kind: "event.updated", At: at, Region: "500103", Data: json.RawMessage(`{"id": 7, "status": "closed", "note": "a\nb <b>&amp;</b>"}`)},
		// Spread over lines: must be compacted, or the SSE data line breaks.
		{Seq: 5, Kind: "event.updated", At: at, Data: json.RawMessage("{\n  \"id\": 8,\r\n  \"tags\": [1, 2]\n}")},
	}
	for _, m := range cases {
		got := appendStreamJSON(nil, &m)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(got, "\r\n") {
			t.Errorf("seq %d: not one line: %s", m.Seq, got)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("seq %d: invalid JSON %s: %v", m.Seq, got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("seq %d:\n got %s\nwant %s", m.Seq, got, want)
		}
		if m.Seq <= 3 && !bytes.Equal(got, want) {
			t.Errorf("seq %d: not byte-identical:\n got %s\nwant %s", m.Seq, got, want)
		}
	}
	f := appendFrame(nil, &cases[0])
	if !bytes.HasPrefix(f, []byte("id: 1\nevent: event.created\ndata: {")) || !bytes.HasSuffix(f, []byte("}\n\n")) ||
		bytes.Count(f, []byte("\n")) != 4 {
		t.Errorf("frame %q", f)
	}
}
