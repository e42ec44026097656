package postgis

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/wangge/wangge"
)

// SearchHit is one search result: what it is, its id (a code for regions
// and grids), a label, a detail line, its rank score and a point inside
// it to fly the map to.
type SearchHit struct {
	Kind   string  `json:"kind"` // district | street | community | grid | building | post
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Detail string  `json:"detail"`
	Score  float64 `json:"score"`
	Lon    float64 `json:"lon"`
	Lat    float64 `json:"lat"`
}

// Search limits.
const (
	MaxSearchLimit = 100
	maxQueryRunes  = 100
	// perSource caps the matches one table contributes before ranking: a
	// query such as 重庆市 matches every address, and ranking a million
	// rows to show twenty would cost seconds.
	perSource = 200
)

// searchSQL ranks matches from every source. Scores: an exact code or
// name first (100–85), then code and name prefixes (80–68), then
// substrings (40–60, by trigram similarity); larger regions win ties, then
// shorter labels, then ids. $1 q, $2 '%q%', $3 'q%', $4 q is a code
// prefix, $5 per-source cap, $6 limit, $7 the scope's LIKE pattern (each
// source keeps only rows inside it, before the cap).
const searchSQL = `SELECT kind, id, label, detail, score, ST_X(pt), ST_Y(pt) FROM (
	SELECT kind, id, label, detail, score, ST_PointOnSurface(geom) AS pt FROM (
	(SELECT level AS kind, code AS id, name AS label, code AS detail, geom,
		CASE WHEN code = $1 THEN 100 WHEN name = $1 THEN 90 WHEN $4 AND code LIKE $3 THEN 80
		     WHEN name LIKE $3 THEN 70 ELSE 50 + 10 * similarity(name, $1) END
		+ CASE level WHEN 'district' THEN 3 WHEN 'street' THEN 2 ELSE 1 END AS score
	 FROM regions WHERE (name ILIKE $2 OR ($4 AND code LIKE $3)) AND code LIKE $7
	 ORDER BY score DESC, length(name), code LIMIT $5)
	UNION ALL
	(SELECT 'grid', code, name, code, geom, CASE WHEN code = $1 THEN 100 ELSE 75 END
	 FROM grids WHERE $4 AND length($1) <= 15 AND status = 'active'
	   AND code BETWEEN rpad($1, 15, '0') AND rpad($1, 15, '9') AND code LIKE $7
	 ORDER BY code LIMIT $5)
	UNION ALL
	(SELECT 'building', id::text, CASE WHEN name <> '' THEN name || ' ' || address ELSE address END, grid_code, geom,
		CASE WHEN address = $1 OR name = $1 THEN 85 WHEN name LIKE $3 THEN 65
		     ELSE 40 + 10 * greatest(word_similarity($1, address), word_similarity($1, name)) END
	 FROM (SELECT * FROM buildings WHERE (address ILIKE $2 OR (name <> '' AND name ILIKE $2)) AND grid_code LIKE $7
	       LIMIT $5) b)
	UNION ALL
	(SELECT 'post', id::text, name, kind || ' ' || address, geom,
		CASE WHEN name = $1 THEN 88 WHEN name LIKE $3 THEN 68 ELSE 48 + 10 * similarity(name, $1) END
	 FROM (SELECT * FROM posts WHERE (name ILIKE $2 OR address ILIKE $2) AND grid_code LIKE $7 LIMIT $5) p)
	) hits ORDER BY score DESC, length(label), id LIMIT $6) ranked`

// Search finds regions and grids by name or code, buildings by address or
// name, posts by name or address: those inside the scope.
func (db *DB) Search(ctx context.Context, scope wangge.Scope, q string, limit int) ([]SearchHit, error) {
	q = strings.TrimSpace(q)
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		return nil, wangge.Invalid("q", "q is required: a name, address or code to look for")
	case n > maxQueryRunes:
		return nil, wangge.Invalid("q", "q is at most %d characters, got %d", maxQueryRunes, n)
	}
	if limit < 1 || limit > MaxSearchLimit {
		return nil, wangge.Invalid("limit", "limit must be between 1 and %d, got %d", MaxSearchLimit, limit)
	}
	esc := likeEscaper.Replace(q)
	isCode := strings.Trim(q, "0123456789") == ""
	rows, err := db.Pool.Query(ctx, searchSQL, q, "%"+esc+"%", esc+"%", isCode, perSource, limit, scope.Like())
	if err != nil {
		return nil, fmt.Errorf("postgis: search %q: %w", q, err)
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SearchHit, error) {
		var h SearchHit
		return h, row.Scan(&h.Kind, &h.ID, &h.Name, &h.Detail, &h.Score, &h.Lon, &h.Lat)
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: search %q: %w", q, err)
	}
	return hits, nil
}

// likeEscaper makes user text literal inside a LIKE pattern (the default
// escape character is the backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
