package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// RegionNode is a region or grid in the hierarchy.
type RegionNode struct {
	Code  string       `json:"code"`
	Name  string       `json:"name"`
	Level wangge.Level `json:"level"`
}

// RegionDetail is one region (or grid) with its parent, children, counts
// and, on request, its outline as GeoJSON. A region the caller's scope
// lies within (the district of a street commander) is named with the
// children on the way to the scope, without counts or outline: InScope
// is false and Counts nil.
type RegionDetail struct {
	RegionNode
	Kind     string          `json:"kind,omitempty"` // urban | rural (streets, communities)
	InScope  bool            `json:"in_scope"`
	Parent   *RegionNode     `json:"parent"`
	Children []RegionNode    `json:"children"`
	Counts   *Counts         `json:"counts"`
	Worker   *Worker         `json:"worker,omitempty"` // a grid's worker (phone concealed)
	Geometry json.RawMessage `json:"geometry,omitempty"`
}

// Counts are the one-map figures inside a region: what stands there from
// the rollups its writers keep in their own transactions (migration 0014),
// so they are exact at every commit, and events as below.
//
// Event figures: open = reported, accepted, dispatched or on site;
// overdue = open past its deadline; the 30-day window holds events
// reported in the last 30 city days (today and the 29 before), of which closure_rate is the share
// closed or evaluated (rejected and duplicate ones left out; null when
// none) and avg_handling_minutes the mean time from report to close of
// those closed (null when none).
type Counts struct {
	Residents          int64            `json:"residents"`
	ResidentsByTag     map[string]int64 `json:"residents_by_tag"`
	Households         int64            `json:"households"`
	Buildings          int64            `json:"buildings"`
	Objects            int64            `json:"objects"`
	ObjectsByCategory  map[string]int64 `json:"objects_by_category"`
	Posts              int64            `json:"posts"`
	PostsByKind        map[string]int64 `json:"posts_by_kind"`
	Units              int64            `json:"units"`
	UnitsByKind        map[string]int64 `json:"units_by_kind"`
	Grids              int64            `json:"grids"`
	OpenEvents         int64            `json:"open_events"`
	Events30d          int64            `json:"events_30d"`
	ClosureRate        *float64         `json:"closure_rate"`
	AvgHandlingMinutes *float64         `json:"avg_handling_minutes"`
	Overdue            int64            `json:"overdue"`
}

// Closed-vocabulary keys, listed with zero counts so that every region
// answers the same shape (the CHECKs of migration 0001).
var (
	residentTags = []string{"elderly_alone", "disabled", "child", "key_person", "low_income", "veteran",
		"left_behind_child", "pregnant"}
	objectCategories = []string{"hydrant", "manhole", "street_light", "camera", "smoke_sensor", "trash_bin",
		"electric_box", "gas_valve", "bus_stop", "water_meter"}
	postKinds = []string{"police", "fire", "medical", "community", "micro_fire"}
	unitKinds = []string{"grid_worker", "patrol", "engine", "ambulance"}
)

// Open event statuses (wangge.Status.Open) and the SQL of the event figures.
const (
	openStatuses = `('reported', 'accepted', 'dispatched', 'on_site')`
	// inRange keeps rows whose grid_code lies under the code prefix $1: all
	// codes are digits of fixed length, so a btree range on grid_code
	// replaces LIKE (which the index cannot serve under every collation).
	inRange = `BETWEEN rpad($1, 15, '0') AND rpad($1, 15, '9')`
)

// visibleSQL keeps the codes the scope may name: inside it ($n LIKE
// pattern) or above it (an ancestor: the scope's region starts with it).
// The zero Scope's pattern "-" and region "" match neither.
func visibleSQL(col string, like, region int) string {
	return fmt.Sprintf("(%[1]s LIKE $%[2]d OR $%[3]d LIKE %[1]s || '%%')", col, like, region)
}

