package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// PlanRequest is a draft plan: operations on the grids of one community,
// and who drafts it (from the credential, never from a request body).
type PlanRequest struct {
	Ops    []geo.GridOp
	Reason string
	By     wangge.Principal
}

// PlanPreview is what a plan does, as computed from the current data.
type PlanPreview struct {
	PlanID    int64          `json:"plan_id"`
	Community string         `json:"community"`
	Status    string         `json:"status"` // draft, applied
	Reason    string         `json:"reason"`
	By        string         `json:"by"` // the drafter
	CreatedAt time.Time      `json:"created_at"`
	AppliedBy string         `json:"applied_by,omitempty"`
	AppliedAt *time.Time     `json:"applied_at,omitempty"`
	Versions  map[string]int `json:"versions"` // grid code → version the plan was previewed against
	Ops       []geo.GridOp   `json:"operations"`
	Grids     []GridPreview  `json:"grids"`
	Moves     []GridMove     `json:"moves"`
	Workers   []WorkerMove   `json:"workers"`
	Problems  []geo.Problem  `json:"problems"`
}

// StaleError refuses an apply because grids changed since the preview.
type StaleError struct {
	Plan    int64
	Changed []StaleGrid
}

// StaleGrid is a grid whose version moved on since the plan saw it.
type StaleGrid struct {
	Code    string `json:"code"`
	Planned int    `json:"planned_version"`
	Current int    `json:"current_version"`
	Status  string `json:"status"`
}

func (e *StaleError) Error() string {
	parts := make([]string, len(e.Changed))
	for i, g := range e.Changed {
		parts[i] = fmt.Sprintf("%s (version %d, now %d)", g.Code, g.Planned, g.Current)
	}
	return fmt.Sprintf("plan %d: grids changed since the preview: %s; make a new plan", e.Plan, strings.Join(parts, ", "))
}

// Unwrap makes errors.Is(err, wangge.ErrStale) true.
func (e *StaleError) Unwrap() error { return wangge.ErrStale }

// preview runs the plan's operations in tx and reports what they do.
// With versions (an apply), the community's grids are locked first and
// the plan's grids must still have those versions.
func preview(ctx context.Context, tx pgx.Tx, scope wangge.Scope, community string, ops []geo.GridOp, versions map[string]int, rules PlanRules) (*gridEdit, PlanPreview, error) {
	var p PlanPreview
	e, err := beginEdit(ctx, tx, scope, community, versions != nil)
	if err != nil {
		return nil, p, err
	}
	if err := e.checkVersions(versions); err != nil {
		return nil, p, err
	}
	if err := e.run(ctx, ops); err != nil {
		return nil, p, err
	}
	p.Moves, p.Workers, err = e.settle(ctx)
	if err != nil {
		return nil, p, err
	}
	p.Grids, p.Problems, err = e.measure(ctx, rules)
	if err != nil {
		return nil, p, err
	}
	if len(p.Problems) > 0 {
		return nil, p, &geo.PlanError{Problems: p.Problems}
	}
	p.Community, p.Ops = community, ops
	p.Versions = map[string]int{}
	for _, code := range e.touched {
		if !slices.Contains(e.created, code) {
			p.Versions[code] = e.grids[code].Version
		}
	}
	if p.Moves == nil {
		p.Moves = []GridMove{}
	}
	if p.Workers == nil {
		p.Workers = []WorkerMove{}
	}
	p.Problems = []geo.Problem{}
	return e, p, nil
}

// CreatePlan previews a plan without changing anything (its transaction
// is rolled back) and stores it as a draft, with its drafter and the
// drafter's region (for the four-eyes apply). A plan whose community lies
// outside scope is wangge.ErrNotFound, before anything is previewed; an
// invalid plan is refused with a *geo.PlanError and not stored.
func (db *DB) CreatePlan(ctx context.Context, scope wangge.Scope, req PlanRequest, rules PlanRules) (PlanPreview, error) {
	return db.createPlan(ctx, scope, req, "plan", rules)
}

func (db *DB) createPlan(ctx context.Context, scope wangge.Scope, req PlanRequest, kind string, rules PlanRules) (PlanPreview, error) {
	community, err := geo.CheckOps(req.Ops)
	if err != nil {
		return PlanPreview{}, err
	}
	var visible bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1 AND code LIKE $2)`,
		community, scope.Like()).Scan(&visible); err != nil {
		return PlanPreview{}, fmt.Errorf("postgis: plan: %w", err)
	}
	if !visible {
		return PlanPreview{}, fmt.Errorf("community %s: %w", community, wangge.ErrNotFound)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return PlanPreview{}, fmt.Errorf("postgis: plan: %w", err)
	}
	_, p, err := preview(ctx, tx, scope, community, req.Ops, nil, rules)
	_ = tx.Rollback(ctx) // a preview changes nothing
	if err != nil {
		return p, err
	}
	p.Status, p.Reason, p.By = "draft", req.Reason, req.By.Actor()
	ops, _ := json.Marshal(req.Ops)
	versions, _ := json.Marshal(p.Versions)
	body, _ := json.Marshal(p)
	err = db.Pool.QueryRow(ctx, `INSERT INTO grid_plans (community_code, operations, versions, preview, reason,
			created_by, created_by_user, created_region, kind)
		SELECT $1, $2, $3, $4, $5, $6, NULLIF($7, 0), $8, $9 WHERE $1 LIKE $10
		RETURNING id, created_at`, community, ops, versions, body, req.Reason,
		req.By.Actor(), req.By.UserID, req.By.Region, kind, scope.Like()).Scan(&p.PlanID, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("community %s: %w", community, wangge.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("postgis: store plan: %w", err)
	}
	return p, nil
}

// Plan reads a stored plan of a community inside scope, with the preview
// it was created (or applied) with.
func (db *DB) Plan(ctx context.Context, scope wangge.Scope, id int64) (PlanPreview, error) {
	var (
		p         PlanPreview
		body      []byte
		appliedBy *string
	)
	err := db.Pool.QueryRow(ctx, `SELECT preview, status, created_at, applied_at, applied_by FROM grid_plans
		WHERE id = $1 AND community_code LIKE $2`, id, scope.Like()).
		Scan(&body, &p.Status, &p.CreatedAt, &p.AppliedAt, &appliedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("plan %d: %w", id, wangge.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("postgis: plan %d: %w", id, err)
	}
	status, created, applied := p.Status, p.CreatedAt, p.AppliedAt
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("postgis: plan %d: %w", id, err)
	}
	p.PlanID, p.Status, p.CreatedAt, p.AppliedAt = id, status, created, applied
	if appliedBy != nil {
		p.AppliedBy = *appliedBy
	}
	return p, nil
}

// checkVersions compares the versions a plan saw with the grids' now
// (locked by beginEdit).
func (e *gridEdit) checkVersions(versions map[string]int) error {
	stale := &StaleError{}
	for code, v := range versions {
		g, ok := e.grids[code]
		if !ok {
			stale.Changed = append(stale.Changed, StaleGrid{Code: code, Planned: v, Status: "missing"})
		} else if g.Version != v {
			stale.Changed = append(stale.Changed, StaleGrid{Code: code, Planned: v, Current: g.Version, Status: g.Status})
		}
	}
	if len(stale.Changed) == 0 {
		return nil
	}
	slices.SortFunc(stale.Changed, func(a, b StaleGrid) int { return cmpStr(a.Code, b.Code) })
	return stale
}
