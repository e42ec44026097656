package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// Options choose what a file is loaded as.
type Options struct {
	Layer    string // districts, streets, communities, grids, parcels, buildings, objects, posts
	Replace  bool   // update rows whose key exists instead of refusing them
	Actor    string // who imports; recorded on grids and in grid history ("import" when empty)
	MaxBytes int64  // largest file accepted; 0 means 1 GiB
}

// Report says what an import did.
type Report struct {
	Layer    string
	Features int
	Inserted int
	Updated  int
}

// FeatureError is a feature the import refused, with the member at fault.
type FeatureError struct {
	Index int    // index in the FeatureCollection
	Field string // "geometry", "properties.code", …
	Err   error  // *geo.Error or *wangge.InputError; both wrap wangge.ErrInvalid
}

func (e *FeatureError) Error() string {
	var ie *wangge.InputError
	if errors.As(e.Err, &ie) && ie.Field != "" { // the reason already names its field
		return fmt.Sprintf("feature %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("feature %d: %s: %v", e.Index, e.Field, e.Err)
}

func (e *FeatureError) Unwrap() error { return e.Err }

// Import loads a GeoJSON file into one layer, all of it or nothing: the
// file is parsed and every feature checked first, then the rows go to
// the database in one transaction. A refused feature, whether by the
// checks here or by a database rule, is reported with its index; errors
// wrap wangge.ErrInvalid.
func Import(ctx context.Context, db *postgis.DB, r io.Reader, opts Options) (Report, error) {
	rep := Report{Layer: opts.Layer}
	l, ok := layers[opts.Layer]
	if !ok {
		return rep, fmt.Errorf("importer: %w", wangge.Invalid("layer", "unknown layer %q; one of %s", opts.Layer, layerNames()))
	}
	max := opts.MaxBytes
	if max <= 0 {
		max = 1 << 30
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return rep, fmt.Errorf("importer: read: %w", err)
	}
	if int64(len(b)) > max {
		return rep, fmt.Errorf("importer: %w", wangge.Invalid("file", "larger than %d bytes", max))
	}
	c, err := geo.Parse(b)
	if err != nil {
		return rep, fmt.Errorf("importer: %w", err)
	}
	if c.Type != "FeatureCollection" && c.Type != "Feature" {
		return rep, fmt.Errorf("importer: %w", wangge.Invalid("type", "need a FeatureCollection or a Feature, not a bare %s", c.Type))
	}
	rows, err := prepare(c.Features, l)
	if err != nil {
		return rep, fmt.Errorf("importer: %w", err)
	}
	rep.Features = len(rows)
	actor := opts.Actor
	if actor == "" {
		actor = "import"
	}
	res, err := db.ImportFeatures(ctx, opts.Layer, rows, opts.Replace, actor)
	if err != nil {
		var re *postgis.RowError
		if errors.As(err, &re) {
			return rep, fmt.Errorf("importer: %w", &FeatureError{Index: re.Index, Field: "properties", Err: re.Err})
		}
		return rep, fmt.Errorf("importer: %w", err)
	}
	rep.Inserted, rep.Updated = res.Inserted, res.Updated
	return rep, nil
}

// prepare checks every feature and turns it into a row.
func prepare(fs []geo.Feature, l layer) ([]postgis.ImportRow, error) {
	if len(fs) == 0 {
		return nil, wangge.Invalid("features", "the file has no features")
	}
	rows := make([]postgis.ImportRow, 0, len(fs))
	seen := make(map[any]int, len(fs))
	for i, f := range fs {
		g, err := geometry(f.Geometry, l.geom)
		if err != nil {
			return nil, &FeatureError{Index: i, Field: "geometry", Err: err}
		}
		vals, err := l.props(props{f.Properties})
		if err != nil {
			return nil, &FeatureError{Index: i, Field: "properties", Err: err}
		}
		if k := vals[l.key]; k != nil {
			if j, dup := seen[k]; dup {
				return nil, &FeatureError{Index: i, Field: "properties",
					Err: wangge.Invalid("properties."+l.key, "%v repeats feature %d", k, j)}
			}
			seen[k] = i
		}
		w, err := wkb.Marshal(g)
		if err != nil {
			return nil, &FeatureError{Index: i, Field: "geometry", Err: err}
		}
		rows = append(rows, postgis.ImportRow{Index: i, WKB: w, Vals: vals})
	}
	return rows, nil
}

// geometry checks a feature's geometry against what the layer stores and
// returns it normalised (RFC 7946 winding, no repeated points).
func geometry(g orb.Geometry, want geomKind) (orb.Geometry, error) {
	if g == nil {
		return nil, wangge.Invalid("", "is null; this layer needs one")
	}
	switch want {
	case areal:
		if _, ok := g.(orb.Polygon); !ok {
			if _, ok := g.(orb.MultiPolygon); !ok {
				return nil, wangge.Invalid("", "is a %s; this layer needs a Polygon or MultiPolygon", g.GeoJSONType())
			}
		}
	case polygon:
		if mp, ok := g.(orb.MultiPolygon); ok && len(mp) == 1 {
			g = mp[0]
		}
		if _, ok := g.(orb.Polygon); !ok {
			return nil, wangge.Invalid("", "is a %s; this layer needs a Polygon", g.GeoJSONType())
		}
	case point:
		if _, ok := g.(orb.Point); !ok {
			return nil, wangge.Invalid("", "is a %s; this layer needs a Point", g.GeoJSONType())
		}
	}
	if err := geo.Validate(g); err != nil {
		return nil, err
	}
	return geo.Normalize(g), nil
}