// Region reads one region or grid with its parent, children and counts;
// geometry adds its outline as GeoJSON. The four statements go out as one
// batch: one round trip for a drill-down click, not four. A region inside
// the scope comes with everything; one above it (Scope.Within) only with
// names, its children filtered to those on the way to the scope; any other
// is not found.
func (db *DB) Region(ctx context.Context, scope wangge.Scope, code string, geometry bool) (RegionDetail, error) {
	level, ok := wangge.LevelOf(code)
	if !ok {
		return RegionDetail{}, wangge.Invalid("code", "a region code has 6, 9, 12 or 15 digits, got %q", code)
	}
	in := scope.Covers(code)
	if !in && !scope.Within(code) {
		return RegionDetail{}, fmt.Errorf("postgis: region %s: %w", code, wangge.ErrNotFound)
	}
	d := RegionDetail{RegionNode: RegionNode{Code: code, Level: level}, InScope: in, Children: []RegionNode{}}
	geometry = geometry && in
	b := &pgx.Batch{}
	head := `SELECT name, kind, CASE WHEN $2 THEN ST_AsGeoJSON(geom, 7) END FROM regions WHERE code = $1 AND ` + visibleSQL("code", 3, 4)
	if level == wangge.LevelGrid {
		head = `SELECT name, '', CASE WHEN $2 THEN ST_AsGeoJSON(geom, 7) END FROM grids WHERE code = $1 AND ` + visibleSQL("code", 3, 4)
	}
	b.Queue(head, code, geometry, scope.Like(), scope.Region()).QueryRow(func(row pgx.Row) error {
		var geom *string
		err := row.Scan(&d.Name, &d.Kind, &geom)
		if errors.Is(err, pgx.ErrNoRows) {
			return wangge.ErrNotFound
		}
		if err != nil {
			return err
		}
		if geom != nil {
			d.Geometry = json.RawMessage(*geom)
		}
		return nil
	})
	if p := wangge.ParentCode(code); p != "" {
		pl, _ := wangge.LevelOf(p)
		d.Parent = &RegionNode{Code: p, Level: pl}
		b.Queue(`SELECT name FROM regions WHERE code = $1`, p).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&d.Parent.Name); err != nil {
				return fmt.Errorf("parent: %w", err)
			}
			return nil
		})
	}
	if q, child, ok := childrenSQL(level); ok {
		b.Queue(q, code, scope.Like(), scope.Region()).Query(func(rows pgx.Rows) error {
			var err error
			d.Children, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (RegionNode, error) {
				n := RegionNode{Level: child}
				return n, row.Scan(&n.Code, &n.Name)
			})
			if err != nil {
				return fmt.Errorf("children: %w", err)
			}
			return nil
		})
	}
	if in { // every row under code lies inside the scope
		keys := map[string]int64{}
		b.Queue(regionStaticSQL, code).Query(func(rows pgx.Rows) error {
			var (
				k string
				n int64
			)
			_, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error {
				keys[k] = n
				return nil
			})
			c := countsFrom(keys)
			d.Counts = &c
			if err != nil {
				return fmt.Errorf("counts: %w", err)
			}
			return nil
		})
		b.Queue(regionEventsSQL(code), code, windowStart(time.Now())).QueryRow(func(row pgx.Row) error {
			c := d.Counts
			if err := row.Scan(&c.OpenEvents, &c.Overdue, &c.Events30d, &c.ClosureRate, &c.AvgHandlingMinutes); err != nil {
				return fmt.Errorf("event counts: %w", err)
			}
			return nil
		})
	}
	if level == wangge.LevelGrid && in {
		b.Queue(gridWorkerSQL, code).Query(func(rows pgx.Rows) error {
			w, err := pgx.CollectRows(rows, scanWorker)
			if len(w) > 0 {
				d.Worker = &w[0]
			}
			return err
		})
	}
	// Every error is wrapped once, here (the callbacks' included).
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return d, fmt.Errorf("postgis: region %s: %w", code, err)
	}
	return d, nil
}

// gridWorkerSQL is a grid's worker, as Locator names it (lowest unit id).
const gridWorkerSQL = `SELECT id, name, coalesce(phone, '') FROM units WHERE kind = 'grid_worker' AND grid_code = $1 ORDER BY id LIMIT 1`

func scanWorker(row pgx.CollectableRow) (Worker, error) {
	var (
		w     Worker
		phone string
	)
	err := row.Scan(&w.ID, &w.Name, &phone)
	w.Phone = wangge.Conceal(phone)
	return w, err
}

