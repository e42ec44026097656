package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// Collection is a layer served as OGC API – Features items.
type Collection struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Temporal    bool   `json:"-"` // datetime filters apply (on timeCol)

	table    string // FROM clause
	where    string // always-on filter ("" = none)
	scopeCol string // the code the caller's scope filters on
	idCol    string // text or bigint
	textID   bool   // codes, not numbers
	timeCol  string
	propsSQL string // a jsonb expression of the row's properties (never PII)
}

// collections are the one-map layers. Residents and households are not
// here: they are PII, reachable only masked through /buildings/{id}.
var collections = []Collection{
	regionCollection("districts", "Districts 区县", "district"),
	regionCollection("streets", "Streets and towns 街道乡镇", "street"),
	regionCollection("communities", "Communities and villages 社区村", "community"),
	{ID: "grids", Title: "Grids 网格", Description: "Active grids with their resident counts", Temporal: true,
		table: "grids", where: "status = 'active'", scopeCol: "code", idCol: "code", textID: true, timeCol: "updated_at",
		propsSQL: `jsonb_build_object('code', code, 'name', name, 'community_code', community_code, 'version', version,
			'households', households, 'residents', residents, 'updated_at', updated_at)`},
	{ID: "parcels", Title: "Parcels 地块", Description: "Land parcels, the atoms grids are made of",
		table: "parcels", scopeCol: "grid_code", idCol: "id", propsSQL: `jsonb_build_object('grid_code', grid_code, 'land_use', land_use)`},
	{ID: "buildings", Title: "Buildings 房屋", Description: "Buildings with household and resident counts (no PII)",
		table: "buildings", scopeCol: "grid_code", idCol: "id", propsSQL: `jsonb_build_object('grid_code', grid_code, 'address', address,
			'name', name, 'use', use, 'floors', floors, 'built_year', built_year, 'households', households,
			'residents', residents)`},
	{ID: "objects", Title: "City components 部件", Description: "Hydrants, manholes, street lights, cameras, sensors…",
		table: "objects", scopeCol: "grid_code", idCol: "id", propsSQL: `jsonb_build_object('category', category, 'category_code', category_code,
			'grid_code', grid_code, 'building_id', building_id, 'device_id', device_id, 'status', status,
			'installed_on', installed_on)`},
	{ID: "posts", Title: "Responder posts 站点", Description: "Police, fire, medical, community and micro fire stations",
		table: "posts", scopeCol: "grid_code", idCol: "id", propsSQL: `jsonb_build_object('kind', kind, 'name', name, 'address', address,
			'phone', phone, 'grid_code', grid_code)`},
	{ID: "events", Title: "Events 事件", Description: "Incidents and cases (no reporter); datetime filters reported_at",
		Temporal: true, table: "events", scopeCol: "grid_code", idCol: "id", timeCol: "reported_at",
		propsSQL: `jsonb_build_object('category_code', category_code, 'status', status, 'tier', tier, 'source', source,
			'priority', priority, 'grid_code', grid_code, 'address', address, 'description', description,
			'reported_at', reported_at, 'deadline_at', deadline_at, 'closed_at', closed_at)`},
}

func regionCollection(id, title, level string) Collection {
	return Collection{ID: id, Title: title, Description: "Regions of level " + level, Temporal: true,
		table: "regions", where: "level = '" + level + "'", scopeCol: "code", idCol: "code", textID: true, timeCol: "updated_at",
		propsSQL: `jsonb_build_object('code', code, 'name', name, 'level', level, 'kind', kind,
			'parent_code', parent_code, 'updated_at', updated_at)`}
}

// Collections lists the layers served as features.
func Collections() []Collection { return collections }

// CollectionByID finds a layer; unknown ones are not found.
func CollectionByID(id string) (Collection, error) {
	for _, c := range collections {
		if c.ID == id {
			return c, nil
		}
	}
	names := make([]string, len(collections))
	for i, c := range collections {
		names[i] = c.ID
	}
	return Collection{}, fmt.Errorf("collection %q: %w (known: %s)", id, wangge.ErrNotFound, strings.Join(names, ", "))
}

// FeatureQuery selects a page of a collection's items: after the item
// After (keyset, from a next link's cursor) or, for small offsets, at
// Offset.
type FeatureQuery struct {
	BBox       *[4]float64 // min lon, min lat, max lon, max lat
	From, To   *time.Time  // datetime: inclusive bounds, nil = open
	Limit      int
	Offset     int    // at most MaxFeatureOffset; 0 with After
	After      string // the id (text) of the last item of the previous page; "" from the start
	Collection Collection
}

// MaxFeatureOffset bounds OFFSET paging (each page would read every row
// before it); further pages are reached by the next link's cursor.
const MaxFeatureOffset = 10_000

// MaxCounted is how far numberMatched counts; past it the number is
// omitted, as OGC API – Features allows, instead of counting millions of
// events for every page.
const MaxCounted = 10_000

