package geo

// SharedEdge is the length of boundary two non-overlapping lattice
// rectangles share: positive when they meet along a side, 0 when they
// touch at a corner or not at all.
func SharedEdge(a, b LatticeRect) int64 {
	overlap := func(lo1, hi1, lo2, hi2 int64) int64 { return max(0, min(hi1, hi2)-max(lo1, lo2)) }
	switch {
	case a.X1 == b.X0 || b.X1 == a.X0:
		return overlap(a.Y0, a.Y1, b.Y0, b.Y1)
	case a.Y1 == b.Y0 || b.Y1 == a.Y0:
		return overlap(a.X0, a.X1, b.X0, b.X1)
	}
	return 0
}

// EdgeComponents labels rectangles by the pieces they form when joined
// along shared sides (not corners): comp[i] is rectangle i's piece, in
// [0, n), numbered in order of first appearance.
func EdgeComponents(rs []LatticeRect) (comp []int, n int) {
	parent := make([]int, len(rs))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if SharedEdge(rs[i], rs[j]) > 0 {
				if a, b := find(i), find(j); a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
		}
	}
	comp = make([]int, len(rs))
	label := map[int]int{}
	for i := range rs {
		r := find(i)
		l, ok := label[r]
		if !ok {
			l = len(label)
			label[r] = l
		}
		comp[i] = l
	}
	return comp, len(label)
}
