package postgis

import (
	"fmt"
	"strings"
)

// importSpec says how one import layer maps to its table. Column
// expressions use {p} for the column's parameter, {g} for the geometry and
// {grid_code} for the grid_code column's expression.
type importSpec struct {
	table   string
	key     string
	cols    []importCol
	geom    string // expression of the stored geometry from {w}, the WKB parameter
	extra   string // fixed columns, e.g. "level" for regions: "name = value"
	history string // replace only: statement that archives the old row ($1 key, $2 actor)
}

type importCol struct {
	name string
	expr string
}

// nextID allocates ids for rows that bring none (the table is locked).
const nextID = "coalesce({p}::bigint, (SELECT coalesce(max(id), 0) + 1 FROM %s))"

// parcelOf picks the parcel of grid (an SQL expression) for a geometry:
// the one holding its inner point, else the nearest (a building across a
// parcel edge), the lowest id on a shared edge. Buildings follow their
// parcel in grid edits, so one without is left behind.
const parcelOf = "(SELECT p.id FROM parcels p WHERE p.grid_code = %s " +
	"ORDER BY ST_Distance(p.geom, ST_PointOnSurface(%s)), p.id LIMIT 1)"

// locateGrid finds the grid of a feature that names none: the active grid
// that covers a point surely inside it.
const locateGrid = "coalesce({p}::text, (SELECT code FROM grids WHERE status = 'active' " +
	"AND ST_Covers(geom, ST_PointOnSurface({g})) ORDER BY code LIMIT 1))"

func region(level string) importSpec {
	return importSpec{
		table: "regions", key: "code", extra: "level:'" + level + "'",
		cols: []importCol{{"code", "{p}::text"}, {"name", "{p}::text"}, {"kind", "coalesce({p}::text, '')"},
			{"parent_code", "{p}::text"}},
		geom: "ST_Multi(ST_GeomFromWKB({w}, 4326))",
	}
}

var importSpecs = map[string]importSpec{
	"districts":   region("district"),
	"streets":     region("street"),
	"communities": region("community"),
	"grids": {
		table: "grids", key: "code", extra: "updated_by:{a}",
		cols: []importCol{{"id", "coalesce({p}::bigint, {code}::bigint)"}, {"code", "{p}::text"},
			{"community_code", "{p}::text"}, {"name", "{p}::text"}},
		geom: "ST_Multi(ST_GeomFromWKB({w}, 4326))",
		history: "INSERT INTO grid_versions (grid_code, version, geom, parcel_ids, changed_by, reason) " +
			"SELECT g.code, g.version, g.geom, coalesce((SELECT array_agg(p.id ORDER BY p.id) FROM parcels p " +
			"WHERE p.grid_code = g.code), '{}'), $2, 'import' FROM grids g WHERE g.code = $1",
	},
	"parcels": {
		table: "parcels", key: "id",
		cols: []importCol{{"id", fmt.Sprintf(nextID, "parcels")}, {"grid_code", "{p}::text"},
			{"community_code", "{p}::text"}, {"land_use", "{p}::text"}},
		geom: "ST_Multi(ST_GeomFromWKB({w}, 4326))",
	},
	"buildings": {
		table: "buildings", key: "id",
		cols: []importCol{{"id", fmt.Sprintf(nextID, "buildings")}, {"grid_code", locateGrid},
			{"parcel_id", "coalesce({p}::bigint, " + fmt.Sprintf(parcelOf, "{grid_code}", "{g}") + ")"}, {"address", "{p}::text"}, {"name", "coalesce({p}::text, '')"},
			{"use", "{p}::text"}, {"floors", "{p}::smallint"}, {"built_year", "{p}::smallint"},
			{"households", "coalesce({p}::integer, 0)"}},
		geom: "ST_GeomFromWKB({w}, 4326)",
	},
	"objects": {
		table: "objects", key: "id",
		cols: []importCol{{"id", fmt.Sprintf(nextID, "objects")}, {"category", "{p}::text"},
			{"category_code", "{p}::text"}, {"grid_code", locateGrid}, {"building_id", "{p}::bigint"},
			{"device_id", "{p}::text"}, {"status", "coalesce({p}::text, 'normal')"}, {"installed_on", "{p}::date"}},
		geom: "ST_GeomFromWKB({w}, 4326)",
	},
	"posts": {
		table: "posts", key: "id",
		cols: []importCol{{"id", fmt.Sprintf(nextID, "posts")}, {"kind", "{p}::text"}, {"name", "{p}::text"},
			{"address", "coalesce({p}::text, '')"}, {"phone", "coalesce({p}::text, '')"}, {"grid_code", locateGrid}},
		geom: "ST_GeomFromWKB({w}, 4326)",
	},
}

// ImportColumns lists the property columns a layer takes, for the importer.
func ImportColumns(layer string) []string {
	var out []string
	for _, c := range importSpecs[layer].cols {
		out = append(out, c.name)
	}
	return out
}

// insertSQL builds the layer's statement: parameters $1..$n are the
// columns, $n+1 the WKB, $n+2 the actor. It returns whether the row is new.
func (s importSpec) insertSQL(replace bool) string {
	n := len(s.cols)
	w, a := fmt.Sprintf("$%d", n+1), fmt.Sprintf("$%d", n+2)
	g := strings.ReplaceAll(s.geom, "{w}", w+"::bytea")
	var names, exprs []string
	code := ""
	for i, c := range s.cols {
		if c.name == "code" {
			code = fmt.Sprintf("$%d", i+1)
		}
	}
	grid := ""
	for i, c := range s.cols {
		e := strings.NewReplacer("{p}", fmt.Sprintf("$%d", i+1), "{g}", g, "{code}", code).Replace(c.expr)
		if c.name == "grid_code" {
			grid = e
		}
		names, exprs = append(names, c.name), append(exprs, e)
	}
	for i := range exprs {
		exprs[i] = strings.ReplaceAll(exprs[i], "{grid_code}", grid)
	}
	if s.extra != "" {
		name, val, _ := strings.Cut(s.extra, ":")
		names, exprs = append(names, name), append(exprs, strings.ReplaceAll(val, "{a}", a+"::text"))
	}
	names, exprs = append(names, "geom"), append(exprs, g)
	// The sub-select mentions the actor so that $n+2 always has a type,
	// whether or not the layer stores it.
	sql := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM (SELECT %s::text AS _actor) _",
		s.table, strings.Join(names, ", "), strings.Join(exprs, ", "), a)
	if replace {
		var set []string
		for _, n := range names {
			if n != s.key && n != "id" {
				set = append(set, n+" = EXCLUDED."+n)
			}
		}
		if s.table == "grids" {
			set = append(set, "version = grids.version + 1", "updated_at = now()")
		}
		if s.table == "regions" {
			set = append(set, "updated_at = now()")
		}
		sql += fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s", s.key, strings.Join(set, ", "))
	}
	return sql + " RETURNING (xmax = 0)"
}

// args are the statement's parameters for one row.
func (s importSpec) args(r ImportRow, actor string) []any {
	out := make([]any, 0, len(s.cols)+2)
	for _, c := range s.cols {
		out = append(out, r.Vals[c.name])
	}
	return append(out, r.WKB, actor)
}

func (s importSpec) keyArg(r ImportRow) any { return r.Vals[s.key] }
