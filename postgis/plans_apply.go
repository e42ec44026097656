package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
)

// ApplyPlan commits a draft plan of a community inside scope in one
// transaction. by is the approver, from the credential: wangge.CheckFourEyes
// must let it apply what the drafter recorded with the plan drafted
// (wangge.ErrForbidden otherwise). Every grid the plan touches must still
// have the version it was previewed against (else a *StaleError, 412).
// Grid rows are locked in code order, so two applies on one community run
// one after the other and the second sees the first.
func (db *DB) ApplyPlan(ctx context.Context, scope wangge.Scope, id int64, by wangge.Principal, rules PlanRules) (PlanPreview, error) {
	return db.applyPlan(ctx, scope, id, by, true, rules)
}

// applyPlan is ApplyPlan; fourEyes false is a revert, which its approver
// drafted a moment ago and applies at once.
func (db *DB) applyPlan(ctx context.Context, scope wangge.Scope, id int64, by wangge.Principal, fourEyes bool, rules PlanRules) (PlanPreview, error) {
	var out PlanPreview
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			community, status, reason, createdBy string
			opsJSON, versionsJSON                []byte
			created                              time.Time
			drafterID                            *int64
			drafterRegion                        *string
		)
		err := tx.QueryRow(ctx, `SELECT community_code, status, operations, versions, reason, created_by, created_at,
				created_by_user, created_region
			FROM grid_plans WHERE id = $1 AND community_code LIKE $2 FOR UPDATE`, id, scope.Like()).
			Scan(&community, &status, &opsJSON, &versionsJSON, &reason, &createdBy, &created, &drafterID, &drafterRegion)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("plan %d: %w", id, wangge.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgis: plan %d: %w", id, err)
		}
		if fourEyes {
			d := wangge.Drafter{Name: createdBy, Known: drafterRegion != nil}
			if drafterID != nil {
				d.UserID = *drafterID
			}
			if drafterRegion != nil {
				d.Region = *drafterRegion
			}
			if err := wangge.CheckFourEyes(d, by); err != nil {
				return fmt.Errorf("plan %d: %w", id, err)
			}
		}
		if status != "draft" {
			return fmt.Errorf("plan %d is already %s: %w", id, status, wangge.ErrConflict)
		}
		var (
			ops      []geo.GridOp
			versions map[string]int
		)
		if err := json.Unmarshal(opsJSON, &ops); err != nil {
			return fmt.Errorf("postgis: plan %d: %w", id, err)
		}
		if err := json.Unmarshal(versionsJSON, &versions); err != nil {
			return fmt.Errorf("postgis: plan %d: %w", id, err)
		}
		e, p, err := preview(ctx, tx, scope, community, ops, versions, rules)
		if err != nil {
			var se *StaleError
			if errors.As(err, &se) {
				se.Plan = id
			}
			return err
		}
		actor := by.Actor()
		if err := e.finish(ctx, id, actor, reason, p.Moves); err != nil {
			return err
		}
		var applied time.Time
		p.Versions = versions
		p.PlanID, p.Status, p.Reason, p.By, p.CreatedAt, p.AppliedBy = id, "applied", reason, createdBy, created, actor
		body, _ := json.Marshal(p)
		if err := tx.QueryRow(ctx, `UPDATE grid_plans SET status = 'applied', applied_by = $2, applied_by_user = NULLIF($3, 0),
				applied_at = now(), preview = $4
			WHERE id = $1 RETURNING applied_at`, id, actor, by.UserID, body).Scan(&applied); err != nil {
			return fmt.Errorf("postgis: plan %d: %w", id, err)
		}
		p.AppliedAt = &applied
		out = p
		return nil
	})
	return out, err
}
