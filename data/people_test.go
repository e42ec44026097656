package data

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge/geo"
)

func TestIDNumber(t *testing.T) {
	rng := stream(1, 2)
	birth := time.Date(1987, 3, 9, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		male bool
	}{{"man", true}, {"woman", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 1000 {
				id := idNumber(rng, "500103", birth, tt.male)
				if !geo.ValidIDNumber(id) {
					t.Fatalf("%s: bad check character", id)
				}
				if !strings.HasPrefix(id, "50010319870309") {
					t.Fatalf("%s: want region 500103 and birth date 19870309", id)
				}
				if odd := (id[16]-'0')%2 == 1; odd != tt.male {
					t.Fatalf("%s: sequence parity does not match the gender", id)
				}
			}
		})
	}
}

func TestHouseholdSizeAndTags(t *testing.T) {
	rng := stream(1, 3)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var persons, households, alone int
	for range 20_000 {
		ms := household(rng, false, now)
		households++
		persons += len(ms)
		if ms[0].Relation != "head" {
			t.Fatalf("first member is %q, want head", ms[0].Relation)
		}
		if ms[0].Tags&tagElderlyAlone != 0 {
			alone++
			if len(ms) != 1 {
				t.Fatalf("elderly_alone in a household of %d", len(ms))
			}
		}
	}
	if mean := float64(persons) / float64(households); mean < 2.5 || mean > 2.8 {
		t.Errorf("mean household size %.2f, want about 2.65", mean)
	}
	if share := float64(alone) / float64(households); share < 0.03 || share > 0.15 {
		t.Errorf("elderly living alone in %.1f%% of households, want 3–15%%", 100*share)
	}
}

func TestPhone(t *testing.T) {
	rng := stream(1, 4)
	for range 1000 {
		p := phone(rng)
		if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
			t.Fatalf("phone %q does not match 1[3-9]xxxxxxxxx", p)
		}
	}
}

func TestAppendUnitNo(t *testing.T) {
	for _, b := range []bldg{{Floors: 2, Households: 2}, {Floors: 6, Households: 24}, {Floors: 30, Households: 4000}, {Floors: 9, Households: 3}} {
		for h := range b.Households {
			want := fmt.Sprintf("%d", h+1)
			if b.Floors > 3 {
				per := max(1, b.Households/int(b.Floors))
				want = fmt.Sprintf("%d-%02d", h/per+1, h%per+1)
			}
			if got := string(appendUnitNo(nil, &b, h)); got != want {
				t.Fatalf("floors %d, households %d, flat %d: %q, want %q", b.Floors, b.Households, h, got, want)
			}
		}
	}
}
