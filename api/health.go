package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Health is what /readyz needs from the store.
type Health interface {
	Ping(ctx context.Context) error
	Pending(ctx context.Context) ([]string, error)
}

// healthz answers while the process is up, whatever the database does, so
// an orchestrator does not restart a replica for a database outage.
func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 only when the database is reachable and every
// migration is applied, so a load balancer sends no traffic before that.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.health.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database unreachable"})
		return
	}
	pending, err := s.health.Pending(ctx)
	if err != nil {
		s.log.Warn("not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "cannot read schema_migrations"})
		return
	}
	if len(pending) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "migrations pending", "pending": pending})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
