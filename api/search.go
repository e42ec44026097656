package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Searcher finds regions, grids, buildings and posts (postgis.DB).
type Searcher interface {
	Search(ctx context.Context, scope wangge.Scope, q string, limit int) ([]postgis.SearchHit, error)
}

const defaultSearchLimit = 20

// search: GET /api/v1/search?q=&limit= — ranked, best first, inside the
// caller's scope.
func (h *queryHandlers) search(c *gin.Context) {
	limit := defaultSearchLimit
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > postgis.MaxSearchLimit {
			fail(c, h.log, wangge.Invalid("limit", "limit must be an integer between 1 and %d, got %q", postgis.MaxSearchLimit, s))
			return
		}
		limit = n
	}
	q := c.Query("q")
	hits, err := h.d.Search.Search(c.Request.Context(), scope(c), q, limit)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	if hits == nil {
		hits = []postgis.SearchHit{}
	}
	c.JSON(http.StatusOK, gin.H{"q": q, "count": len(hits), "results": hits})
}
