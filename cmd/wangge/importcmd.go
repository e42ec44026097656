package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wangge/wangge/data/importer"
)

// importCmd loads a GeoJSON file into one layer, all of it or nothing (the
// format is in data/importer/doc.go).
func importCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var opts importer.Options
	cfg, fs, err := parse("import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&opts.Layer, "layer", "", "districts, streets, communities, grids, parcels, buildings, objects or posts")
		fs.BoolVar(&opts.Replace, "replace", false, "update rows whose code or id exists instead of refusing them")
		fs.StringVar(&opts.Actor, "actor", "import", "who imports (recorded in grid history)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || opts.Layer == "" {
		return fmt.Errorf("import: usage: wangge import -layer LAYER FILE.geojson")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	db, _, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := importer.Import(ctx, db, f, opts)
	if err != nil {
		return fmt.Errorf("import %s: nothing was loaded: %w", fs.Arg(0), err)
	}
	_, err = fmt.Fprintf(stdout, "imported %d %s features (%d new, %d updated)\n", rep.Features, rep.Layer, rep.Inserted, rep.Updated)
	return err
}
