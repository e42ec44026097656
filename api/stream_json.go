package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wangge/wangge/postgis"
)

// appendFrame appends m as one SSE frame (id, event, data lines). The
// JSON is assembled by hand: the listener encodes every message of the
// city once per replica, and json.Marshal spent most of that on
// reflection and on re-validating Data, which the listener's decoder has
// validated already.
func appendFrame(b []byte, m *postgis.StreamMessage) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, "\nevent: "...)
	b = append(b, m.Kind...) // a fixed vocabulary (event.created, …): no newlines
	b = append(b, "\ndata: "...)
	b = appendStreamJSON(b, m)
	return append(b, "\n\n"...)
}

// appendStreamJSON appends m as json.Marshal would encode it (same keys,
// same values), on one line as an SSE data field requires.
func appendStreamJSON(b []byte, m *postgis.StreamMessage) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, m.Kind)
	b = append(b, `,"at":"`...)
	b = m.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","region":`...)
	b = appendJSONString(b, m.Region)
	b = append(b, `,"bbox":`...)
	if m.BBox == nil {
		b = append(b, "null"...)
	} else {
		for i, v := range m.BBox {
			b = append(b, "[,"[min(i, 1)])
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		}
		b = append(b, ']')
	}
	b = append(b, `,"data":`...)
	switch {
	case len(m.Data) == 0:
		b = append(b, "null"...)
	case bytes.ContainsAny(m.Data, "\r\n"):
		// Valid JSON spread over lines (not what the database sends):
		// compacted, or a data line would end inside it.
		var buf bytes.Buffer
		if json.Compact(&buf, m.Data) != nil {
			b = append(b, "null"...)
		} else {
			b = append(b, buf.Bytes()...)
		}
	default:
		b = append(b, m.Data...)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string; plain ASCII (codes, kinds)
// is copied, anything else goes through encoding/json's escaping.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			js, _ := json.Marshal(s)
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
