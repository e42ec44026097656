package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"

	"github.com/wangge/wangge/postgis"
)

// eventsPerHousehold is a year's events per household: about 4 million a
// year for the 12 million households of the real city.
const eventsPerHousehold = 0.33

// event is one generated event with its audit trail.
type event struct {
	ID                           int64
	Cat                          *postgis.Category
	Tier, Source, Status         string
	Reported, Deadline           time.Time
	Dispatched, Resolved, Closed *time.Time
	Satisfaction                 *int16
	Pt                           orb.Point
	Desc, Address, Reporter      string
	UnitID, DupOf, ObjectID      *int64
	Log                          []logEntry
}

type logEntry struct {
	At                                        time.Time
	Actor, Action, From, To, FromTier, ToTier string
	Note                                      string
}

// gridEvents generates a year of grid gi's events up to now; steps that
// would happen after now have not happened yet, which leaves the recent
// events open (and some overdue). Both loading passes call it, so it is
// a pure function of (seed, grid, scale, now).
func (s *seeder) gridEvents(p *plan, gi int, cats []postgis.Category, cum []float64, nextID *int64) []event {
	g := &p.Grids[gi]
	rng := stream(s.opts.Seed, uint64(p.Idx), 7, uint64(gi))
	n := stochRound(s.opts.Scale*g.HH*eventsPerHousehold, rng)
	out := make([]event, 0, n)
	for range n {
		pt, _, ok := p.randomPoint(gi, rng)
		if !ok { // no point of the grid is safely inside: no event here
			continue
		}
		r := rng.Float64() * cum[len(cum)-1]
		ci := 0
		for ci < len(cum)-1 && cum[ci] < r {
			ci++
		}
		e := event{ID: p.Idx*rowSpan + *nextID, Cat: &cats[ci], Pt: pt}
		*nextID++
		var prev *event
		if len(out) > 0 {
			prev = &out[len(out)-1]
		}
		s.timeline(&e, p, gi, prev, rng)
		if gi < len(p.Links) {
			aboutObject(&e, p.Links[gi], rng)
		}
		out = append(out, e)
	}
	return out
}

// reportedAt draws a report time in the year before now, more often in
// working hours.
func reportedAt(now time.Time, rng *rand.Rand) time.Time {
	day := now.AddDate(0, 0, -1-rng.IntN(365))
	h := 7 + rng.IntN(14)
	if rng.IntN(6) == 0 {
		h = rng.IntN(24)
	}
	return day.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
}

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

