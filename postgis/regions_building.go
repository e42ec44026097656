package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// Building is one building with its households and their residents. The
// residents' name, id_number and phone are PII, returned as stored: the
// API masks them.
type Building struct {
	ID         int64           `json:"id"`
	GridCode   string          `json:"grid_code"`
	Address    string          `json:"address"`
	Name       string          `json:"name"`
	Use        string          `json:"use"`
	Floors     int             `json:"floors"`
	BuiltYear  *int            `json:"built_year"`
	Households []Household     `json:"households"`
	Geometry   json.RawMessage `json:"geometry"`
}

// Household is a household of a building.
type Household struct {
	ID        int64      `json:"id"`
	UnitNo    string     `json:"unit_no"`
	Size      int        `json:"size"`
	Residents []Resident `json:"residents"`
}

// Resident is a person with PII.
type Resident struct {
	ID        int64
	Name      string
	IDNumber  string
	Phone     string // "" when none
	Gender    string
	BirthDate time.Time
	Relation  string
	Tags      []string
}

// Building reads a building, its households (by unit number) and their
// residents (by id).
func (db *DB) Building(ctx context.Context, id int64) (Building, error) {
	var (
		b    Building
		geom string
	)
	err := db.Pool.QueryRow(ctx, `SELECT id, grid_code, address, name, use, floors, built_year, ST_AsGeoJSON(geom, 7)
		FROM buildings WHERE id = $1`, id).Scan(&b.ID, &b.GridCode, &b.Address, &b.Name, &b.Use, &b.Floors, &b.BuiltYear, &geom)
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
	b.Households, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Household, error) {
		h := Household{Residents: []Resident{}}
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
		r   Resident
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
