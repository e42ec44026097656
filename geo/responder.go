package geo

import (
	"fmt"
	"math"
	"time"

	"github.com/wangge/wangge"
)

// Class tells which table a responder lives in: fixed posts and mobile
// units have separate id spaces, so a responder is named by (Class, ID).
type Class uint8

const (
	ClassPost Class = iota + 1
	ClassUnit
)

func (c Class) String() string {
	switch c {
	case ClassPost:
		return "post"
	case ClassUnit:
		return "unit"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Key names a responder. Keys order by class (posts first), then id: the
// tie-break between responders at exactly the same distance.
type Key struct {
	Class Class
	ID    int64
}

// Less is the tie-break order.
func (k Key) Less(o Key) bool {
	if k.Class != o.Class {
		return k.Class < o.Class
	}
	return k.ID < o.ID
}

func (k Key) String() string { return fmt.Sprintf("%s/%d", k.Class, k.ID) }

// Kind is what a responder is. Post kinds and unit kinds are disjoint, so
// a kind also tells the class.
type Kind string

const (
	KindPolice     Kind = "police"
	KindFire       Kind = "fire"
	KindMedical    Kind = "medical"
	KindCommunity  Kind = "community"
	KindMicroFire  Kind = "micro_fire"
	KindGridWorker Kind = "grid_worker"
	KindPatrol     Kind = "patrol"
	KindEngine     Kind = "engine"
	KindAmbulance  Kind = "ambulance"
)

// kinds lists every kind; its index is the kind's slot in a cell bucket.
var kinds = []Kind{KindPolice, KindFire, KindMedical, KindCommunity, KindMicroFire,
	KindGridWorker, KindPatrol, KindEngine, KindAmbulance}

const numKinds = 9

// kindIndex is the bucket slot of k, or -1.
func kindIndex(k Kind) int {
	for i, x := range kinds {
		if x == k {
			return i
		}
	}
	return -1
}

// Class is the table the kind belongs to (0 for an unknown kind).
func (k Kind) Class() Class {
	switch i := kindIndex(k); {
	case i < 0:
		return 0
	case i < 5:
		return ClassPost
	default:
		return ClassUnit
	}
}

// ParseKind checks s is a known kind.
func ParseKind(s string) (Kind, error) {
	if kindIndex(Kind(s)) < 0 {
		return "", wangge.Invalid("kind", "unknown kind %q (want one of %v)", s, kinds)
	}
	return Kind(s), nil
}

// Status is a unit's availability. Posts are always StatusAvailable.
type Status string

const (
	StatusAvailable Status = "available"
	StatusEnRoute   Status = "en_route"
	StatusOnScene   Status = "on_scene"
	StatusOffDuty   Status = "off_duty"
)

var statuses = []Status{StatusAvailable, StatusEnRoute, StatusOnScene, StatusOffDuty}

func statusIndex(s Status) int {
	for i, x := range statuses {
		if x == s {
			return i
		}
	}
	return -1
}

// ParseStatus checks s is a known status.
func ParseStatus(s string) (Status, error) {
	if statusIndex(Status(s)) < 0 {
		return "", wangge.Invalid("status", "unknown status %q (want one of %v)", s, statuses)
	}
	return Status(s), nil
}

// Responder is a post or a unit as the index sees it. Street and District
// are its home jurisdiction (the grid a grid worker owns, else its post's
// grid), not the place it happens to be: "same street" means the street's
// own resources.
type Responder struct {
	Key        Key
	Kind       Kind
	Status     Status
	Lon, Lat   float64 // WGS-84 degrees
	Street     string  // 9-digit code, "" when unknown
	District   string  // 6-digit code, "" when unknown
	PositionAt time.Time
	StatusAt   time.Time // zero when the status was never reported
}

// Validate checks the fields the index relies on.
func (r Responder) Validate() error {
	if r.Key.Class != ClassPost && r.Key.Class != ClassUnit {
		return wangge.Invalid("class", "unknown responder class %d", r.Key.Class)
	}
	if r.Kind.Class() != r.Key.Class {
		return wangge.Invalid("kind", "kind %q is not a %s kind", r.Kind, r.Key.Class)
	}
	if statusIndex(r.Status) < 0 {
		return wangge.Invalid("status", "unknown status %q", r.Status)
	}
	return CheckLonLat(r.Lon, r.Lat)
}

// CheckLonLat refuses NaN, infinities and out-of-range WGS-84 degrees.
func CheckLonLat(lon, lat float64) error {
	if math.IsNaN(lon) || math.IsInf(lon, 0) || lon < -180 || lon > 180 {
		return wangge.Invalid("lon", "longitude %v is not a number in [-180, 180]", lon)
	}
	if math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 {
		return wangge.Invalid("lat", "latitude %v is not a number in [-90, 90]", lat)
	}
	return nil
}
