package data

import (
	"github.com/paulmach/orb"

	"github.com/wangge/wangge/geo"
)

// nearRivers keeps the river segments that may reach the district.
func (p *plan) nearRivers(rivers []river) {
	b := p.D.Geom.Bound().Pad(0.01)
	for _, r := range rivers {
		for i := 1; i < len(r.Line); i++ {
			s := geo.Segment{r.Line[i-1], r.Line[i]}
			if len(geo.SegmentsIn([]geo.Segment{s}, b)) == 1 {
				p.Rivers = append(p.Rivers, s)
				p.HW = append(p.HW, r.HalfWidth)
			}
		}
	}
}

// riverNear tells whether b comes within a river's half-width plus margin
// metres of its water.
func (p *plan) riverNear(b orb.Bound, margin float64) bool {
	pad := b.Pad(0.003)
	for i, s := range p.Rivers {
		if len(geo.SegmentsIn([]geo.Segment{s}, pad)) == 0 {
			continue
		}
		if geo.RectDistance(s, b) < p.HW[i]+margin {
			return true
		}
	}
	return false
}
