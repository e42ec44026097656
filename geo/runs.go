package geo

// CutRuns cuts a sequence with the given non-negative weights into n
// contiguous, non-empty runs of about equal total weight and returns the
// start index of each run (starts[0] == 0). It needs n <= len(weights).
// Cuts are placed greedily at the cumulative-weight quantiles, then nudged
// so that every run holds at least one item.
func CutRuns(weights []float64, n int) []int {
	if n <= 0 || n > len(weights) {
		return nil
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	starts := make([]int, n)
	cum, i := 0.0, 0
	for k := 1; k < n; k++ {
		target := total * float64(k) / float64(n)
		for i < len(weights) && cum+weights[i]/2 < target {
			cum += weights[i]
			i++
		}
		starts[k] = i
	}
	// Every run must be non-empty: push starts forward, then pull them back
	// from the end.
	for k := 1; k < n; k++ {
		if starts[k] <= starts[k-1] {
			starts[k] = starts[k-1] + 1
		}
	}
	for k := n - 1; k >= 1; k-- {
		if limit := len(weights) - (n - k); starts[k] > limit {
			starts[k] = limit
		}
		if k < n-1 && starts[k] >= starts[k+1] {
			starts[k] = starts[k+1] - 1
		}
	}
	return starts
}
