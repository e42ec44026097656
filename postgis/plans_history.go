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
	"github.com/wangge/wangge/geo"
)

// GridVersion is one version of a grid: its outline and parcels then, and
// who made it, when, why and by which plan.
type GridVersion struct {
	Version   int             `json:"version"`
	ChangedBy string          `json:"changed_by"`
	ChangedAt time.Time       `json:"changed_at"`
	Reason    string          `json:"reason"`
	PlanID    *int64          `json:"plan_id"`
	PlannedBy string          `json:"planned_by,omitempty"` // who drafted the plan; changed_by applied it
	Parcels   []int64         `json:"parcels"`
	AreaM2    float64         `json:"area_m2"`
	Geometry  json.RawMessage `json:"geometry"` // null for a retired grid
	Current   bool            `json:"current"`
}

// GridHistory lists the versions of a grid inside scope, newest first. A
// grid no plan has touched has one: the current one, with no reason and
// no plan (clients name it in their own language). A version a plan made
// names its applier (changed_by) and its drafter (planned_by).
func (db *DB) GridHistory(ctx context.Context, scope wangge.Scope, code string) ([]GridVersion, error) {
	var current int
	err := db.Pool.QueryRow(ctx, `SELECT version FROM grids WHERE code = $1 AND code LIKE $2`, code, scope.Like()).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("grid %s: %w", code, wangge.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: grid %s history: %w", code, err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT v.version, v.changed_by, v.changed_at, v.reason, v.plan_id, coalesce(p.created_by, ''),
			v.parcel_ids, coalesce(ST_Area(v.geom::geography), 0), coalesce(ST_AsGeoJSON(v.geom, 7)::jsonb, 'null'::jsonb)
		FROM grid_versions v LEFT JOIN grid_plans p ON p.id = v.plan_id WHERE v.grid_code = $1 AND v.grid_code LIKE $2
		UNION ALL
		SELECT g.version, g.updated_by, g.updated_at, '', NULL, '',
			coalesce((SELECT array_agg(id ORDER BY id) FROM parcels WHERE grid_code = g.code), '{}'),
			coalesce(ST_Area(g.geom::geography), 0), coalesce(ST_AsGeoJSON(g.geom, 7)::jsonb, 'null'::jsonb)
		FROM grids g WHERE g.code = $1 AND g.code LIKE $2
			AND NOT EXISTS (SELECT 1 FROM grid_versions v WHERE v.grid_code = g.code AND v.version = g.version)
		ORDER BY 1 DESC`, code, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: grid %s history: %w", code, err)
	}
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GridVersion, error) {
		var v GridVersion
		err := row.Scan(&v.Version, &v.ChangedBy, &v.ChangedAt, &v.Reason, &v.PlanID, &v.PlannedBy, &v.Parcels, &v.AreaM2, &v.Geometry)
		v.Current = v.Version == current
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: grid %s history: %w", code, err)
	}
	return vs, nil
}

// RevertGrid gives grid code (inside scope) back the parcels it had at
// version: parcels it lacks come back from wherever they are now, parcels
// it gained go back to the grid that last held them. It is an ordinary
// plan (previewed, checked, recorded with its own new version) that one
// approver, by, drafts and applies at once: only an approver may
// (wangge.ErrForbidden otherwise), and the plan is marked a revert.
func (db *DB) RevertGrid(ctx context.Context, scope wangge.Scope, code string, version int, by wangge.Principal, reason string, rules PlanRules) (PlanPreview, error) {
	if by.Role != wangge.RoleApprover {
		return PlanPreview{}, fmt.Errorf("a revert is applied at once, so only an approver may, not a %s: %w", by.Role, wangge.ErrForbidden)
	}
	ops, err := db.revertOps(ctx, scope, code, version)
	if err != nil {
		return PlanPreview{}, err
	}
	if reason == "" {
		reason = fmt.Sprintf("revert %s to version %d", code, version)
	}
	p, err := db.createPlan(ctx, scope, PlanRequest{Ops: ops, Reason: reason, By: by}, "revert", rules)
	if err != nil {
		return p, err
	}
	return db.applyPlan(ctx, scope, p.PlanID, by, false, rules)
}

func (db *DB) revertOps(ctx context.Context, scope wangge.Scope, code string, version int) ([]geo.GridOp, error) {
	var (
		status  string
		current int
		want    []int64
		lost    float64
	)
	err := db.Pool.QueryRow(ctx, `SELECT status, version FROM grids WHERE code = $1 AND code LIKE $2`, code, scope.Like()).
		Scan(&status, &current)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("grid %s: %w", code, wangge.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: revert %s: %w", code, err)
	}
	if status != "active" {
		return nil, fmt.Errorf("grid %s is %s: revert the grid it was merged into: %w", code, status, wangge.ErrConflict)
	}
	if version == current {
		return nil, fmt.Errorf("grid %s is at version %d already: %w", code, version, wangge.ErrConflict)
	}
	// Area of the old outline its old parcels no longer cover: parcels cut
	// since then (a split) cannot be put back by reassigning.
	err = db.Pool.QueryRow(ctx, `SELECT v.parcel_ids, coalesce(ST_Area(ST_Difference(v.geom,
			coalesce((SELECT ST_Union(p.geom) FROM parcels p WHERE p.id = ANY(v.parcel_ids)), 'POLYGON EMPTY'::geometry))::geography), 0)
		FROM grid_versions v WHERE v.grid_code = $1 AND v.version = $2`, code, version).Scan(&want, &lost)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("grid %s has no recorded version %d: %w", code, version, wangge.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: revert %s: %w", code, err)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("grid %s had no parcels at version %d: %w", code, version, wangge.ErrConflict)
	}
	if lost > 1 {
		return nil, fmt.Errorf("grid %s: parcels of version %d were cut since (%.0f m² not covered): %w", code, version, lost, wangge.ErrConflict)
	}
	// Parcels gained since: back to the grid whose recorded versions held
	// them last.
	rows, err := db.Pool.Query(ctx, `SELECT p.id, (SELECT v.grid_code FROM grid_versions v
			WHERE v.grid_code <> $1 AND p.id = ANY(v.parcel_ids) ORDER BY v.changed_at DESC, v.id DESC LIMIT 1)
		FROM parcels p WHERE p.grid_code = $1 AND NOT p.id = ANY($2) ORDER BY p.id`, code, want)
	if err != nil {
		return nil, fmt.Errorf("postgis: revert %s: %w", code, err)
	}
	back := map[string][]int64{}
	var (
		id   int64
		home *string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &home}, func() error {
		if home == nil {
			return fmt.Errorf("grid %s: parcel %d has no earlier grid to go back to: %w", code, id, wangge.ErrConflict)
		}
		back[*home] = append(back[*home], id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var ops []geo.GridOp
	homes := make([]string, 0, len(back))
	for h := range back {
		homes = append(homes, h)
	}
	slices.Sort(homes)
	for _, h := range homes {
		ops = append(ops, geo.GridOp{Kind: geo.OpReassign, Parcels: back[h], To: h})
	}
	var missing []int64
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM parcels
		WHERE id = ANY($2) AND grid_code <> $1`, code, want).Scan(&missing); err != nil {
		return nil, fmt.Errorf("postgis: revert %s: %w", code, err)
	}
	if len(missing) > 0 {
		ops = append(ops, geo.GridOp{Kind: geo.OpReassign, Parcels: missing, To: code})
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("grid %s already has the parcels of version %d: %w", code, version, wangge.ErrConflict)
	}
	return ops, nil
}
