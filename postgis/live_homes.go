package postgis

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// unitHomes is each unit's home grid code (the grid it owns, else its
// post's grid; "" when none), for the scope check of position reports,
// which are answered from memory. It is loaded with the index and follows
// UnitChannel; a plan that moves a grid worker to another grid of its
// community keeps it in every jurisdiction of a community or above.
type unitHomes struct {
	mu sync.RWMutex
	m  map[int64]string
}

func (h *unitHomes) load(ctx context.Context, db *DB) error {
	rows, err := db.Pool.Query(ctx, `SELECT u.id, `+unitHome+` FROM units u`)
	if err != nil {
		return fmt.Errorf("postgis: unit homes: %w", err)
	}
	m := map[int64]string{}
	var (
		id   int64
		home string
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &home}, func() error { m[id] = home; return nil }); err != nil {
		return fmt.Errorf("postgis: unit homes: %w", err)
	}
	h.mu.Lock()
	h.m = m
	h.mu.Unlock()
	return nil
}

func (h *unitHomes) set(id int64, home string) {
	h.mu.Lock()
	if h.m == nil {
		h.m = map[int64]string{}
	}
	h.m[id] = home
	h.mu.Unlock()
}

// inside tells whether unit id is known and at home inside scope.
func (h *unitHomes) inside(scope wangge.Scope, id int64) bool {
	h.mu.RLock()
	home, ok := h.m[id]
	h.mu.RUnlock()
	return ok && scope.Covers(home)
}
