package geo_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wangge/wangge/geo"
)

// benchQueries: k=5 points, 70% near responders, 30% anywhere in the bbox.
func benchQueries(rs []geo.Responder, n int) []geo.Query {
	rng := rand.New(rand.NewPCG(2, 2))
	b := geo.ChongqingBBox
	qs := make([]geo.Query, n)
	for i := range qs {
		if rng.IntN(10) < 7 {
			r := rs[rng.IntN(len(rs))]
			qs[i] = geo.Query{Lon: r.Lon + rng.NormFloat64()*0.02, Lat: r.Lat + rng.NormFloat64()*0.02, K: 5}
		} else {
			qs[i] = geo.Query{Lon: b[0] + rng.Float64()*(b[2]-b[0]), Lat: b[1] + rng.Float64()*(b[3]-b[1]), K: 5}
		}
	}
	return qs
}

func BenchmarkNearest100k(b *testing.B) {
	rs := geo.SyntheticResponders(1, 100_000)
	ix := build(b, rs)
	qs := benchQueries(rs, 10_000)
	for _, v := range []struct {
		name string
		edit func(*geo.Query)
	}{
		{"k5", func(*geo.Query) {}},
		{"k5_fire", func(q *geo.Query) { q.Kinds = []geo.Kind{geo.KindFire} }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q := qs[i%len(qs)]
				v.edit(&q)
				if _, _, err := ix.Nearest(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMove100k(b *testing.B) {
	rs := geo.SyntheticResponders(1, 100_000)
	ix := build(b, rs)
	var units []geo.Responder
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			units = append(units, r)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		u := units[i%len(units)]
		if _, err := ix.Move(u.Key, u.Lon+float64(i%100)*1e-5, u.Lat, "", u.PositionAt.Add(time.Duration(i+1))); err != nil {
			b.Fatal(err)
		}
	}
}
