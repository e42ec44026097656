package data

import "math/rand/v2"

// stream is a PCG generator for one purpose of one district (or one
// building…): every sub-stream derives from the seed and a key path, so
// the values never depend on the order in which work runs.
func stream(seed int64, keys ...uint64) *rand.Rand {
	h := uint64(0x9e3779b97f4a7c15)
	for _, k := range keys {
		h = splitmix(h ^ k)
	}
	return rand.New(rand.NewPCG(uint64(seed), h))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
