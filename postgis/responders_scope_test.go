package postgis_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// otherStreet is a street of rs other than street.
func otherStreet(t *testing.T, rs []geo.Responder, street string) string {
	t.Helper()
	for _, r := range rs {
		if r.Street != "" && r.Street != street {
			return r.Street
		}
	}
	t.Fatal("one street only")
	return ""
}

func TestUnitsAndEventsScoped(t *testing.T) {
	db, rs := seeded(t, 400)
	ctx := context.Background()
	u := firstUnit(t, rs)
	mine, theirs := wangge.ScopeOf(u.Street), wangge.ScopeOf(otherStreet(t, rs, u.Street))
	event := func(street string) (id int64) {
		if err := db.Pool.QueryRow(ctx, `INSERT INTO events (category_code, status, tier, source, priority, grid_code,
			description, reported_at, deadline_at, geom) VALUES ('fire_alarm', 'accepted', 'grid', 'sensor', 1, $1,
			'smoke', now(), now() + interval '30 min', ST_SetSRID(ST_MakePoint(106.5, 29.5), 4326)) RETURNING id`,
			street+"001001").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	here, there := event(u.Street), event(theirs.Region())
	if _, err := db.EventPlace(ctx, theirs, here); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("event outside the scope: %v", err)
	}
	if p, err := db.EventPlace(ctx, wangge.ScopeOf(u.District), here); err != nil || p.GridCode != u.Street+"001001" {
		t.Errorf("event inside the district: %v %+v", err, p)
	}
	at := u.StatusAt.Add(time.Minute)
	for _, tt := range []struct {
		name  string
		scope wangge.Scope
		event *int64
		want  error
	}{
		{"unit of another street", theirs, nil, wangge.ErrNotFound},
		{"no scope", wangge.Scope{}, nil, wangge.ErrNotFound},
		{"dispatch to an event outside the scope", mine, &there, wangge.ErrNotFound},
		{"dispatch inside", mine, &here, nil},
	} {
		s := postgis.StatusChange{ID: u.Key.ID, Status: geo.StatusEnRoute, At: at, EventID: tt.event}
		if _, err := db.SetUnitStatus(ctx, tt.scope, s); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	var ev *int64
	_ = db.Pool.QueryRow(ctx, `SELECT event_id FROM units WHERE id = $1`, u.Key.ID).Scan(&ev)
	if ev == nil || *ev != here {
		t.Errorf("unit dispatched to %v, want %d", ev, here)
	}

	live := startLive(t, db)
	if _, err := live.MoveUnit(ctx, theirs, u.Key.ID, 106.6, 29.6, "", at); !errors.Is(err, wangge.ErrNotFound) {
		t.Errorf("move a unit of another street: %v", err)
	}
	if r, _ := live.Index.Get(u.Key); r.Lon == 106.6 {
		t.Error("a refused move reached the index")
	}
	if _, err := live.MoveUnit(ctx, mine, u.Key.ID, 106.6, 29.6, "", at); err != nil {
		t.Errorf("move inside: %v", err)
	}
}

// Both engines answer only responders at home in the caller's scope, and
// the same list.
func TestNearestScoped(t *testing.T) {
	db, rs := seeded(t, 3000)
	ctx := context.Background()
	live := startLive(t, db)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 100; i++ {
		r := rs[rng.IntN(len(rs))]
		if r.Street == "" {
			continue
		}
		scope := wangge.ScopeOf(r.District)
		want := r.District
		switch i % 3 {
		case 1:
			scope, want = wangge.ScopeOf(r.Street), r.Street
		case 2: // a grid's scope is taken as its street
			scope, want = wangge.ScopeOf(r.Street+"001001"), r.Street
		}
		q := geo.Query{Lon: r.Lon + rng.NormFloat64()*0.05, Lat: r.Lat + rng.NormFloat64()*0.05, K: 1 + rng.IntN(10)}
		a, _, err := live.Nearest(scope, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.NearestExact(ctx, scope, q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, b, sameInstant, cmpopts.IgnoreFields(geo.Match{}, "Cell", "Ring")); diff != "" {
			t.Fatalf("scope %s: (-index +postgis)\n%s", scope, diff)
		}
		if len(a) == 0 {
			t.Fatalf("scope %s: nothing found", scope)
		}
		for _, m := range a {
			if !strings.HasPrefix(m.Street, want) {
				t.Fatalf("scope %s: %s at home in %s", scope, m.Key, m.Street)
			}
		}
		// Asking for a street outside the scope finds nothing.
		q.Street = otherStreet(t, rs, r.Street)
		if ms, _, _ := live.Nearest(wangge.ScopeOf(r.Street), q); len(ms) != 0 {
			t.Fatalf("street %s asked in scope %s: %v", q.Street, r.Street, ms)
		}
	}
	if ms, _ := db.NearestExact(ctx, wangge.Scope{}, geo.Query{Lon: 106.5, Lat: 29.5, K: 5}); len(ms) != 0 {
		t.Errorf("no scope: %d responders", len(ms))
	}
}

func startLive(t *testing.T, db *postgis.DB) *postgis.Live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	live, err := db.StartLive(ctx, quiet())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); live.Wait() })
	return live
}
