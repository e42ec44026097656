package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// RegionStore reads the hierarchy, its counts and buildings (postgis.DB).
type RegionStore interface {
	Region(ctx context.Context, code string, geometry bool) (postgis.RegionDetail, error)
	Districts(ctx context.Context) ([]postgis.RegionNode, error)
	Building(ctx context.Context, id int64) (postgis.Building, error)
}

// regions: GET /api/v1/regions — the districts, the top of the drill-down.
func (h *queryHandlers) regions(c *gin.Context) {
	ds, err := h.d.Regions.Districts(c.Request.Context())
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"level": "city", "children": ds})
}

// region: GET /api/v1/regions/:code[?geometry=true] — a district, street,
// community or grid with its parent, children and counts.
func (h *queryHandlers) region(c *gin.Context) {
	code := c.Param("code")
	if _, ok := wangge.LevelOf(code); !ok {
		fail(c, h.log, wangge.Invalid("code", "a region code has 6 (district), 9 (street), 12 (community) or 15 (grid) digits, got %q", code))
		return
	}
	geometry, err := boolParam(c, "geometry")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	d, err := h.d.Regions.Region(c.Request.Context(), code, geometry)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// boolParam reads an optional true/false query parameter.
func boolParam(c *gin.Context, name string) (bool, error) {
	s := c.Query(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, wangge.Invalid(name, "%s must be true or false, got %q", name, s)
	}
	return b, nil
}

// residentJSON is a resident as the API shows it: PII masked.
type residentJSON struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	IDNumber string   `json:"id_number"`
	Phone    string   `json:"phone"`
	Gender   string   `json:"gender"`
	Age      int      `json:"age"`
	Relation string   `json:"relation"`
	Tags     []string `json:"tags"`
}

type householdJSON struct {
	ID        int64          `json:"id"`
	UnitNo    string         `json:"unit_no"`
	Size      int            `json:"size"`
	Residents []residentJSON `json:"residents"`
}

type buildingJSON struct {
	postgis.Building
	Households      []householdJSON `json:"households"` // shadows the unmasked ones
	HouseholdsCount int             `json:"households_count"`
	ResidentsCount  int             `json:"residents_count"`
	PIIMasked       bool            `json:"pii_masked"`
}

// building: GET /api/v1/buildings/:id — the building with its households
// and residents, PII masked (no role may see it unmasked yet).
func (h *queryHandlers) building(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	b, err := h.d.Regions.Building(c.Request.Context(), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, maskBuilding(b, time.Now()))
}

func maskBuilding(b postgis.Building, now time.Time) buildingJSON {
	out := buildingJSON{Building: b, Households: make([]householdJSON, len(b.Households)), PIIMasked: true}
	for i, hh := range b.Households {
		j := householdJSON{ID: hh.ID, UnitNo: hh.UnitNo, Size: hh.Size, Residents: make([]residentJSON, len(hh.Residents))}
		for k, r := range hh.Residents {
			j.Residents[k] = residentJSON{ID: r.ID, Name: MaskName(r.Name), IDNumber: MaskIDNumber(r.IDNumber),
				Phone: MaskPhone(r.Phone), Gender: r.Gender, Age: age(r.BirthDate, now), Relation: r.Relation, Tags: r.Tags}
		}
		out.Households[i] = j
		out.ResidentsCount += len(hh.Residents)
	}
	out.HouseholdsCount = len(b.Households)
	return out
}

// age in whole years at now.
func age(birth, now time.Time) int {
	y := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		y--
	}
	return max(y, 0)
}
