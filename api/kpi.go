package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// KPISource computes the command centre's figures (postgis.DB).
type KPISource interface {
	KPI(ctx context.Context, scope wangge.Scope, region string, windowFrom, todayFrom, to time.Time) (window, today postgis.KPIPeriod, err error)
}

// kpiBody is GET /api/v1/kpi.
type kpiBody struct {
	Region      string            `json:"region"` // "" is the whole city
	WindowDays  int               `json:"window_days"`
	GeneratedAt time.Time         `json:"generated_at"`
	Today       postgis.KPIPeriod `json:"today"` // since midnight, city time
	Window      postgis.KPIPeriod `json:"window"`
}

// kpi: GET /api/v1/kpi?region=&window=7d — events reported today and over
// the window: reported, resolved, closed, closure rate, open, overdue,
// median handling time, satisfaction; overall, by tier and by category.
// The region defaults to the caller's jurisdiction; one outside it is not
// found.
func (h *eventHandlers) kpi(c *gin.Context) {
	region, days, err := parseKPIQuery(c.Query("region"), c.Query("window"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	sc := scope(c)
	if region == "" {
		region = sc.Region()
	} else if !sc.Covers(region) {
		fail(c, h.log, fmt.Errorf("region %s is outside your jurisdiction (%s): %w", region, sc, wangge.ErrNotFound))
		return
	}
	now := time.Now().In(cityZone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cityZone)
	from := today.AddDate(0, 0, 1-days) // the window includes today
	w, t, err := h.d.KPI.KPI(c.Request.Context(), sc, region, from, today, now)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, kpiBody{Region: region, WindowDays: days, GeneratedAt: now, Today: t, Window: w})
}

// parseKPIQuery: region a district/street/community/grid code or empty;
// window "Nd" (default 7d, at most 366d).
func parseKPIQuery(region, window string) (string, int, error) {
	if region != "" {
		if _, ok := wangge.LevelOf(region); !ok {
			return "", 0, wangge.Invalid("region", "%q is not a district, street, community or grid code", region)
		}
	}
	days := 7
	if window != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(window, "d"))
		if err != nil || !strings.HasSuffix(window, "d") || n < 1 || n > 366 {
			return "", 0, wangge.Invalid("window", "window is a number of days like 7d or 30d (1d to 366d), got %q", window)
		}
		days = n
	}
	return region, days, nil
}
