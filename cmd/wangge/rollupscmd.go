package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wangge/wangge/postgis"
)

// rollupsCmd: wangge rollups verify (recompute every rollup from the base
// tables and list what differs; non-zero exit on drift) or rollups
// rebuild (replace them with the recomputation).
func rollupsCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" && args[0] != "rebuild" {
		return errors.New("rollups: verify or rebuild")
	}
	cfg, _, err := parse("rollups "+args[0], args[1:], nil)
	if err != nil {
		return err
	}
	db, log, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	if args[0] == "rebuild" {
		if err := db.RebuildRollups(ctx, log); err != nil {
			return err
		}
		cliAudit(ctx, db, "rollups.rebuild", "")
		_, err = fmt.Fprintf(stdout, "rollups rebuilt in %s\n", time.Since(t0).Round(time.Millisecond))
		return err
	}
	return verifyRollups(ctx, db, stdout, t0)
}

const driftShown = 50

func verifyRollups(ctx context.Context, db *postgis.DB, stdout io.Writer, t0 time.Time) error {
	drift, err := db.VerifyRollups(ctx, driftShown+1)
	if err != nil {
		return err
	}
	rows, bytes, err := db.RollupSize(ctx)
	if err != nil {
		return err
	}
	for i, d := range drift {
		if i == driftShown {
			fmt.Fprintln(stdout, "… (more)")
			break
		}
		fmt.Fprintln(stdout, d)
	}
	if len(drift) > 0 {
		return fmt.Errorf("rollups drift from the base tables (%d+ rows differ; `wangge rollups rebuild` recomputes them)", min(len(drift), driftShown))
	}
	_, err = fmt.Fprintf(stdout, "rollups match the base tables: %d rows, %.1f MB, checked in %s\n",
		rows, float64(bytes)/1e6, time.Since(t0).Round(time.Millisecond))
	return err
}
