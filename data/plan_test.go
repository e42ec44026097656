package data

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge/geo"
)

func loadAll(t testing.TB) ([]*district, []river) {
	t.Helper()
	ds, err := loadDistricts()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := loadRivers()
	if err != nil {
		t.Fatal(err)
	}
	return ds, rs
}

func TestLoadDistricts(t *testing.T) {
	ds, rs := loadAll(t)
	var streets, comms int
	for _, d := range ds {
		streets += len(d.Streets)
		for _, s := range d.Streets {
			comms += len(s.Communities)
		}
	}
	got := []int{len(ds), streets, comms}
	if diff := cmp.Diff([]int{38, 1031, 11270}, got); diff != "" {
		t.Errorf("districts, streets, communities (-want +got):\n%s", diff)
	}
	if len(rs) == 0 {
		t.Error("no level 1–2 rivers loaded")
	}
}

// The household bands hold on the plan (rows are thinned by Scale, the
// plan is not): at least 90% of urban grids (99.5% city-wide) hold 300–500 households and
// at least 85% of rural grids 80–250; a few communities are too small for
// one grid in the band.
func TestPlanHouseholdBands(t *testing.T) {
	ds, rs := loadAll(t)
	tests := []struct {
		name, code string
	}{
		{"Yuzhong, the dense core", "500103"},
		{"Shapingba, core with suburbs", "500106"},
		{"Chengkou, a mountain county", "500229"},
		{"Youyang, a large rural county", "500242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := find(t, ds, tt.code)
			p, err := newPlan(d, rs, 1)
			if err != nil {
				t.Fatal(err)
			}
			var urban, urbanIn, rural, ruralIn int
			for _, g := range p.Grids {
				in := g.HH >= g.Lo && g.HH <= g.Hi
				if g.Urban {
					urban++
					if in {
						urbanIn++
					}
				} else {
					rural++
					if in {
						ruralIn++
					}
				}
				if n := g.End - g.First; n < 1 {
					t.Errorf("grid %s has no parcels", g.Code)
				}
			}
			if urban > 0 && float64(urbanIn) < 0.90*float64(urban) {
				t.Errorf("urban grids in 300–500 households: %d of %d, want ≥ 90%%", urbanIn, urban)
			}
			if rural > 0 && float64(ruralIn) < 0.85*float64(rural) {
				t.Errorf("rural grids in 80–250 households: %d of %d, want ≥ 85%%", ruralIn, rural)
			}
			if tt.code == "500103" && urban != len(p.Grids) {
				t.Errorf("Yuzhong: %d of %d grids urban, want all", urban, len(p.Grids))
			}
			t.Logf("%s: %d grids (%d urban, %d in band; %d rural, %d in band), %d parcels",
				d.Name, len(p.Grids), urban, urbanIn, rural, ruralIn, len(p.Leaves))
		})
	}
}

func find(t testing.TB, ds []*district, code string) *district {
	t.Helper()
	for _, d := range ds {
		if d.Code == code {
			return d
		}
	}
	t.Fatalf("district %s not found", code)
	return nil
}

// Same seed, same plan: the partition is a pure function of the seed.
func TestPlanDeterministic(t *testing.T) {
	ds, rs := loadAll(t)
	d := find(t, ds, "500103")
	a, err := newPlan(d, rs, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newPlan(d, rs, 42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.Leaves, b.Leaves); diff != "" {
		t.Errorf("leaves differ between two plans of one seed (-a +b):\n%s", diff)
	}
	if len(a.Grids) != len(b.Grids) {
		t.Fatalf("grids: %d and %d", len(a.Grids), len(b.Grids))
	}
	for i := range a.Grids {
		if a.Grids[i].Code != b.Grids[i].Code || a.Grids[i].First != b.Grids[i].First {
			t.Fatalf("grid %d differs: %s@%d vs %s@%d", i, a.Grids[i].Code, a.Grids[i].First, b.Grids[i].Code, b.Grids[i].First)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	ds, rs := loadAll(b)
	d := find(b, ds, "500106")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newPlan(d, rs, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// After mendGrids, a grid in pieces (at the leaf level, before any
// clipping) has no piece beside its largest that touches another grid of
// its community: there was nowhere to give it. Leaves lie grid by grid
// and every leaf's Grid is the grid whose run holds it.
func TestPlanGridsInOnePiece(t *testing.T) {
	ds, rs := loadAll(t)
	for _, code := range []string{"500103", "500106", "500229"} {
		p, err := newPlan(find(t, ds, code), rs, 1)
		if err != nil {
			t.Fatal(err)
		}
		rects := make([]geo.LatticeRect, len(p.Leaves))
		for i, l := range p.Leaves {
			rects[i] = p.Q.Lattice(l.C)
		}
		pieces := 0
		for gi, g := range p.Grids {
			for j := g.First; j < g.End; j++ {
				if p.Leaves[j].Grid != int32(gi) {
					t.Fatalf("%s: leaf %d in the run of grid %s says grid %d", code, j, g.Code, p.Leaves[j].Grid)
				}
			}
			comp, n, keep := p.pieces(&g, rects)
			if n == 1 {
				continue
			}
			pieces++
			for k, c := range comp {
				if c == keep {
					continue
				}
				for oi, o := range p.Grids {
					if oi == gi || o.Community != g.Community {
						continue
					}
					for j := o.First; j < o.End; j++ {
						if geo.SharedEdge(rects[g.First+k], rects[j]) > 0 {
							t.Fatalf("%s: a piece of grid %s touches grid %s of its community", code, g.Code, o.Code)
						}
					}
				}
			}
		}
		t.Logf("%s: %d grids, %d still in pieces (no grid of the community beside them)", code, len(p.Grids), pieces)
	}
}
