package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// BuildingInfo is what a building is, without the people in it.
type BuildingInfo struct {
	ID        int64           `json:"id"`
	GridCode  string          `json:"grid_code"`
	Address   string          `json:"address"`
	Name      string          `json:"name"`
	Use       string          `json:"use"`
	Floors    int             `json:"floors"`
	BuiltYear *int            `json:"built_year"`
	Geometry  json.RawMessage `json:"geometry"`
}

// Building is one building with its households and their residents as
// stored: wangge.Household and wangge.Resident refuse to be marshalled, so
// an answer shows them only through wangge.Redact (and a Building written
// as it is fails instead of leaking).
type Building struct {
	BuildingInfo
	Households []wangge.Household `json:"households"`
}

// Building reads a building inside the scope, its households (by unit
// number) and their residents (by id); a building outside it is not found.
func (db *DB) Building(ctx context.Context, scope wangge.Scope, id int64) (Building, error) {
	var (
		b    Building
		geom string
	)
	err := db.Pool.QueryRow(ctx, `SELECT id, grid_code, address, name, use, floors, built_year, ST_AsGeoJSON(geom, 7)
		FROM buildings WHERE id = $1 AND grid_code LIKE $2`, id, scope.Like()).Scan(&b.ID, &b.GridCode, &b.Address, &b.Name, &b.Use, &b.Floors, &b.BuiltYear, &geom)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, fmt.Errorf("postgis: building %d: %w", id, wangge.ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("postgis: building %d: %w", id, err)
	}
	b.Geometry = json.RawMessage(geom)
	rows, err := db.Pool.Query(ctx, `SELECT id, unit_no, size FROM households WHERE building_id = $1 ORDER BY unit_no, id`, id)
	if err != nil {
		return b, fmt.Errorf("postgis: building %d households: %w", id, err)
	}
	b.Households, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (wangge.Household, error) {
		h := wangge.Household{Residents: []wangge.Resident{}}
		return h, row.Scan(&h.ID, &h.UnitNo, &h.Size)
	})
	if err != nil {
		return b, fmt.Errorf("postgis: building %d households: %w", id, err)
	}
	at := make(map[int64]int, len(b.Households))
	for i, h := range b.Households {
		at[h.ID] = i
	}
	rows, err = db.Pool.Query(ctx, `SELECT household_id, id, name, id_number, coalesce(phone, ''), gender, birth_date,
		relation, tags FROM residents WHERE building_id = $1 ORDER BY id`, id)
	if err != nil {
		return b, fmt.Errorf("postgis: building %d residents: %w", id, err)
	}
	var (
		hid int64
		r   wangge.Resident
	)
	_, err = pgx.ForEachRow(rows, []any{&hid, &r.ID, &r.Name, &r.IDNumber, &r.Phone, &r.Gender, &r.BirthDate, &r.Relation, &r.Tags},
		func() error {
			if i, ok := at[hid]; ok {
				h := &b.Households[i]
				rr := r
				rr.Tags = slices.Clone(r.Tags) // r is scanned into again
				h.Residents = append(h.Residents, rr)
			}
			return nil
		})
	if err != nil {
		return b, fmt.Errorf("postgis: building %d residents: %w", id, err)
	}
	return b, nil
}
