package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// FeatureStore reads layers as features (postgis.DB).
type FeatureStore interface {
	Features(ctx context.Context, scope wangge.Scope, q postgis.FeatureQuery) (postgis.FeaturePage, error)
	Feature(ctx context.Context, scope wangge.Scope, c postgis.Collection, id string) (postgis.Feature, error)
}

// Page sizes: limit defaults to 100 and is capped at 1,000 (a larger
// limit is served as 1,000, as OGC API – Features allows; links then
// carry the cap).
const (
	defaultFeatureLimit = 100
	maxFeatureLimit     = 1000
)

type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

type collectionJSON struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	ItemType    string  `json:"itemType"`
	Extent      *extent `json:"extent,omitempty"`
	Links       []link  `json:"links"`
}

type extent struct {
	Spatial struct {
		BBox [][]float64 `json:"bbox"`
		CRS  string      `json:"crs"`
	} `json:"spatial"`
}

func (h *queryHandlers) collectionBody(c *gin.Context, col postgis.Collection) collectionJSON {
	self := baseURL(c) + "/api/v1/collections/" + col.ID
	out := collectionJSON{ID: col.ID, Title: col.Title, Description: col.Description, ItemType: "feature",
		Links: []link{{Href: self, Rel: "self", Type: "application/json"},
			{Href: self + "/items", Rel: "items", Type: "application/geo+json"}}}
	if b := h.extent.get(c.Request.Context(), h.d.Features); b != nil {
		out.Extent = &extent{}
		out.Extent.Spatial.BBox = [][]float64{b}
		out.Extent.Spatial.CRS = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	}
	return out
}

// collections: GET /api/v1/collections
func (h *queryHandlers) collections(c *gin.Context) {
	cols := postgis.Collections()
	out := make([]collectionJSON, len(cols))
	for i, col := range cols {
		out[i] = h.collectionBody(c, col)
	}
	c.JSON(http.StatusOK, gin.H{"collections": out,
		"links": []link{{Href: baseURL(c) + "/api/v1/collections", Rel: "self", Type: "application/json"}}})
}

// collection: GET /api/v1/collections/:layer
func (h *queryHandlers) collection(c *gin.Context) {
	col, err := postgis.CollectionByID(c.Param("layer"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, h.collectionBody(c, col))
}

type featureCollectionJSON struct {
	Type           string            `json:"type"`
	Features       []postgis.Feature `json:"features"`
	NumberMatched  *int64            `json:"numberMatched,omitempty"` // omitted past postgis.MaxCounted
	NumberReturned int               `json:"numberReturned"`
	TimeStamp      time.Time         `json:"timeStamp"`
	Links          []link            `json:"links"`
}

// items: GET /api/v1/collections/:layer/items?bbox=&limit=&offset=&datetime=
// — the items inside the caller's scope (numberMatched counts those).
func (h *queryHandlers) items(c *gin.Context) {
	col, err := postgis.CollectionByID(c.Param("layer"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	q, err := parseItems(c.Request.URL.Query(), col)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	page, err := h.d.Features.Features(c.Request.Context(), scope(c), q)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	out := featureCollectionJSON{Type: "FeatureCollection", Features: page.Features,
		NumberReturned: len(page.Features), TimeStamp: time.Now().UTC()}
	if page.Counted {
		out.NumberMatched = &page.Matched
	}
	if out.Features == nil {
		out.Features = []postgis.Feature{}
	}
	out.Links = pageLinks(c, q, page)
	c.Header("Content-Type", "application/geo+json")
	c.JSON(http.StatusOK, out)
}

// pageLinks are self, next (by cursor) when more items follow, and prev
// for offset pages.
func pageLinks(c *gin.Context, q postgis.FeatureQuery, page postgis.FeaturePage) []link {
	at := func(set map[string]string) string {
		v := url.Values{}
		for k, vs := range c.Request.URL.Query() {
			v[k] = vs
		}
		v.Set("limit", strconv.Itoa(q.Limit))
		for _, k := range []string{"offset", "cursor"} {
			v.Del(k)
		}
		for k, x := range set {
			v.Set(k, x)
		}
		return baseURL(c) + c.Request.URL.Path + "?" + v.Encode()
	}
	const geo = "application/geo+json"
	self := map[string]string{}
	if q.After != "" {
		self["cursor"] = cursor(q.Collection, q.After)
	} else if q.Offset > 0 {
		self["offset"] = strconv.Itoa(q.Offset)
	}
	links := []link{{Href: at(self), Rel: "self", Type: geo}}
	if page.More && len(page.Features) > 0 {
		last := fmt.Sprint(page.Features[len(page.Features)-1].ID)
		links = append(links, link{Href: at(map[string]string{"cursor": cursor(q.Collection, last)}), Rel: "next", Type: geo})
	}
	if q.After == "" && q.Offset > 0 {
		links = append(links, link{Href: at(map[string]string{"offset": strconv.Itoa(max(q.Offset-q.Limit, 0))}), Rel: "prev", Type: geo})
	}
	return links
}

// item: GET /api/v1/collections/:layer/items/:id — one outside the
// caller's scope is not found.
func (h *queryHandlers) item(c *gin.Context) {
	col, err := postgis.CollectionByID(c.Param("layer"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f, err := h.d.Features.Feature(c.Request.Context(), scope(c), col, c.Param("id"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	self := baseURL(c) + c.Request.URL.Path
	c.Header("Content-Type", "application/geo+json")
	c.JSON(http.StatusOK, struct {
		postgis.Feature
		Links []link `json:"links"`
	}{f, []link{{Href: self, Rel: "self", Type: "application/geo+json"},
		{Href: baseURL(c) + "/api/v1/collections/" + col.ID, Rel: "collection", Type: "application/json"}}})
}
