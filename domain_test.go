package wangge

import "testing"

func TestLevelOf(t *testing.T) {
	tests := []struct {
		name string
		code string
		want Level
		ok   bool
	}{
		{"district", "500103", LevelDistrict, true},
		{"street", "500103001", LevelStreet, true},
		{"community", "500103001003", LevelCommunity, true},
		{"grid", "500103001003004", LevelGrid, true},
		{"letters", "50010a", "", false},
		{"odd length", "5001030", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LevelOf(tt.code)
			if got != tt.want || ok != tt.ok {
				t.Errorf("LevelOf(%q) = %q, %v; want %q, %v", tt.code, got, ok, tt.want, tt.ok)
			}
			if ok && tt.want != LevelDistrict && ParentCode(tt.code) != tt.code[:len(tt.code)-3] {
				t.Errorf("ParentCode(%q) = %q", tt.code, ParentCode(tt.code))
			}
		})
	}
}
