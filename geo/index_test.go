package geo_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func unit(id int64, lon, lat float64, at time.Time) geo.Responder {
	return geo.Responder{Key: geo.Key{Class: geo.ClassUnit, ID: id}, Kind: geo.KindPatrol, Status: geo.StatusAvailable,
		Lon: lon, Lat: lat, Street: "500103001", District: "500103", PositionAt: at, StatusAt: at}
}

func TestUpsertLastWriterWins(t *testing.T) {
	tests := []struct {
		name      string
		update    geo.Responder
		wantOK    bool
		wantLon   float64
		wantState geo.Status
	}{
		{"newer applies", unit(1, 106.6, 29.6, t0.Add(time.Second)), true, 106.6, geo.StatusAvailable},
		{"same time applies (replay)", unit(1, 106.6, 29.6, t0), true, 106.6, geo.StatusAvailable},
		{"older is ignored", unit(1, 106.6, 29.6, t0.Add(-time.Second)), false, 106.5, geo.StatusAvailable},
		{"older position, newer status: status only", func() geo.Responder {
			r := unit(1, 106.6, 29.6, t0.Add(-time.Second))
			r.Status, r.StatusAt = geo.StatusEnRoute, t0.Add(time.Second)
			return r
		}(), true, 106.5, geo.StatusEnRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := build(t, []geo.Responder{unit(1, 106.5, 29.5, t0)})
			ok, err := ix.Upsert(tt.update)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("Upsert = %v, %v; want %v", ok, err, tt.wantOK)
			}
			got, _ := ix.Get(tt.update.Key)
			if got.Lon != tt.wantLon || got.Status != tt.wantState {
				t.Errorf("stored %+v; want lon %v status %v", got, tt.wantLon, tt.wantState)
			}
		})
	}
}

func TestUpsertRefusesInvalid(t *testing.T) {
	bad := []geo.Responder{
		{Key: geo.Key{Class: geo.ClassUnit, ID: 1}, Kind: geo.KindPolice, Status: geo.StatusAvailable},
		{Key: geo.Key{Class: geo.ClassPost, ID: 1}, Kind: geo.KindPolice, Status: "asleep"},
		{Key: geo.Key{Class: geo.ClassPost, ID: 1}, Kind: geo.KindPolice, Status: geo.StatusAvailable, Lon: 181},
	}
	for _, r := range bad {
		if _, err := geo.NewIndex().Upsert(r); !errors.Is(err, wangge.ErrInvalid) {
			t.Errorf("Upsert(%+v) = %v; want ErrInvalid", r, err)
		}
	}
}

func TestMoveAndSetStatus(t *testing.T) {
	ix := build(t, []geo.Responder{unit(1, 106.5, 29.5, t0)})
	k := geo.Key{Class: geo.ClassUnit, ID: 1}
	if _, err := ix.Move(geo.Key{Class: geo.ClassUnit, ID: 9}, 106, 29, "", t0); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("unknown unit: %v; want ErrNotFound", err)
	}
	if _, err := ix.Move(k, 107, 30, "", t0.Add(-time.Minute)); !errors.Is(err, wangge.ErrConflict) || !errors.Is(err, wangge.ErrStale) {
		t.Errorf("older move: %v; want ErrConflict and ErrStale", err)
	}
	if _, err := ix.Move(k, 107, 30, geo.StatusOnScene, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.SetStatus(k, geo.StatusAvailable, t0); !errors.Is(err, wangge.ErrStale) {
		t.Errorf("older status: %v; want ErrStale", err)
	}
	got, _ := ix.Get(k)
	want := unit(1, 107, 30, t0.Add(time.Minute))
	want.Status = geo.StatusOnScene
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	ms, _, _ := ix.Nearest(geo.Query{Lon: 107, Lat: 30, K: 1, Statuses: []geo.Status{geo.StatusOnScene}})
	if len(ms) != 1 || ms[0].Key != k || ms[0].DistanceM != 0 {
		t.Errorf("moved unit not found at its new place: %+v", ms)
	}
	if !ix.Remove(k) || ix.Remove(k) || ix.Len() != 0 {
		t.Error("Remove should delete once")
	}
}

// TestConcurrentMovesAndQueries runs writers and readers together (under
// -race) and checks the index still equals brute force afterwards.
func TestConcurrentMovesAndQueries(t *testing.T) {
	rs := geo.SyntheticResponders(5, 3000)
	ix := build(t, rs)
	var wg sync.WaitGroup
	final := make([]geo.Responder, len(rs))
	copy(final, rs)
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) { // each writer owns every 4th responder
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < len(rs); i += 4 {
				r := rs[i]
				r.Lon += rng.NormFloat64() * 0.01
				r.Lat += rng.NormFloat64() * 0.01
				r.PositionAt = r.PositionAt.Add(time.Second)
				if _, err := ix.Upsert(r); err != nil {
					t.Error(err)
					return
				}
				final[i] = r
			}
		}(w)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for i := 0; i < 200; i++ {
				if _, _, err := ix.Nearest(randomQuery(rng, rs)); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 300; i++ {
		q := randomQuery(rng, final)
		got, _, _ := ix.Nearest(q)
		if diff := cmp.Diff(bruteForce(final, q), keys(got)); diff != "" {
			t.Fatalf("after concurrent moves, query %+v: (-want +got)\n%s", q, diff)
		}
	}
}

func TestQueryValidate(t *testing.T) {
	tests := []struct {
		name string
		q    geo.Query
	}{
		{"k zero", geo.Query{K: 0}},
		{"k too big", geo.Query{K: 101}},
		{"unknown kind", geo.Query{K: 1, Kinds: []geo.Kind{"tank"}}},
		{"unknown status", geo.Query{K: 1, Statuses: []geo.Status{"asleep"}}},
		{"lat out of range", geo.Query{K: 1, Lat: 91}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := geo.NewIndex().Nearest(tt.q); !errors.Is(err, wangge.ErrInvalid) {
				t.Errorf("got %v; want ErrInvalid", err)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	q := geo.Query{K: 5, Kinds: []geo.Kind{geo.KindPatrol}, Statuses: []geo.Status{geo.StatusAvailable}}
	if got, want := geo.Explain(3, q), "3rd nearest by great-circle distance among available patrol units"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	for n, want := range map[int]string{1: "1st", 2: "2nd", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd"} {
		if got := geo.Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %q; want %q", n, got, want)
		}
	}
}
