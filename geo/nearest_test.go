package geo_test

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uber/h3-go/v4"

	"github.com/wangge/wangge/geo"
)

// bruteForce is the definition the index must meet: every responder,
// filtered, sorted by great-circle distance then key.
func bruteForce(rs []geo.Responder, q geo.Query) []geo.Key {
	type kd struct {
		k geo.Key
		d float64
	}
	before := func(a, b kd) bool { return a.d < b.d || a.d == b.d && a.k.Less(b.k) }
	var best []kd // sorted, at most q.K
	for _, r := range rs {
		if !passes(r, q) {
			continue
		}
		c := kd{r.Key, geo.DistanceM(q.Lon, q.Lat, r.Lon, r.Lat)}
		if len(best) == q.K && !before(c, best[q.K-1]) {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return before(c, best[i]) })
		best = append(best, kd{})
		copy(best[i+1:], best[i:])
		best[i] = c
		if len(best) > q.K {
			best = best[:q.K]
		}
	}
	var out []geo.Key
	for _, b := range best {
		out = append(out, b.k)
	}
	return out
}

func passes(r geo.Responder, q geo.Query) bool {
	if len(q.Kinds) > 0 && !contains(q.Kinds, r.Kind) {
		return false
	}
	if len(q.Statuses) > 0 && !contains(q.Statuses, r.Status) {
		return false
	}
	return (q.Street == "" || r.Street == q.Street) && (q.District == "" || r.District == q.District)
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func keys(ms []geo.Match) []geo.Key {
	var out []geo.Key
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

func build(t testing.TB, rs []geo.Responder) *geo.Index {
	t.Helper()
	ix := geo.NewIndex()
	for _, r := range rs {
		if _, err := ix.Upsert(r); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

// randomQuery draws points in the bbox, near towns, on its edges and well
// outside it (empty areas), k in 1..20, and a random mix of filters.
func randomQuery(rng *rand.Rand, rs []geo.Responder) geo.Query {
	b := geo.ChongqingBBox
	var q geo.Query
	switch rng.IntN(5) {
	case 0, 1: // anywhere in the bbox
		q.Lon, q.Lat = b[0]+rng.Float64()*(b[2]-b[0]), b[1]+rng.Float64()*(b[3]-b[1])
	case 2: // next to a responder (dense places)
		r := rs[rng.IntN(len(rs))]
		q.Lon, q.Lat = r.Lon+rng.NormFloat64()*0.01, r.Lat+rng.NormFloat64()*0.01
	case 3: // around the bbox, 3° of empty land on each side
		q.Lon, q.Lat = b[0]-3+rng.Float64()*(b[2]-b[0]+6), b[1]-3+rng.Float64()*(b[3]-b[1]+6)
	case 4: // exactly on a responder or on the bbox edge
		if rng.IntN(2) == 0 {
			r := rs[rng.IntN(len(rs))]
			q.Lon, q.Lat = r.Lon, r.Lat
		} else {
			q.Lon, q.Lat = b[rng.IntN(2)*2], b[1]+rng.Float64()*(b[3]-b[1])
		}
	}
	q.K = 1 + rng.IntN(20)
	kinds := []geo.Kind{geo.KindPolice, geo.KindFire, geo.KindMedical, geo.KindCommunity, geo.KindMicroFire,
		geo.KindGridWorker, geo.KindPatrol, geo.KindEngine, geo.KindAmbulance}
	statuses := []geo.Status{geo.StatusAvailable, geo.StatusEnRoute, geo.StatusOnScene, geo.StatusOffDuty}
	if rng.IntN(2) == 0 {
		for i := 0; i < 1+rng.IntN(2); i++ {
			q.Kinds = append(q.Kinds, kinds[rng.IntN(len(kinds))])
		}
	}
	if rng.IntN(3) == 0 {
		q.Statuses = append(q.Statuses, statuses[rng.IntN(len(statuses))])
	}
	switch rng.IntN(6) {
	case 0:
		q.Street, _ = geo.HomeCodes(q.Lon, q.Lat)
	case 1:
		_, q.District = geo.HomeCodes(q.Lon, q.Lat)
	}
	return q
}

// TestNearestEqualsBruteForce is the property: for thousands of random
// queries the index answers exactly what brute force answers.
func TestNearestEqualsBruteForce(t *testing.T) {
	rs := geo.SyntheticResponders(1, 8000)
	ix := build(t, rs)
	rng := rand.New(rand.NewPCG(7, 7))
	n := 3000
	if testing.Short() || raceEnabled {
		n = 1500 // the race detector slows brute force tenfold
	}
	fallbacks := 0
	for i := 0; i < n; i++ {
		q := randomQuery(rng, rs)
		got, s, err := ix.Nearest(q)
		if err != nil {
			t.Fatalf("query %d %+v: %v", i, q, err)
		}
		fallbacks += s.Fallbacks
		if diff := cmp.Diff(bruteForce(rs, q), keys(got)); diff != "" {
			t.Fatalf("query %d %+v (search %+v): (-want +got)\n%s", i, q, s, diff)
		}
		for j, m := range got {
			if m.Rank != j+1 || m.Reason == "" || m.DistanceM != geo.DistanceM(q.Lon, q.Lat, m.Lon, m.Lat) {
				t.Fatalf("query %d: match %d badly explained: %+v", i, j, m)
			}
		}
	}
	t.Logf("%d queries, %d level fallbacks", n, fallbacks)
}

// TestNearestAroundPentagon runs the property where H3 disks lose cells:
// next to a resolution-8 pentagon.
func TestNearestAroundPentagon(t *testing.T) {
	p := h3.CellToLatLng(h3.Pentagons(8)[3])
	rng := rand.New(rand.NewPCG(3, 3))
	var rs []geo.Responder
	for i := 1; i <= 300; i++ {
		rs = append(rs, geo.Responder{Key: geo.Key{Class: geo.ClassUnit, ID: int64(i)}, Kind: geo.KindPatrol,
			Status: geo.StatusAvailable, Lon: p.Lng + rng.NormFloat64()*0.05, Lat: p.Lat + rng.NormFloat64()*0.05})
	}
	ix := build(t, rs)
	for i := 0; i < 300; i++ {
		q := geo.Query{Lon: p.Lng + rng.NormFloat64()*0.05, Lat: p.Lat + rng.NormFloat64()*0.05, K: 1 + rng.IntN(20)}
		got, _, err := ix.Nearest(q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bruteForce(rs, q), keys(got)); diff != "" {
			t.Fatalf("query %+v: (-want +got)\n%s", q, diff)
		}
	}
}

func TestNearestEdgeCases(t *testing.T) {
	rs := geo.SyntheticResponders(2, 500)
	ix := build(t, rs)
	tests := []struct {
		name string
		q    geo.Query
	}{
		{"far away, other hemisphere", geo.Query{Lon: -70, Lat: -30, K: 3}},
		{"null island", geo.Query{Lon: 0, Lat: 0, K: 20}},
		{"north pole", geo.Query{Lon: 0, Lat: 90, K: 2}},
		{"antimeridian", geo.Query{Lon: 180, Lat: 10, K: 1}},
		{"filter matching nothing", geo.Query{Lon: 106.5, Lat: 29.5, K: 5, Street: "999999999"}},
		{"k above the population", geo.Query{Lon: 106.5, Lat: 29.5, K: 100, Kinds: []geo.Kind{geo.KindFire}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := ix.Nearest(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(bruteForce(rs, tt.q), keys(got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	t.Run("empty index", func(t *testing.T) {
		got, _, err := geo.NewIndex().Nearest(geo.Query{Lon: 106.5, Lat: 29.5, K: 5})
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want nothing", got, err)
		}
	})
}
