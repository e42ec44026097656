package postgis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bucketOf is handling_bucket (migration 0014), 0-based.
func bucketOf(minutes float64) int {
	return min(histBuckets-1, int(math.Floor(math.Log(max(minutes, 0)+1)/math.Log(1.4))))
}

func bucketBounds(i int) (lo, hi float64) {
	return math.Pow(1.4, float64(i)) - 1, math.Pow(1.4, float64(i+1)) - 1
}

func TestHistMedian(t *testing.T) {
	last := make([]int64, histBuckets)
	last[histBuckets-1] = 3
	lastLo, _ := bucketBounds(histBuckets - 1)
	tests := []struct {
		name string
		h    []int64
		want *float64
	}{
		{"nil", nil, nil},
		{"all empty", make([]int64, histBuckets), nil},
		// One value in [0, 0.4): the middle of the bucket.
		{"one in the first bucket", hist(1), ptr(0.2)},
		// [0.4, 0.96): 0.4 + 0.5 × 0.56.
		{"one in the second", hist(0, 1), ptr(0.7)},
		// Even: the mean of the middle two, (0.2 + 0.68) / 2.
		{"two", hist(1, 1), ptr(0.4)},
		// Rank 1 of 3 in [0.96, 1.744): 0.96 + 1.5/3 × 0.784.
		{"three in one bucket", hist(0, 0, 3), ptr(1.4)},
		// The last bucket is open-ended: its lower bound.
		{"last bucket", last, ptr(math.Round(lastLo*10) / 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := histMedian(tt.h)
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("histMedian(%v) = %v; want %v", tt.h, show(got), show(tt.want))
			}
		})
	}
}

// TestHistMedianInMedianBucket: for an odd number of handling times the
// estimate lies in the bucket of the exact median (give or take the
// rounding to a tenth).
func TestHistMedianInMedianBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		n := 1 + 2*rng.IntN(50)
		ms := make([]float64, n)
		h := make([]int64, histBuckets)
		for j := range ms {
			ms[j] = math.Exp(rng.NormFloat64()*2+4) - 1 // minutes to weeks, log-normal
			h[bucketOf(ms[j])]++
		}
		slices.Sort(ms)
		b := bucketOf(ms[n/2])
		lo, hi := bucketBounds(b)
		got := histMedian(h)
		if got == nil || *got < lo-0.05 || (*got > hi+0.05 && b < histBuckets-1) {
			t.Fatalf("case %d: exact median %.2f in [%.2f, %.2f); estimate %v", i, ms[n/2], lo, hi, show(got))
		}
	}
}

// hist is a full-length histogram (as kpiSum holds) starting with counts.
func hist(counts ...int64) []int64 {
	h := make([]int64, histBuckets)
	copy(h, counts)
	return h
}

func ptr(v float64) *float64 { return &v }

func show(v *float64) any {
	if v == nil {
		return "nil"
	}
	return *v
}
