package data

import (
	"fmt"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/postgis"
)

// objectKind is a city component (部件) with its category code (two-digit
// class, two-digit item, after the national standard's style) and how
// many a grid has per household at scale 1.
type objectKind struct {
	Category, Code, Prefix string
	PerHH                  float64
	Device                 bool // carries a device id
	UrbanOnly              bool
}

var objectKinds = []objectKind{
	{"manhole", "0101", "MH", 1.0 / 10, false, false},
	{"gas_valve", "0105", "GV", 1.0 / 70, false, true},
	{"hydrant", "0109", "HY", 1.0 / 60, false, false},
	{"electric_box", "0113", "EB", 1.0 / 90, true, false},
	{"water_meter", "0117", "WM", 1.0 / 40, true, false},
	{"camera", "0126", "CAM", 1.0 / 35, true, false},
	{"street_light", "0201", "SL", 1.0 / 12, false, false},
	{"bus_stop", "0204", "BS", 1.0 / 300, false, false},
	{"trash_bin", "0302", "TB", 1.0 / 25, false, false},
	{"smoke_sensor", "0612", "SS", 1.0 / 30, true, false},
}

// objLink is a component an event of the grid can be about (a street
// light out, a smoke sensor's alarm): kept per grid for the events phase.
type objLink struct {
	ID       int64
	Category string
	Device   string // "" for none
	Pt       orb.Point
}

// eventObject is the component category an event category concerns.
var eventObject = map[string]string{
	"fire_alarm":    "smoke_sensor",
	"gas_leak":      "gas_valve",
	"manhole_cover": "manhole",
	"street_light":  "street_light",
	"water_supply":  "water_meter",
	"pipe_leak":     "water_meter",
	"sanitation":    "trash_bin",
}

// linksPerCategory bounds what a grid keeps per category: enough for
// events to spread over, little enough for the whole city's plans.
const linksPerCategory = 6

func linkable(category string) bool {
	for _, c := range eventObject {
		if c == category {
			return true
		}
	}
	return false
}

// objects writes a district's city components, and keeps a few per grid
// and category in p.Links for the events about them.
func (s *seeder) objects(c *postgis.CopyStream, p *plan) error {
	p.Links = make([][]objLink, len(p.Grids))
	var id int64
	counts := make([]int, len(objectKinds))
	for gi := range p.Grids {
		g := &p.Grids[gi]
		rng := stream(s.opts.Seed, uint64(p.Idx), 5, uint64(gi))
		for k, ok := range objectKinds {
			counts[k] = 0
			if g.Urban || !ok.UrbanOnly {
				counts[k] = stochRound(s.opts.Scale*g.HH*ok.PerHH, rng)
			}
		}
		for k, ok := range objectKinds {
			for range counts[k] {
				pt, _, fits := p.randomPoint(gi, rng)
				if !fits {
					continue
				}
				id++
				oid := p.Idx*rowSpan + id
				var bid int64
				if ok.Category == "smoke_sensor" {
					if bs := p.Bldgs[p.GridB[gi]:p.GridB[gi+1]]; len(bs) > 0 {
						b := &bs[rng.IntN(len(bs))]
						bid, pt = b.ID, b.Rect.Center()
					}
				}
				var dev string
				if ok.Device {
					dev = fmt.Sprintf("CQ-%s-%012d", ok.Prefix, oid)
				}
				if linkable(ok.Category) {
					n := 0
					for _, l := range p.Links[gi] {
						if l.Category == ok.Category {
							n++
						}
					}
					if n < linksPerCategory {
						p.Links[gi] = append(p.Links[gi], objLink{ID: oid, Category: ok.Category, Device: dev, Pt: pt})
					}
				}
				inst := s.opts.Now.AddDate(-1-rng.IntN(15), 0, -rng.IntN(365))
				c.Row(len(objectCols))
				c.Int64(oid)
				c.Text(ok.Category)
				c.Text(ok.Code)
				c.Text(g.Code)
				if bid == 0 {
					c.Null()
				} else {
					c.Int64(bid)
				}
				if dev == "" {
					c.Null()
				} else {
					c.Text(dev)
				}
				c.Text(objectStatus(rng, ok.Device))
				c.Date(inst)
				c.Point(pt[0], pt[1])
				if err := c.End(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func objectStatus(rng *rand.Rand, device bool) string {
	r := rng.IntN(100)
	switch {
	case r < 3:
		return "fault"
	case device && r < 4:
		return "alarm"
	case device && r < 6:
		return "offline"
	}
	return "normal"
}
