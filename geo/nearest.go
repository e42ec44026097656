package geo

import (
	"fmt"
	"slices"

	"github.com/uber/h3-go/v4"

	"github.com/wangge/wangge"
)

// MaxK is the largest k a query may ask for.
const MaxK = 100

// Query asks for the K responders nearest to (Lon, Lat) that pass every
// filter. Empty Kinds or Statuses mean any; a non-empty Street or District
// keeps only responders whose home code equals it.
type Query struct {
	Lon, Lat float64
	K        int
	Kinds    []Kind
	Statuses []Status
	Street   string
	District string
}

// Validate checks the query's ranges and names.
func (q Query) Validate() error {
	if q.K < 1 || q.K > MaxK {
		return wangge.Invalid("k", "k must be between 1 and %d, got %d", MaxK, q.K)
	}
	for _, k := range q.Kinds {
		if _, err := ParseKind(string(k)); err != nil {
			return err
		}
	}
	for _, s := range q.Statuses {
		if _, err := ParseStatus(string(s)); err != nil {
			return err
		}
	}
	return CheckLonLat(q.Lon, q.Lat)
}

// filter is a Query compiled to bit masks.
type filter struct {
	kinds    [numKinds]bool
	statuses uint8 // bit per status index
	street   string
	district string
}

func compile(q Query) filter {
	var f filter
	for _, k := range q.Kinds {
		f.kinds[kindIndex(k)] = true
	}
	if len(q.Kinds) == 0 {
		for i := range f.kinds {
			f.kinds[i] = true
		}
	}
	for _, s := range q.Statuses {
		f.statuses |= 1 << statusIndex(s)
	}
	if len(q.Statuses) == 0 {
		f.statuses = 0xff
	}
	f.street, f.district = q.Street, q.District
	return f
}

func (f *filter) pass(e *entry) bool {
	return f.statuses&(1<<e.status) != 0 &&
		(f.street == "" || e.r.Street == f.street) &&
		(f.district == "" || e.r.District == f.district)
}

// Match is one answer, explaining itself: its rank, distance, the H3 cell
// (at the resolution of the level that answered) and the ring of that cell
// around the query's cell.
type Match struct {
	Responder
	Rank      int     // 1-based
	DistanceM float64 // great-circle, metres
	Cell      h3.Cell
	Ring      int
	Reason    string
}

// Search tells how an answer was found and why it is exact.
type Search struct {
	Res       int    // H3 resolution of the level that answered
	Rings     int    // rings scanned at that level (0 = only the query's cell)
	Cells     int    // cells scanned over all levels tried
	Examined  int    // entries whose distance was computed
	Fallbacks int    // levels abandoned for a coarser one
	Stop      string // why the search could stop
}

// Nearest returns the q.K responders nearest to the query point that pass
// its filters, by great-circle distance, ties by Key (fewer when fewer
// pass). The answer is exact: see walk for the stopping rule.
func (ix *Index) Nearest(q Query) ([]Match, Search, error) {
	if err := q.Validate(); err != nil {
		return nil, Search{}, err
	}
	f := compile(q)
	lat, lng := q.Lat*degToRad, q.Lon*degToRad
	ll := h3.NewLatLng(q.Lat, q.Lon)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var s Search
	for l, lv := range Levels {
		w := walker{ix: ix, level: l, f: &f, lat: lat, lng: lng, k: q.K, s: &s}
		if w.walk(h3.LatLngToCell(ll, lv.Res), lv.MaxRings) {
			s.Res = lv.Res
			return w.matches(q), s, nil
		}
		s.Fallbacks++
	}
	return nil, s, fmt.Errorf("geo: nearest: no level could finish: %w", wangge.ErrUnavailable)
}

// walker is one search at one level.
type walker struct {
	ix       *Index
	level    int
	f        *filter
	lat, lng float64
	k        int
	s        *Search
	best     []cand // sorted by (dist, key), at most k
}

type cand struct {
	e    *entry
	dist float64
	cell h3.Cell
	ring int
}

func (c cand) before(o cand) bool {
	if c.dist != o.dist {
		return c.dist < o.dist
	}
	return c.e.r.Key.Less(o.e.r.Key)
}

