// Command seedbench seeds the demo city into a fresh database named by
// DATABASE_URL and reports rows per second per table and the total time.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/wangge/wangge/data"
	"github.com/wangge/wangge/postgis"
)

func main() {
	scale := flag.Float64("scale", data.DefaultScale(), "fraction of the real city (0, 1]")
	seed := flag.Int64("seed", 1, "random seed")
	districts := flag.String("districts", "", "comma-separated district codes (default all)")
	cpuprofile := flag.String("cpuprofile", "", "write the seed's Go CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "seedbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "seedbench:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(*scale, *seed, *districts); err != nil {
		pprof.StopCPUProfile() // os.Exit skips the deferred stop
		fmt.Fprintln(os.Stderr, "seedbench:", err)
		os.Exit(1)
	}
}

func run(scale float64, seed int64, districts string) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db, err := postgis.Open(ctx, os.Getenv("DATABASE_URL"), 8, 10*time.Second)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, log); err != nil {
		return err
	}
	var codes []string
	if districts != "" {
		codes = strings.Split(districts, ",")
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	st, err := data.Seed(ctx, db, data.Options{Scale: scale, Seed: seed, Districts: codes, Now: now}, log)
	if err != nil {
		return err
	}
	fmt.Printf("scale %.3f seed %d: total %v\n", scale, seed, st.Total.Round(time.Millisecond))
	for _, p := range st.Phases {
		fmt.Printf("  phase %-16s %8.1fs\n", p.Name, p.Duration.Seconds())
	}
	// The rebuild's steps overlap the load and one another: their sums
	// are work done, not wall time.
	work := map[string]time.Duration{}
	for _, s := range st.Rebuild {
		work[s.Kind] += s.Duration
	}
	for _, k := range []string{"key", "index", "analyze", "foreign keys"} {
		fmt.Printf("  rebuild %-14s %8.1fs summed\n", k, work[k].Seconds())
	}
	tables := slices.Sorted(func(yield func(string) bool) {
		for t := range st.Rows {
			if !yield(t) {
				return
			}
		}
	})
	fmt.Printf("  %-12s %10s %14s %14s\n", "table", "rows", "copy rows/s", "rows/s overall")
	for _, t := range tables {
		copyRate := "-" // tables filled by INSERT … SELECT have no COPY time
		if d := st.CopyTime[t]; d > 0 {
			copyRate = fmt.Sprintf("%.0f", float64(st.Rows[t])/d.Seconds())
		}
		fmt.Printf("  %-12s %10d %14s %14.0f\n", t, st.Rows[t], copyRate, float64(st.Rows[t])/st.Total.Seconds())
	}
	fmt.Println("  (copy rows/s: rows / time of the district passes that wrote them; overall: rows / total seed time)")
	return nil
}
