package tiles

import (
	"sort"
	"time"
)

// EventsTileTTL is how stale an events tile's overdue flags may get.
const EventsTileTTL = 30 * time.Second

// Field is one attribute of a layer, as TileJSON's vector_layers lists it.
type Field struct {
	Name string
	Type string // "Number", "String" or "Boolean"
	Doc  string
}

// Layer is one MVT layer. Its SQL lives in the renderer; here is what the
// catalogue promises about it. None carries PII: residents appear only as
// counts.
type Layer struct {
	Name        string
	Description string
	MinZoom     uint32 // the band in which the composite source carries it
	MaxZoom     uint32
	Fields      []Field
	// OwnMinZoom is where the layer's own source starts: below its onemap
	// band, generalised (pixel-sized simplification drops what cannot show).
	OwnMinZoom uint32
}

// Source is a tile set: one layer, or the composite onemap.
type Source struct {
	Name        string
	Description string
	Layers      []Layer
	Filterable  bool // takes the event filters (status, category, since, until)
	// TTL bounds how long a tile of the source stays cached when its
	// attributes change with time alone (an event turns overdue as its
	// deadline passes, with no write to announce it); 0: until a write.
	TTL time.Duration
}

// MinZoom and MaxZoom of a source span its layers' bands.
func (s Source) MinZoom() uint32 {
	m := uint32(MaxZoom)
	for _, l := range s.Layers {
		m = min(m, l.MinZoom)
	}
	return m
}

func (s Source) MaxZoom() uint32 { return MaxZoom }

// LayersAt lists the layers a tile of zoom z carries.
func (s Source) LayersAt(z uint32) []Layer {
	var out []Layer
	for _, l := range s.Layers {
		if z >= l.MinZoom && z <= l.MaxZoom {
			out = append(out, l)
		}
	}
	return out
}

var (
	fCode   = Field{"code", "String", "region or grid code"}
	fName   = Field{"name", "String", "name (Chinese)"}
	fHouse  = Field{"households", "Number", "households"}
	fRes    = Field{"residents", "Number", "registered residents"}
	fTagged = Field{"tagged", "Number", "residents with a care or attention tag"}
)

// The one-map layers with their zoom bands (DESIGN.md §3).
var layers = []Layer{
	{"districts", "区县 districts", 0, MaxZoom, []Field{fCode, fName}, 0},
	{"streets", "街道/乡镇 streets and towns", 7, MaxZoom, []Field{fCode, fName, {"kind", "String", "urban or rural"}}, 5},
	{"communities", "社区/村 communities and villages", 9, MaxZoom, []Field{fCode, fName, {"kind", "String", "urban or rural"}}, 7},
	// Below z10 the core's grids do not fit a 500 KB tile (z8: 1.4 MB).
	{"grids", "网格 grids", 11, MaxZoom, []Field{fCode, fName, {"version", "Number", "boundary version"}, fHouse, fRes, fTagged}, 10},
	// Parcels from z13: a core z12 tile holds 0.9 MB of parcels.
	{"parcels", "地块 land parcels", 14, MaxZoom, []Field{{"grid_code", "String", "grid"}, {"land_use", "String", "land use"}}, 13},
	// Buildings from z13: at scale 1 a core z12 tile holds ~480 KB of
	// footprints two or three pixels wide, at the budget and unreadable.
	{"buildings", "房屋 buildings", 14, MaxZoom, []Field{{"grid_code", "String", "grid"}, {"use", "String", "use"},
		{"floors", "Number", "floors"}, fHouse, fRes, fTagged}, 13},
	// Objects are single points from z15; below, one point per cell with a
	// count (a core z13 tile holds 0.6 MB of single components at scale 1).
	{"objects", "部件 city components (below z15: counts per cell)", 15, MaxZoom, []Field{{"category", "String", "category"},
		{"category_code", "String", "4-digit category code"}, {"status", "String", "normal, fault, alarm or offline"},
		{"count", "Number", "components in the cell (below z15)"}}, 13},
	{"posts", "站点 responder posts", 10, MaxZoom, []Field{{"kind", "String", "police, fire, medical, community or micro_fire"}, fName}, 0},
}

// Catalogue holds every source: one per layer (carrying it from its band's
// minimum zoom) and the composite "onemap".
type Catalogue struct{ sources map[string]Source }

// NewCatalogue builds the fixed catalogue.
func NewCatalogue() *Catalogue {
	c := &Catalogue{sources: map[string]Source{}}
	for _, l := range layers {
		own := l
		own.MinZoom = l.OwnMinZoom
		c.sources[l.Name] = Source{Name: l.Name, Description: l.Description, Layers: []Layer{own}}
	}
	c.sources["onemap"] = Source{Name: "onemap", Description: "一张图 every layer, each in its zoom band", Layers: layers}
	// Events change by the second and reach the wall by the live stream;
	// this source serves history, filtered, for heat maps and time filters.
	c.sources["events"] = Source{Name: "events", Description: "事件 events (below z14: counts per cell)", Filterable: true,
		TTL: EventsTileTTL,
		Layers: []Layer{{"events", "事件 events", 0, MaxZoom, []Field{
			{"category", "String", "category code"}, {"status", "String", "workflow status"}, {"tier", "String", "grid, street or district"},
			{"priority", "Number", "1 (most urgent) to 4"}, {"reported_at", "Number", "Unix seconds"},
			{"overdue", "Boolean", "open and past its deadline"}, {"count", "Number", "events in the cell (below z14)"}}, 0}}}
	return c
}

// Source looks a source up by name.
func (c *Catalogue) Source(name string) (Source, bool) {
	s, ok := c.sources[name]
	return s, ok
}

// Names lists the sources, sorted.
func (c *Catalogue) Names() []string {
	var out []string
	for n := range c.sources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