// walk scans gridDisk rings around origin and reports whether it found an
// exact answer within maxRings rings (0 = no limit).
//
// Stopping rule and why it is exact. Let x be the query point, in cell
// origin, and D(d) the union of cells at grid distance ≤ d. Any y outside
// D(d-1) is reached from x by a geodesic that leaves D(d-1) through a
// point of its boundary; the cells on the other side of that boundary
// share an edge with D(d-1), so they are at grid distance exactly d: the
// geodesic touches a (closed) cell c of ring d, and |xy| ≥ |xc|. Each cell
// lies in a cap of centre m and radius ρ (cellDisc), so |xc| ≥ |xm| − ρ.
// Hence LB(d) = min over c in ring d of (|xm_c| − ρ_c) bounds from below
// the distance to every responder not yet scanned once rings 0..d-1 are.
// When k candidates are held and LB(d) exceeds the k-th distance, nothing
// unscanned can enter or reorder the answer (equal distances keep
// scanning, for the tie-break), and the search stops. The bound uses the
// actual cell shapes, not a typical edge length, so cell-size distortion
// and the query's place inside its cell are accounted for; the same cap
// test skips single cells of a ring that cannot improve the answer. A
// search also stops once every responder of the level has been scanned.
func (w *walker) walk(origin h3.Cell, maxRings int) bool {
	b := w.ix.levels[w.level]
	total := len(w.ix.byKey)
	seen := 0
	var rings [][]h3.Cell
	var lbs []float64 // lower bound of each cell of the current ring
	for d := 0; ; d++ {
		if d >= len(rings) {
			rings = diskRings(origin, nextRadius(d, maxRings))
			if d >= len(rings) { // the disk covers the whole sphere
				w.s.Stop = "every cell of the sphere was scanned"
				return true
			}
		}
		ring := rings[d]
		full := len(w.best) == w.k
		lbs = lbs[:0]
		if full { // bounds matter only once k candidates are held
			for _, c := range ring {
				lbs = append(lbs, lowerBoundM(w.lat, w.lng, c))
			}
		}
		if full && d > 0 {
			lb := slices.Min(lbs)
			if lb > w.kth() {
				w.s.Rings = d - 1
				w.s.Stop = fmt.Sprintf("no point of H3 ring %d or beyond is nearer than %.1f m, farther than the %s result at %.1f m",
					d, lb, Ordinal(w.k), w.kth())
				return true
			}
		}
		if maxRings > 0 && d > maxRings {
			return false
		}
		for i, c := range ring {
			bk := b[c]
			if bk == nil {
				continue
			}
			seen += bk.n
			if full && lbs[i] > w.kth() {
				continue
			}
			w.s.Cells++
			w.scan(bk, c, d)
		}
		if seen == total {
			w.s.Rings = d
			w.s.Stop = fmt.Sprintf("all %d responders lie within H3 ring %d", total, d)
			return true
		}
	}
}

// nextRadius is how far to fetch rings when ring d is needed: a small disk
// first (dense places stop early), then the level's whole budget plus the
// ring whose bound proves exactness, or a doubling disk without a budget.
func nextRadius(d, maxRings int) int {
	if d < 3 {
		return 2
	}
	if maxRings > 0 {
		return maxRings + 1
	}
	return 2 * d
}

// diskRings is gridDisk split by distance, without the zero cells H3 leaves
// where a disk crosses a pentagon. It stops at the first empty ring.
func diskRings(origin h3.Cell, k int) [][]h3.Cell {
	rings := h3.GridDiskDistances(origin, k)
	for i, r := range rings {
		out := r[:0]
		for _, c := range r {
			if c != 0 {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return rings[:i]
		}
		rings[i] = out
	}
	return rings
}

func (w *walker) kth() float64 { return w.best[len(w.best)-1].dist }

func (w *walker) scan(bk *bucket, c h3.Cell, ring int) {
	for ki, es := range bk.byKind {
		if !w.f.kinds[ki] {
			continue
		}
		for _, e := range es {
			if !w.f.pass(e) {
				continue
			}
			w.s.Examined++
			w.offer(cand{e: e, dist: EarthRadiusM * angle(w.lat, w.lng, e.lat, e.lng), cell: c, ring: ring})
		}
	}
}

// offer keeps the k best candidates, sorted, by insertion (k ≤ MaxK).
func (w *walker) offer(c cand) {
	if len(w.best) == w.k {
		if !c.before(w.best[w.k-1]) {
			return
		}
		w.best = w.best[:w.k-1]
	}
	i := len(w.best)
	w.best = append(w.best, c)
	for i > 0 && c.before(w.best[i-1]) {
		w.best[i] = w.best[i-1]
		i--
	}
	w.best[i] = c
}

func (w *walker) matches(q Query) []Match {
	out := make([]Match, len(w.best))
	for i, c := range w.best {
		out[i] = Match{Responder: c.e.r, Rank: i + 1, DistanceM: c.dist, Cell: c.cell, Ring: c.ring,
			Reason: Explain(i+1, q)}
	}
	return out
}
