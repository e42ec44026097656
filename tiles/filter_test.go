package tiles

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wangge/wangge"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    Filter
		wantErr bool
	}{
		{"none", "", Filter{}, false},
		{"version only", "v=123", Filter{}, false},
		{"open expands", "status=open", Filter{Statuses: []string{"accepted", "dispatched", "on_site", "reported"}}, false},
		{"dedup and sort", "status=closed,closed,accepted&category=noise,fire_alarm",
			Filter{Statuses: []string{"accepted", "closed"}, Categories: []string{"fire_alarm", "noise"}}, false},
		{"date in Shanghai", "since=2026-11-01", Filter{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai)}, false},
		{"unknown status", "status=lost", Filter{}, true},
		{"bad category", "category=Noise!", Filter{}, true},
		{"unknown key", "limit=5", Filter{}, true},
		{"semicolon", "category=x;y", Filter{}, true},
		{"empty window", "since=2026-11-02&until=2026-11-01", Filter{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter(tt.query, true)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil {
				if d := cmp.Diff(tt.want, got, cmpopts.EquateComparable(wangge.Scope{})); d != "" {
					t.Fatalf("(-want +got):\n%s", d)
				}
			}
		})
	}
	if _, err := ParseFilter("status=open", false); err == nil {
		t.Fatal("a source without filters accepted one")
	}
}

func FuzzParseFilter(f *testing.F) {
	f.Add("status=open&category=noise&since=2026-11-01")
	f.Add("until=2026-11-01T00:00:00Z")
	f.Fuzz(func(t *testing.T, q string) {
		got, err := ParseFilter(q, true)
		if err != nil {
			return
		}
		for _, s := range got.Statuses {
			if !eventStatuses[s] {
				t.Fatalf("accepted status %q", s)
			}
		}
		for _, c := range got.Categories {
			if !categoryCode.MatchString(c) {
				t.Fatalf("accepted category %q", c)
			}
		}
	})
}
