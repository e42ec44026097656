package geo_test

import (
	"testing"
	"time"

	"github.com/wangge/wangge/geo"
)

func BenchmarkNearest100k(b *testing.B) {
	rs := geo.SyntheticResponders(1, 100_000)
	ix := build(b, rs)
	qs := geo.SyntheticQueries(rs, 10_000)
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
