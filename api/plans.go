package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// PlanStore previews, applies and records grid edits (postgis.DB). Every
// method takes the caller's scope and filters in SQL; drafter, approver
// and reverter are the caller's principal, never a name from the body.
type PlanStore interface {
	CreatePlan(ctx context.Context, scope wangge.Scope, req postgis.PlanRequest, rules postgis.PlanRules) (postgis.PlanPreview, error)
	Plan(ctx context.Context, scope wangge.Scope, id int64) (postgis.PlanPreview, error)
	ApplyPlan(ctx context.Context, scope wangge.Scope, id int64, by wangge.Principal, rules postgis.PlanRules) (postgis.PlanPreview, error)
	GridHistory(ctx context.Context, scope wangge.Scope, code string) ([]postgis.GridVersion, error)
	GridNeighbours(ctx context.Context, scope wangge.Scope, code string) ([]postgis.GridNeighbour, error)
	RevertGrid(ctx context.Context, scope wangge.Scope, code string, version int, by wangge.Principal, reason string, rules postgis.PlanRules) (postgis.PlanPreview, error)
}

// Plans is what the grid-edit routes need.
type Plans struct {
	Store PlanStore
	Rules postgis.PlanRules // zero: postgis.DefaultPlanRules
	Fresh *Freshness        // nil: an apply answers at commit, before this replica's caches follow
}

func (s *Server) routePlans(d *Plans) {
	if d.Rules == (postgis.PlanRules{}) {
		d.Rules = postgis.DefaultPlanRules
	}
	h := &planHandlers{d: d, log: s.log}
	v1 := s.router.Group("/api/v1")
	v1.POST("/plans", h.create)
	v1.GET("/plans/:id", h.get)
	v1.POST("/plans/:id/apply", h.apply)
	v1.GET("/grids/:code/history", h.history)
	v1.GET("/grids/:code/neighbours", h.neighbours)
	v1.POST("/grids/:code/revert", h.revert)
}

type planHandlers struct {
	d   *Plans
	log *slog.Logger
}

// create: POST /api/v1/plans. 201 with the preview; nothing else changes.
func (h *planHandlers) create(c *gin.Context) {
	var b planBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	req, err := b.request(principal(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	p, err := h.d.Store.CreatePlan(c.Request.Context(), scope(c), req, h.d.Rules)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	setTarget(c, "plan "+strconv.FormatInt(p.PlanID, 10)+" (community "+p.Community+")")
	c.Header("Location", "/api/v1/plans/"+strconv.FormatInt(p.PlanID, 10))
	c.JSON(http.StatusCreated, p)
}

// get: GET /api/v1/plans/{id}, with the preview it was created or applied with.
func (h *planHandlers) get(c *gin.Context) {
	id, err := planID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	p, err := h.d.Store.Plan(c.Request.Context(), scope(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// apply: POST /api/v1/plans/{id}/apply. 200 with what was done; 403 when
// the four-eyes rule refuses the caller; 412 with the grids that changed
// since the preview.
func (h *planHandlers) apply(c *gin.Context) {
	id, err := planID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var b applyBody
	if c.Request.ContentLength != 0 {
		if err := decodeBody(c, &b); err != nil {
			fail(c, h.log, err)
			return
		}
	}
	p, err := h.d.Store.ApplyPlan(c.Request.Context(), scope(c), id, principal(c), h.d.Rules)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	h.settle(c)
	c.JSON(http.StatusOK, p)
}

// history: GET /api/v1/grids/{code}/history, newest version first.
func (h *planHandlers) history(c *gin.Context) {
	code, err := gridParam(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	vs, err := h.d.Store.GridHistory(c.Request.Context(), scope(c), code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"code": code, "versions": vs})
}

// neighbours: GET /api/v1/grids/{code}/neighbours — the grids sharing an
// edge with it, longest first; those of its community can take its parcels.
func (h *planHandlers) neighbours(c *gin.Context) {
	code, err := gridParam(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	ns, err := h.d.Store.GridNeighbours(c.Request.Context(), scope(c), code)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"code": code, "neighbours": ns})
}

// revert: POST /api/v1/grids/{code}/revert {version, reason}: the grid
// gets the parcels of that version back, as a new plan the calling
// approver drafts and applies at once.
func (h *planHandlers) revert(c *gin.Context) {
	code, err := gridParam(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	var b revertBody
	if err := decodeBody(c, &b); err != nil {
		fail(c, h.log, err)
		return
	}
	if err := b.check(); err != nil {
		fail(c, h.log, err)
		return
	}
	p, err := h.d.Store.RevertGrid(c.Request.Context(), scope(c), code, b.Version, principal(c), b.Reason, h.d.Rules)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	setTarget(c, "grid "+code+" (plan "+strconv.FormatInt(p.PlanID, 10)+")")
	h.settle(c)
	c.JSON(http.StatusOK, p)
}

// settle waits for this replica's locate index and tiles to reflect the
// committed edit; a wait that gives up is logged, the edit stands.
func (h *planHandlers) settle(c *gin.Context) {
	if err := h.d.Fresh.Wait(c.Request.Context()); err != nil {
		h.log.Warn("edit applied; this replica is still catching up", "request_id", requestID(c), "err", err)
	}
}

// gridParam reads the :code of a grid route.
func gridParam(c *gin.Context) (string, error) {
	code := c.Param("code")
	if !geo.IsGridCode(code) {
		return "", wangge.Invalid("code", "%q is not a 15-digit grid code", code)
	}
	return code, nil
}