// childrenSQL lists the regions one level down (active grids under a
// community) that the scope ($2 pattern, $3 region) may name, by code; ok
// is false under a grid, which has none.
func childrenSQL(level wangge.Level) (q string, child wangge.Level, ok bool) {
	switch level {
	case wangge.LevelDistrict:
		return `SELECT code, name FROM regions WHERE parent_code = $1 AND ` + visibleSQL("code", 2, 3) + ` ORDER BY code`, wangge.LevelStreet, true
	case wangge.LevelStreet:
		return `SELECT code, name FROM regions WHERE parent_code = $1 AND ` + visibleSQL("code", 2, 3) + ` ORDER BY code`, wangge.LevelCommunity, true
	case wangge.LevelCommunity:
		return `SELECT code, name FROM grids WHERE community_code = $1 AND status = 'active' AND ` + visibleSQL("code", 2, 3) +
			` ORDER BY code`, wangge.LevelGrid, true
	}
	return "", "", false
}

// Districts lists the top of the hierarchy: the districts the scope
// touches (the whole city's, the caller's own district, the one its
// street or grid lies in).
func (db *DB) Districts(ctx context.Context, scope wangge.Scope) ([]RegionNode, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code, name FROM regions WHERE level = 'district' AND `+visibleSQL("code", 1, 2)+
		` ORDER BY code`, scope.Like(), scope.Region())
	if err != nil {
		return nil, fmt.Errorf("postgis: districts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RegionNode, error) {
		n := RegionNode{Level: wangge.LevelDistrict}
		return n, row.Scan(&n.Code, &n.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: districts: %w", err)
	}
	return out, nil
}

// regionStaticSQL reads what stands under a code from its rollup row
// (migration 0014): one index range, however many residents live there.
const regionStaticSQL = `SELECT key, n FROM rollup_counts WHERE code = $1`

// regionEventsSQL computes the event figures under the prefix $1: open and
// overdue from the open events, the 30-day window (from the city-time
// midnight $2) from the day rollups of a district or street, or from the
// few events of a community or grid.
func regionEventsSQL(code string) string {
	window := `SELECT coalesce(sum(reported), 0) AS n30, sum(closed) AS closed, sum(reported - excluded) AS counted,
		sum(closed_n) AS closed_n, sum(closed_minutes) AS minutes
		FROM event_rollups WHERE code = $1 AND tier = '' AND category = '' AND day >= $2::date`
	if len(code) > 9 {
		window = `SELECT count(*) AS n30, count(*) FILTER (WHERE status IN ('closed', 'evaluated')) AS closed,
			count(*) FILTER (WHERE status NOT IN ('rejected', 'duplicate')) AS counted,
			count(closed_at) AS closed_n, sum(extract(epoch FROM closed_at - reported_at) / 60) AS minutes
			FROM events WHERE grid_code ` + inRange + ` AND reported_at >= $2::timestamptz`
	}
	return `SELECT o.open, o.overdue, w.n30, w.closed::float8 / nullif(w.counted, 0), w.minutes::float8 / nullif(w.closed_n, 0)
		FROM (SELECT count(*) AS open, count(*) FILTER (WHERE deadline_at < now()) AS overdue
			FROM events WHERE status IN ` + openStatuses + ` AND grid_code ` + inRange + `) o, (` + window + `) w`
}

// windowStart is the first city-time midnight of the 30-day window that
// ends today: the window the event figures cover.
func windowStart(now time.Time) time.Time { return wangge.CityDay(now).AddDate(0, 0, -29) }

// countsFrom fills Counts from a region's rollup keys (residents,
// households, buildings, grids, tag:*, object:*, post:*, unit:*), every
// vocabulary listed with zeros so that each region answers the same shape.
func countsFrom(keys map[string]int64) Counts {
	c := Counts{Residents: keys["residents"], Households: keys["households"], Buildings: keys["buildings"],
		Grids: keys["grids"]}
	for _, f := range []struct {
		prefix string
		vocab  []string
		into   *map[string]int64
		total  *int64
	}{
		{"tag:", residentTags, &c.ResidentsByTag, nil},
		{"object:", objectCategories, &c.ObjectsByCategory, &c.Objects},
		{"post:", postKinds, &c.PostsByKind, &c.Posts},
		{"unit:", unitKinds, &c.UnitsByKind, &c.Units},
	} {
		m := make(map[string]int64, len(f.vocab))
		for _, k := range f.vocab {
			m[k] = 0
		}
		for k, n := range keys {
			if name, ok := strings.CutPrefix(k, f.prefix); ok {
				m[name] += n
				if f.total != nil {
					*f.total += n
				}
			}
		}
		*f.into = m
	}
	return c
}