// Feature is one GeoJSON feature.
type Feature struct {
	Type       string          `json:"type"`
	ID         any             `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// where is the WHERE clause of a page: always the scope first ($1).
func (q FeatureQuery) where(scope wangge.Scope) (string, []any) {
	c := q.Collection
	conds := []string{c.scopeCol + " LIKE $1"}
	args := []any{scope.Like()}
	if c.where != "" {
		conds = append(conds, c.where)
	}
	if q.BBox != nil {
		args = append(args, q.BBox[0], q.BBox[1], q.BBox[2], q.BBox[3])
		conds = append(conds, fmt.Sprintf("ST_Intersects(geom, ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326))",
			len(args)-3, len(args)-2, len(args)-1, len(args)))
	}
	if q.From != nil {
		args = append(args, *q.From)
		conds = append(conds, fmt.Sprintf("%s >= $%d", c.timeCol, len(args)))
	}
	if q.To != nil {
		args = append(args, *q.To)
		conds = append(conds, fmt.Sprintf("%s <= $%d", c.timeCol, len(args)))
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// FeaturePage is one page of items, how many match (Matched, when Counted:
// at most MaxCounted are counted) and whether more follow.
type FeaturePage struct {
	Features []Feature
	Matched  int64
	Counted  bool
	More     bool
}

// Features reads one page of a collection inside the scope, in id order
// (stable pages), by keyset after q.After: each page costs the same
// however deep it is. The count stops at MaxCounted.
func (db *DB) Features(ctx context.Context, scope wangge.Scope, q FeatureQuery) (FeaturePage, error) {
	c := q.Collection
	where, args := q.where(scope)
	var page FeaturePage
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+c.table+where+
		` LIMIT `+strconv.Itoa(MaxCounted+1)+`) x`, args...).Scan(&page.Matched); err != nil {
		return page, fmt.Errorf("postgis: features %s: count: %w", c.ID, err)
	}
	page.Counted = page.Matched <= MaxCounted
	if q.After != "" {
		key, err := c.key(q.After)
		if err != nil {
			return page, err
		}
		args = append(args, key)
		where += fmt.Sprintf(" AND %s > $%d", c.idCol, len(args))
	}
	args = append(args, q.Limit+1, q.Offset)
	// The id goes out as text under another name: ORDER BY id would
	// otherwise sort that text ("10" before "9") instead of the index.
	sql := fmt.Sprintf(`SELECT %s::text AS fid, ST_AsGeoJSON(geom, 7), %s FROM %s%s ORDER BY %s LIMIT $%d OFFSET $%d`,
		c.idCol, c.propsSQL, c.table, where, c.idCol, len(args)-1, len(args))
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return page, fmt.Errorf("postgis: features %s: %w", c.ID, err)
	}
	page.Features, err = pgx.CollectRows(rows, c.scanFeature)
	if err != nil {
		return page, fmt.Errorf("postgis: features %s: %w", c.ID, err)
	}
	if len(page.Features) > q.Limit {
		page.Features, page.More = page.Features[:q.Limit], true
	}
	return page, nil
}

// key is an item id as the collection's id column takes it.
func (c Collection) key(id string) (any, error) {
	if c.textID {
		return id, nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return nil, wangge.Invalid("id", "%s ids are positive integers, got %q", c.ID, id)
	}
	return n, nil
}

// Feature reads one item by id (a code for regions and grids); one
// outside the scope is not found.
func (db *DB) Feature(ctx context.Context, scope wangge.Scope, c Collection, id string) (Feature, error) {
	key, err := c.key(id)
	if err != nil {
		return Feature{}, err
	}
	where := " WHERE " + c.idCol + " = $1 AND " + c.scopeCol + " LIKE $2"
	if c.where != "" {
		where += " AND " + c.where
	}
	rows, err := db.Pool.Query(ctx, fmt.Sprintf(`SELECT %s::text, ST_AsGeoJSON(geom, 7), %s FROM %s%s`,
		c.idCol, c.propsSQL, c.table, where), key, scope.Like())
	if err != nil {
		return Feature{}, fmt.Errorf("postgis: feature %s/%s: %w", c.ID, id, err)
	}
	f, err := pgx.CollectExactlyOneRow(rows, c.scanFeature)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("postgis: feature %s/%s: %w", c.ID, id, wangge.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("postgis: feature %s/%s: %w", c.ID, id, err)
	}
	return f, nil
}

func (c Collection) scanFeature(row pgx.CollectableRow) (Feature, error) {
	var (
		id          string
		geom, props []byte
	)
	if err := row.Scan(&id, &geom, &props); err != nil {
		return Feature{}, err
	}
	f := Feature{Type: "Feature", ID: id, Geometry: geom, Properties: props}
	if !c.textID {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return f, err
		}
		f.ID = n
	}
	return f, nil
}
