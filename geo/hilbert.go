package geo

// HilbertIndex is the position of lattice cell (x, y) along the Hilbert
// curve that fills a 2^order × 2^order lattice. Cells close on the curve
// are close in the plane, so cutting a Hilbert-ordered sequence into
// contiguous runs yields compact, mostly connected regions.
func HilbertIndex(order uint, x, y uint32) uint64 {
	var d uint64
	n := uint32(1) << order
	for s := n >> 1; s > 0; s >>= 1 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		// Rotate the quadrant so the sub-curve keeps its orientation.
		if ry == 0 {
			if rx == 1 {
				x = s - 1 - (x & (s - 1))
				y = s - 1 - (y & (s - 1))
			}
			x, y = y, x
		}
		x &= s - 1
		y &= s - 1
	}
	return d
}
