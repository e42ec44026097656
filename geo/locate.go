package geo

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// LocateRes is the H3 resolution GridIndex buckets grids at by default.
//
// Why 8 (cells ≈ 0.74 km², edges ≈ 460 m): the full city's 82,000 km² is
// ~110k cells, a few MB of buckets; res 9 would be ~800k cells for little
// gain, since a bucket's candidates are first cut by their bounding box (a
// few float compares) before the exact point-in-polygon test, and only
// the dense cores hold more than a handful of grids per res-8 cell.
const LocateRes = 8

// Grid is one grid's shape as the locate index needs it.
type Grid struct {
	Code  string // 15 digits: community (12) + sequence
	Name  string
	Shape orb.MultiPolygon // WGS-84
}

// GridHit is the grid a point lies in, with the codes of the regions
// above it (cut from the grid code, which nests them).
type GridHit struct {
	Code      string
	Name      string
	Community string
	Street    string
	District  string
}

// hitOf builds a GridHit from a grid code.
func hitOf(code, name string) GridHit {
	h := GridHit{Code: code, Name: name}
	if len(code) >= 12 {
		h.Community, h.Street, h.District = code[:12], code[:9], code[:6]
	}
	return h
}

// gridPart is one polygon of a grid with its box, for a cheap reject.
type gridPart struct {
	bound orb.Bound
	poly  orb.Polygon
}

type gridEntry struct {
	hit   GridHit
	bound orb.Bound
	parts []gridPart
	cells []h3.Cell // the buckets it sits in, for removal
}

// GridIndex answers point → grid from memory: H3 cell → candidate grids
// (every grid whose box meets the cell's box, sorted by code), then an
// exact covers test (predicate.go, the same answers as GEOS on edges).
// A point on an edge shared by two grids goes to the lower code, so the
// answer never depends on load order. Safe for concurrent use; no I/O.
type GridIndex struct {
	res   int
	mu    sync.RWMutex
	byKey map[string]*gridEntry
	cells map[h3.Cell][]candidate
}

// candidate is a grid in a cell's bucket with its box inline, so that
// rejecting it reads the bucket's own memory, not the grid's.
type candidate struct {
	bound orb.Bound
	e     *gridEntry
}

// NewGridIndex returns an empty index bucketing at H3 resolution res
// (LocateRes when res ≤ 0).
func NewGridIndex(res int) *GridIndex {
	if res <= 0 || res > 15 {
		res = LocateRes
	}
	return &GridIndex{res: res, byKey: map[string]*gridEntry{}, cells: map[h3.Cell][]candidate{}}
}

// Len is the number of grids.
func (ix *GridIndex) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byKey)
}

// Cells is the number of non-empty H3 buckets.
func (ix *GridIndex) Cells() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.cells)
}

// Replace drops every grid and loads gs. The new buckets are built
// before the lock is taken (on every core: each grid's cells are
// independent), so readers wait only for the swap.
func (ix *GridIndex) Replace(gs []Grid) {
	es := make([]*gridEntry, len(gs))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(gs)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bounds := cellBounds{}
			for i := w; i < len(gs); i += workers {
				es[i] = ix.newEntry(gs[i], bounds)
			}
		}()
	}
	wg.Wait()
	byKey := make(map[string]*gridEntry, len(gs))
	cells := make(map[h3.Cell][]candidate, len(gs))
	for _, e := range es {
		if old := byKey[e.hit.Code]; old != nil {
			unlinkGrid(cells, old)
		}
		byKey[e.hit.Code] = e
		linkGrid(cells, e)
	}
	for c, es := range cells {
		slices.SortFunc(es, byCode)
		cells[c] = es
	}
	ix.mu.Lock()
	ix.byKey, ix.cells = byKey, cells
	ix.mu.Unlock()
}

