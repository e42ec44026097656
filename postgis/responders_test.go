package postgis_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// seeded is a fresh database holding n synthetic responders.
func seeded(t *testing.T, n int) (*postgis.DB, []geo.Responder) {
	t.Helper()
	db, _ := pgtest.New(t)
	rs := geo.SyntheticResponders(42, n)
	if err := db.SeedSyntheticResponders(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	return db, rs
}

func byKey(rs []geo.Responder) []geo.Responder {
	out := append([]geo.Responder(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key.Less(out[j].Key) })
	return out
}

var sameInstant = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func TestLoadResponders(t *testing.T) {
	db, rs := seeded(t, 1500)
	got, err := db.LoadResponders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byKey(rs), byKey(got), sameInstant); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestNearestExactMatchesIndex: the SQL baseline and the H3 index give the
// same ranked lists (and the geometry <-> shortcut would not).
func TestNearestExactMatchesIndex(t *testing.T) {
	db, rs := seeded(t, 3000)
	ix := geo.NewIndex()
	for _, r := range rs {
		if _, err := ix.Upsert(r); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	kinds := []geo.Kind{geo.KindPatrol, geo.KindFire, geo.KindGridWorker, geo.KindPolice}
	for i := 0; i < 300; i++ {
		r := rs[rng.IntN(len(rs))]
		q := geo.Query{Lon: r.Lon + rng.NormFloat64()*0.05, Lat: r.Lat + rng.NormFloat64()*0.05, K: 1 + rng.IntN(20)}
		switch i % 4 {
		case 1:
			q.Kinds = []geo.Kind{kinds[rng.IntN(len(kinds))]}
		case 2:
			q.Statuses = []geo.Status{geo.StatusAvailable}
			q.Street, _ = geo.HomeCodes(q.Lon, q.Lat)
		case 3:
			_, q.District = geo.HomeCodes(q.Lon, q.Lat)
		}
		want, _, err := ix.Nearest(q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.NearestExact(context.Background(), wangge.CityScope(), q)
		if err != nil {
			t.Fatal(err)
		}
		opts := cmp.Options{sameInstant, cmpopts.IgnoreFields(geo.Match{}, "Cell", "Ring")}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Fatalf("query %+v: (-index +postgis)\n%s", q, diff)
		}
	}
}

func TestSetUnitStatus(t *testing.T) {
	db, rs := seeded(t, 200)
	ctx := context.Background()
	var u geo.Responder
	for _, r := range rs {
		if r.Key.Class == geo.ClassUnit {
			u = r
			break
		}
	}
	var eventID int64
	err := db.Pool.QueryRow(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
		description, reported_at, deadline_at, geom)
		VALUES ('fire_alarm', 'accepted', 'grid', 'sensor', 1, $1, 'smoke', now(), now() + interval '30 min',
		ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`, u.Street+"001001", u.Lon, u.Lat).Scan(&eventID)
	if err != nil {
		t.Fatal(err)
	}
	later := u.StatusAt.Add(time.Minute)
	missing := int64(999999)
	tests := []struct {
		name   string
		change postgis.StatusChange
		want   error
	}{
		{"dispatch", postgis.StatusChange{ID: u.Key.ID, Status: geo.StatusEnRoute, At: later, EventID: &eventID}, nil},
		{"older status refused", postgis.StatusChange{ID: u.Key.ID, Status: geo.StatusAvailable, At: u.StatusAt}, wangge.ErrConflict},
		{"unknown unit", postgis.StatusChange{ID: missing, Status: geo.StatusAvailable, At: later}, wangge.ErrNotFound},
		{"unknown event", postgis.StatusChange{ID: u.Key.ID, Status: geo.StatusEnRoute, At: later.Add(time.Second), EventID: &missing}, wangge.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.SetUnitStatus(ctx, wangge.CityScope(), tt.change)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
		})
	}
	var status string
	var ev *int64
	if err := db.Pool.QueryRow(ctx, `SELECT status, event_id FROM units WHERE id = $1`, u.Key.ID).Scan(&status, &ev); err != nil {
		t.Fatal(err)
	}
	if status != "en_route" || ev == nil || *ev != eventID {
		t.Errorf("after dispatch: status %s event %v; want en_route, %d", status, ev, eventID)
	}
}

func TestEventPlaceUnknown(t *testing.T) {
	db, _ := pgtest.New(t)
	if _, err := db.EventPlace(context.Background(), wangge.CityScope(), 12345); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("got %v; want ErrNotFound", err)
	}
}
