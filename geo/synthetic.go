package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// ChongqingBBox is the municipality's extent in WGS-84 degrees
// (west, south, east, north).
var ChongqingBBox = [4]float64{105.2, 28.1, 110.2, 32.3}

// towns are the urban centres responders cluster in: centre, spread in
// degrees and weight (share of the clustered responders).
var towns = []struct{ lon, lat, sigma, weight float64 }{
	{106.55, 29.56, 0.08, 40}, // main city
	{108.38, 30.81, 0.04, 8},  // Wanzhou
	{107.39, 29.70, 0.03, 5},  // Fuling
	{105.93, 29.36, 0.03, 5},  // Yongchuan
	{106.27, 29.97, 0.03, 4},  // Hechuan
	{106.26, 29.29, 0.03, 4},  // Jiangjin
	{108.77, 29.53, 0.02, 3},  // Qianjiang
	{109.46, 31.02, 0.02, 2},  // Fengjie
	{107.80, 30.68, 0.02, 2},  // Liangping
	{105.78, 29.71, 0.02, 2},  // Dazu
}

// kindShare is how common each kind is, roughly as in a real city: many
// grid workers, few fire stations.
var kindShare = []struct {
	kind  Kind
	share float64
}{
	{KindGridWorker, 50}, {KindPatrol, 14}, {KindCommunity, 10}, {KindPolice, 5}, {KindEngine, 5},
	{KindAmbulance, 5}, {KindMedical, 5}, {KindMicroFire, 4}, {KindFire, 2},
}

// HomeCodes is the synthetic street and district of a point: streets are
// 0.1° squares of the bbox, districts 0.5° squares, codes in the shape of
// the real ones (50 + 4 digits, + 3 digits).
func HomeCodes(lon, lat float64) (street, district string) {
	dx, dy := int((lon-100)/0.5), int((lat-25)/0.5)
	sx, sy := int((lon-100)/0.1)%5, int((lat-25)/0.1)%5
	district = fmt.Sprintf("50%02d%02d", dx%100, dy%100)
	return district + fmt.Sprintf("%03d", sx*5+sy), district
}

// SyntheticResponders is a realistic, reproducible responder set for tests
// and benchmarks: 80% clustered in towns (normal spread), 20% spread
// uniformly over the bbox (the sparse countryside), some units parked
// exactly on a post (equal distances exercise the tie-break), statuses
// mostly available. Ids are 1..n within each class.
func SyntheticResponders(seed uint64, n int) []Responder {
	rng := rand.New(rand.NewPCG(seed, 0x77616e67))
	var total float64
	for _, t := range towns {
		total += t.weight
	}
	at := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	out := make([]Responder, 0, n)
	var nPost, nUnit int64
	for len(out) < n {
		lon, lat := synthPoint(rng, total)
		kind := synthKind(rng)
		r := Responder{Kind: kind, Status: StatusAvailable, Lon: lon, Lat: lat}
		if kind.Class() == ClassPost { // fixed: no report times
			nPost++
			r.Key = Key{ClassPost, nPost}
		} else {
			nUnit++
			r.Key = Key{ClassUnit, nUnit}
			r.PositionAt = at
			r.Status = statuses[weighted(rng, []float64{70, 12, 8, 10})]
			r.StatusAt = at
			if len(out) > 0 && rng.IntN(20) == 0 { // parked on an earlier responder's spot
				p := out[rng.IntN(len(out))]
				r.Lon, r.Lat = p.Lon, p.Lat
			}
		}
		r.Street, r.District = HomeCodes(r.Lon, r.Lat)
		out = append(out, r)
	}
	return out
}

func synthPoint(rng *rand.Rand, total float64) (lon, lat float64) {
	b := ChongqingBBox
	if rng.IntN(5) == 0 {
		return b[0] + rng.Float64()*(b[2]-b[0]), b[1] + rng.Float64()*(b[3]-b[1])
	}
	x := rng.Float64() * total
	for _, t := range towns {
		if x -= t.weight; x <= 0 {
			lon = t.lon + rng.NormFloat64()*t.sigma
			lat = t.lat + rng.NormFloat64()*t.sigma
			return math.Round(lon*1e7) / 1e7, math.Round(lat*1e7) / 1e7
		}
	}
	return towns[0].lon, towns[0].lat
}

func synthKind(rng *rand.Rand) Kind {
	w := make([]float64, len(kindShare))
	for i, k := range kindShare {
		w[i] = k.share
	}
	return kindShare[weighted(rng, w)].kind
}

func weighted(rng *rand.Rand, w []float64) int {
	var t float64
	for _, x := range w {
		t += x
	}
	x := rng.Float64() * t
	for i, v := range w {
		if x -= v; x <= 0 {
			return i
		}
	}
	return len(w) - 1
}

// SyntheticQueries is n k=5 nearest-responder queries for benchmarks: 70%
// near a responder of rs (dense places), 30% anywhere in the Chongqing
// bbox (sparse places), from a fixed seed.
func SyntheticQueries(rs []Responder, n int) []Query {
	rng := rand.New(rand.NewPCG(2, 2))
	b := ChongqingBBox
	qs := make([]Query, n)
	for i := range qs {
		if rng.IntN(10) < 7 {
			r := rs[rng.IntN(len(rs))]
			qs[i] = Query{Lon: r.Lon + rng.NormFloat64()*0.02, Lat: r.Lat + rng.NormFloat64()*0.02, K: 5}
		} else {
			qs[i] = Query{Lon: b[0] + rng.Float64()*(b[2]-b[0]), Lat: b[1] + rng.Float64()*(b[3]-b[1]), K: 5}
		}
	}
	return qs
}
