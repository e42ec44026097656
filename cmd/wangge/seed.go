package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/data"
)

// seed fills an empty database with the generated demo city; `seed
// checksum` prints a digest per table to prove the same seed gives the
// same bytes.
func seed(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "checksum" {
		return checksum(ctx, args[1:], stdout)
	}
	var (
		opts      data.Options
		districts string
		now       string
		ifEmpty   bool
		accounts  bool
	)
	cfg, _, err := parse("seed", args, func(fs *flag.FlagSet) {
		fs.Float64Var(&opts.Scale, "scale", data.DefaultScale(), "share of the real city's buildings, residents, objects and events (0 < S <= 1); the hierarchy is always complete")
		fs.Int64Var(&opts.Seed, "seed", 1, "random seed: the same seed, scale, districts and -now give byte-identical data")
		fs.StringVar(&districts, "districts", "", "comma-separated 6-digit district codes (default: all 38)")
		fs.StringVar(&now, "now", "", "the day the event history leads up to, YYYY-MM-DD (default: today in Asia/Shanghai)")
		fs.BoolVar(&ifEmpty, "if-empty", false, "do nothing (exit 0) when the database already holds a city")
		fs.BoolVar(&accounts, "demo-accounts", false, "when the database has no account, create one demo account per role and write their passwords to <data-dir>/demo-accounts.txt (make run does)")
	})
	if err != nil {
		return err
	}
	if opts.Now, err = seedDay(now); err != nil {
		return err
	}
	if districts != "" {
		opts.Districts = strings.Split(districts, ",")
	}
	db, log, err := openBulkDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := data.Seed(ctx, db, opts, log)
	if errors.Is(err, wangge.ErrConflict) && ifEmpty {
		if _, err = fmt.Fprintln(stdout, "database already holds a city; not seeding"); err != nil {
			return err
		}
		if !accounts {
			return nil
		}
		return ensureDemoAccounts(ctx, db, cfg.DataDir, stdout)
	}
	if err != nil {
		return err
	}
	if accounts {
		if err := ensureDemoAccounts(ctx, db, cfg.DataDir, stdout); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(st.Rows))
	for n := range st.Rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "%-16s %12d rows\n", n, st.Rows[n])
	}
	_, err = fmt.Fprintf(stdout, "seeded scale %g seed %d in %s\n", opts.Scale, opts.Seed, st.Total.Round(time.Second))
	return err
}

// seedDay is midnight of the given day (default today) in China's time
// zone, so the demo city's "now" does not drift within a day.
func seedDay(s string) (time.Time, error) {
	cst := time.FixedZone("CST", 8*3600)
	if s == "" {
		y, m, d := time.Now().In(cst).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, cst), nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, cst)
	if err != nil {
		return t, fmt.Errorf("seed: -now %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

func checksum(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, _, err := parse("seed checksum", args, nil)
	if err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	sums, err := db.Checksum(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "%s  %s\n", sums[n], n)
	}
	return nil
}