func (s *seeder) timeline(e *event, p *plan, gi int, prev *event, rng *rand.Rand) {
	g := &p.Grids[gi]
	now := s.opts.Now
	sla := float64(e.Cat.SLAMinutes)
	e.Reported = reportedAt(now, rng)
	e.Deadline = e.Reported.Add(minutes(sla))
	e.Tier = string(e.Cat.Tier)
	e.Source, e.Reporter = source(e.Cat.Code, rng)
	road := roadName(rng)
	e.Address = fmt.Sprintf("重庆市%s%s%s附近", p.D.Name, g.Street.Name, road)
	ds := details[e.Cat.Code]
	if len(ds) == 0 {
		ds = []string{e.Cat.NameZh}
	}
	e.Desc = fmt.Sprintf("%s%s：%s", road, e.Cat.NameZh, ds[rng.IntN(len(ds))])
	worker := fmt.Sprintf("grid_worker:%d", p.workerID(gi))
	t := e.Reported
	step := func(at time.Time, actor, action, to, note string) bool {
		if at.After(now) {
			return false
		}
		from := e.Status
		e.Log = append(e.Log, logEntry{At: at, Actor: actor, Action: action, From: from, To: to,
			FromTier: e.Tier, ToTier: e.Tier, Note: note})
		if from == "" {
			e.Log[len(e.Log)-1].FromTier = ""
		}
		e.Status, t = to, at
		return true
	}
	step(t, e.Source, "report", "reported", "")
	switch r := rng.IntN(1000); {
	case r < 7:
		step(t.Add(minutes(10+rng.Float64()*110)), "system", "reject", "rejected", "不属于受理范围")
		return
	case r < 12 && prev != nil && prev.Cat == e.Cat:
		if step(t.Add(minutes(5+rng.Float64()*60)), "system", "mark_duplicate", "duplicate", fmt.Sprintf("与事件%d重复", prev.ID)) {
			e.DupOf = &prev.ID
		}
		return
	}
	if !step(t.Add(minutes(1+rng.Float64()*19)), "system", "accept", "accepted", "") {
		return
	}
	for _, esc := range escalations(e.Tier, rng) {
		at := t.Add(minutes(10 + rng.Float64()*sla/2))
		if at.After(now) {
			return
		}
		e.Log = append(e.Log, logEntry{At: at, Actor: "system", Action: "escalate", From: e.Status, To: e.Status,
			FromTier: e.Tier, ToTier: esc, Note: "超出处置时限或需上级协调，升级处置"})
		e.Tier, t = esc, at
	}
	if !step(t.Add(minutes(2+rng.Float64()*28)), "dispatcher:"+e.Tier, "dispatch", "dispatched", "") {
		return
	}
	d, u := t, p.workerID(gi)
	e.Dispatched, e.UnitID = &d, &u
	if !step(t.Add(minutes(5+rng.Float64()*55)), worker, "arrive", "on_site", "") {
		return
	}
	handle := math.Exp(math.Log(0.3*sla) + 0.9*rng.NormFloat64())
	res := e.Reported.Add(minutes(handle))
	if !res.After(t) {
		res = t.Add(minutes(5 + rng.Float64()*30))
	}
	if !step(res, worker, "resolve", "resolved", "已处置完毕") {
		return
	}
	e.Resolved = &res
	if !step(t.Add(minutes(10+rng.Float64()*710)), "system", "close", "closed", "") {
		return
	}
	c := t
	e.Closed = &c
	if rng.IntN(4) > 0 {
		score := int16(1)
		r := rng.Float64()
		for i, w := range satisfactionWeights {
			if r < w {
				score = int16(i + 1)
				break
			}
			r -= w
			score = int16(i + 1)
		}
		if step(t.Add(minutes(60+rng.Float64()*4260)), "citizen", "evaluate", "evaluated", fmt.Sprintf("满意度%d", score)) {
			e.Satisfaction = &score
		}
	}
}

// escalations lists the tiers an event climbs to past its category's
// default: about 4% of grid events and 9% of street events.
func escalations(tier string, rng *rand.Rand) []string {
	var out []string
	switch {
	case tier == "grid" && rng.IntN(100) < 4:
		out = append(out, "street")
		if rng.IntN(100) < 25 {
			out = append(out, "district")
		}
	case tier == "street" && rng.IntN(100) < 9:
		out = append(out, "district")
	}
	return out
}

func source(cat string, rng *rand.Rand) (src, reporter string) {
	r := rng.IntN(100)
	switch {
	case (cat == "fire_alarm" || cat == "gas_leak" || cat == "flood_risk") && r < 50:
		return "sensor", fmt.Sprintf("CQ-SS-%08d", rng.IntN(100_000_000))
	case (cat == "illegal_parking" || cat == "street_vending") && r < 30:
		return "video_ai", "视频智能识别"
	case r < 40:
		return "grid_worker", "网格员" + personName(rng, rng.IntN(2) == 0)
	case r < 65:
		return "hotline_12345", surnames[rng.IntN(20)] + []string{"先生", "女士"}[rng.IntN(2)]
	case r < 88:
		return "citizen_app", "市民" + surnames[rng.IntN(40)] + "某"
	case r < 95:
		return "patrol", "巡逻队"
	}
	return "staff", "社区工作人员"
}

// aboutObject ties an event about a city component (a street light out, a
// sensor's alarm) to one of its grid's components of that category, and
// places it there. A sensor's report comes from the sensor itself; a fire
// alarm is about a smoke sensor only when a sensor raised it.
func aboutObject(e *event, links []objLink, rng *rand.Rand) {
	cat, ok := eventObject[e.Cat.Code]
	if !ok || (e.Cat.Code == "fire_alarm" && e.Source != "sensor") {
		return
	}
	var of []objLink
	for _, l := range links {
		if l.Category == cat {
			of = append(of, l)
		}
	}
	if len(of) == 0 {
		return
	}
	l := of[rng.IntN(len(of))]
	e.ObjectID, e.Pt = &l.ID, l.Pt
	if e.Source == "sensor" && l.Device != "" {
		e.Reporter = l.Device
	}
}
