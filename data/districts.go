package data

// population is the resident population of each district (2020 census,
// rounded, persons); the demo city spreads 1/householdSize as many
// households over each district.
var population = map[string]float64{
	"500101": 1_564_000, "500102": 1_115_000, "500103": 589_000, "500104": 421_000,
	"500105": 926_000, "500106": 1_479_000, "500107": 1_523_000, "500108": 1_198_000,
	"500109": 835_000, "500110": 1_011_000, "500111": 835_000, "500112": 2_192_000,
	"500113": 1_179_000, "500114": 487_000, "500115": 694_000, "500116": 1_359_000,
	"500117": 1_245_000, "500118": 1_149_000, "500119": 572_000, "500120": 756_000,
	"500151": 686_000, "500152": 689_000, "500153": 670_000, "500154": 1_203_000,
	"500155": 646_000, "500156": 357_000, "500229": 198_000, "500230": 557_000,
	"500231": 648_000, "500233": 721_000, "500235": 929_000, "500236": 745_000,
	"500237": 463_000, "500238": 389_000, "500240": 389_000, "500241": 480_000,
	"500242": 609_000, "500243": 493_000,
}

// householdSize is persons per household (Chongqing 2020: about 2.6).
const householdSize = 2.65

// coreDistricts are the nine districts of the main city: dense, with
// small grids.
var coreDistricts = map[string]bool{
	"500103": true, "500104": true, "500105": true, "500106": true, "500107": true,
	"500108": true, "500109": true, "500112": true, "500113": true,
}

// Grid household targets and bands: urban grids aim at 400 (300–500),
// rural ones at 150 (80–250).
const (
	urbanTarget, urbanMin, urbanMax = 400.0, 300.0, 500.0
	ruralTarget, ruralMin, ruralMax = 150.0, 80.0, 250.0
	// urbanDensity (households/km²) separates urban from rural land.
	urbanDensity = 1500.0
)

// jiefangbei is the centre of the main city; its kernel spans the core
// districts whichever subset is seeded.
var jiefangbei = [2]float64{106.5775, 29.5575}