// Upsert adds grids or replaces them by code (a redrawn grid).
func (ix *GridIndex) Upsert(gs ...Grid) {
	es := make([]*gridEntry, len(gs))
	bounds := cellBounds{}
	for i, g := range gs {
		es[i] = ix.newEntry(g, bounds) // the H3 work outside the lock
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range es {
		if old := ix.byKey[e.hit.Code]; old != nil {
			unlinkGrid(ix.cells, old)
		}
		ix.byKey[e.hit.Code] = e
		for _, c := range e.cells {
			b := ix.cells[c]
			i, _ := slices.BinarySearchFunc(b, candidate{e.bound, e}, byCode)
			ix.cells[c] = slices.Insert(b, i, candidate{e.bound, e})
		}
	}
}

// Remove drops grids by code (retired or deleted); unknown codes are
// ignored.
func (ix *GridIndex) Remove(codes ...string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, code := range codes {
		if old := ix.byKey[code]; old != nil {
			unlinkGrid(ix.cells, old)
			delete(ix.byKey, code)
		}
	}
}

// Locate finds the grid covering (lon, lat), WGS-84. ok is false outside
// every grid (and for NaN or out-of-range input).
func (ix *GridIndex) Locate(lon, lat float64) (GridHit, bool) {
	if !validLonLat(lon, lat) {
		return GridHit{}, false
	}
	c := h3.LatLngToCell(h3.NewLatLng(lat, lon), ix.res)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.locate(c, orb.Point{lon, lat})
}

// LocateBatch locates every point (lon, lat pairs, WGS-84) under one read
// lock: hits[i] and found[i] answer pts[i]. hits and found must be at
// least as long as pts.
func (ix *GridIndex) LocateBatch(pts []orb.Point, hits []GridHit, found []bool) {
	cells := make([]h3.Cell, len(pts))
	for i, p := range pts {
		if validLonLat(p[0], p[1]) {
			cells[i] = h3.LatLngToCell(h3.NewLatLng(p[1], p[0]), ix.res)
		}
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i, p := range pts {
		if cells[i] == 0 {
			hits[i], found[i] = GridHit{}, false
			continue
		}
		hits[i], found[i] = ix.locate(cells[i], p)
	}
}

func (ix *GridIndex) locate(c h3.Cell, p orb.Point) (GridHit, bool) {
	for _, cd := range ix.cells[c] { // sorted by code: the first cover wins
		if !cd.bound.Contains(p) {
			continue
		}
		e := cd.e
		for _, part := range e.parts {
			if part.bound.Contains(p) && Covers(part.poly, p) {
				return e.hit, true
			}
		}
	}
	return GridHit{}, false
}

func validLonLat(lon, lat float64) bool {
	return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90 // false for NaN too
}

func byCode(a, b candidate) int { return cmp.Compare(a.e.hit.Code, b.e.hit.Code) }

func linkGrid(cells map[h3.Cell][]candidate, e *gridEntry) {
	for _, c := range e.cells {
		cells[c] = append(cells[c], candidate{e.bound, e})
	}
}

func unlinkGrid(cells map[h3.Cell][]candidate, e *gridEntry) {
	for _, c := range e.cells {
		b := slices.DeleteFunc(cells[c], func(x candidate) bool { return x.e == e })
		if len(b) == 0 {
			delete(cells, c)
		} else {
			cells[c] = b
		}
	}
}

// newEntry prepares a grid: its parts' boxes and the H3 cells whose box
// meets the grid's box.
func (ix *GridIndex) newEntry(g Grid, bounds cellBounds) *gridEntry {
	e := &gridEntry{hit: hitOf(g.Code, g.Name)}
	for _, p := range g.Shape {
		if len(p) == 0 || len(p[0]) == 0 {
			continue
		}
		b := p.Bound()
		e.parts = append(e.parts, gridPart{bound: b, poly: p})
		if len(e.parts) == 1 {
			e.bound = b
		} else {
			e.bound = e.bound.Union(b)
		}
	}
	if len(e.parts) > 0 {
		e.cells = coverCells(e.bound, ix.res, bounds)
	}
	return e
}

// cellBounds caches the lon/lat box of H3 cells: neighbouring grids share
// most of their cells, and each box costs a cgo call.
type cellBounds map[h3.Cell]orb.Bound

func (cb cellBounds) get(c h3.Cell) orb.Bound {
	b, ok := cb[c]
	if !ok {
		b = cellBound(c)
		cb[c] = b
	}
	return b
}

// coverCells lists every res cell that may hold a point of b: the cells
// within k rings of the cell at b's centre, k large enough that the ring
// reaches past every cell meeting b, kept when the cell's own box — grown
// a little for the curve of its geodesic edges — meets b.
//
// Why k suffices: a cell meeting b has its centre within d = b's
// half-diagonal + its circumradius (its edge, < 1.5 average edges) of b's
// centre, and a centre at distance d is at most d / (1.5 × the local
// edge) + 1 rings away (hexagon rows are 1.5 edges apart); local edges
// are over 0.7 of the average at every resolution, so d / edge + 1 rings
// reach it, and one more is a margin. Two cgo calls per grid, plus one
// per cell box not seen before.
func coverCells(b orb.Bound, res int, bounds cellBounds) []h3.Cell {
	edge := h3.HexagonEdgeLengthAvgKm(res) * 1000 // metres
	mid := b.Center()
	halfDiag := DistanceM(b.Min[0], b.Min[1], b.Max[0], b.Max[1]) / 2
	k := int(math.Ceil((halfDiag+1.5*edge)/edge)) + 2
	centre := h3.LatLngToCell(h3.NewLatLng(mid[1], mid[0]), res)
	disk := h3.GridDisk(centre, k)
	out := disk[:0]
	const slack = 1e-6 // degrees (≈ 0.1 m): geodesic bulge of a sub-km edge is far below
	for _, c := range disk {
		cb := bounds.get(c)
		if cb.Min[0]-slack <= b.Max[0] && cb.Max[0]+slack >= b.Min[0] &&
			cb.Min[1]-slack <= b.Max[1] && cb.Max[1]+slack >= b.Min[1] {
			out = append(out, c)
		}
	}
	return out
}

func cellBound(c h3.Cell) orb.Bound {
	vs := h3.CellToBoundary(c)
	b := orb.Bound{Min: orb.Point{vs[0].Lng, vs[0].Lat}, Max: orb.Point{vs[0].Lng, vs[0].Lat}}
	for _, v := range vs[1:] {
		b = b.Extend(orb.Point{v.Lng, v.Lat})
	}
	return b
}

// CodesIn lists the grids whose box meets b, in code order: after a
// change inside b, these are the grids that may have moved or gone.
func (ix *GridIndex) CodesIn(b orb.Bound) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []string
	for code, e := range ix.byKey {
		if e.bound.Intersects(b) {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}
