package api

import (
	"context"
	"encoding/json"
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
	DataVersioner
}

// kpiDays is the wall's window, the one pushed as kpi.changed.
const kpiDays = 7

// kpiAnswers computes KPI answers through the replica's answer cache: the
// walls of one jurisdiction share one computation per data version.
type kpiAnswers struct {
	src   KPISource
	cache *answerCache[kpiBody]
}

func kpiKey(sc wangge.Scope, region string, days int) string {
	return fmt.Sprintf("%s/%s/%d", sc, region, days)
}

func (k *kpiAnswers) compute(sc wangge.Scope, region string, days int) func(context.Context) (kpiBody, error) {
	return func(ctx context.Context) (kpiBody, error) {
		now := time.Now().In(cityZone)
		today := wangge.CityDay(now)
		from := today.AddDate(0, 0, 1-days) // the window includes today
		w, t, err := k.src.KPI(ctx, sc, region, from, today, now)
		return kpiBody{Region: region, WindowDays: days, GeneratedAt: now, Today: t, Window: w}, err
	}
}

func (k *kpiAnswers) get(ctx context.Context, sc wangge.Scope, region string, days int) (kpiBody, bool, error) {
	return k.cache.get(ctx, kpiKey(sc, region, days), k.compute(sc, region, days))
}

// changed computes a jurisdiction's wall KPI afresh, for kpi.changed.
func (k *kpiAnswers) changed(ctx context.Context, sc wangge.Scope) ([]byte, error) {
	b, err := k.cache.recompute(ctx, kpiKey(sc, sc.Region(), kpiDays), k.compute(sc, sc.Region(), kpiDays))
	if err != nil {
		return nil, err
	}
	return json.Marshal(b)
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
func (h *eventHandlers) kpiAnswer(c *gin.Context) {
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
	body, hit, err := h.kpi.get(c.Request.Context(), sc, region, days)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	cacheHeader(c, hit)
	c.JSON(http.StatusOK, body)
}

// parseKPIQuery: region a district/street/community/grid code or empty;
// window "Nd" (default 7d, at most 366d).
func parseKPIQuery(region, window string) (string, int, error) {
	if region != "" {
		if _, ok := wangge.LevelOf(region); !ok {
			return "", 0, wangge.Invalid("region", "%q is not a district, street, community or grid code", region)
		}
	}
	days := kpiDays
	if window != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(window, "d"))
		if err != nil || !strings.HasSuffix(window, "d") || n < 1 || n > 366 {
			return "", 0, wangge.Invalid("window", "window is a number of days like 7d or 30d (1d to 366d), got %q", window)
		}
		days = n
	}
	return region, days, nil
}
