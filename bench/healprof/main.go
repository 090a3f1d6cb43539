// Command healprof runs the heal engine the way `afrkit heal VOL` does
// (offline check, heal lock, heal.NewEngine, Engine.Heal) with a CPU
// profile, an allocation count and a per-pass timeline, to see where a
// heal's time goes. It changes the volume exactly as `afrkit heal` does.
// A pass's time runs from the first entry it completes to the first entry
// the next pass completes (the engine reports progress per entry), so the
// last, empty pass and the candidate listing of the first are not shown
// apart; the total is exact.
//
//	healprof -state-dir DIR/state -cpuprofile heal.pprof hb
//	go tool pprof -top heal.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

func main() {
	var (
		stateDir = flag.String("state-dir", os.Getenv("AFRKIT_STATE_DIR"), "afrkit registry (env AFRKIT_STATE_DIR)")
		cpu      = flag.String("cpuprofile", "", "write a CPU profile here")
		jobs     = flag.Int("jobs", 0, "entries healed at once (0: one per CPU)")
		algo     = flag.String("algorithm", "", "full or diff (default: the volume's)")
		full     = flag.Bool("full", false, "heal full")
	)
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: healprof [flags] VOL")
		os.Exit(2)
	}
	if err := run(*stateDir, flag.Arg(0), *cpu, *jobs, *algo, *full); err != nil {
		fmt.Fprintf(os.Stderr, "healprof: %v\n", err)
		os.Exit(1)
	}
}

func run(stateDir, name, cpu string, jobs int, algo string, full bool) error {
	v, err := (&volume.Registry{Dir: stateDir}).Load(name)
	if err != nil {
		return err
	}
	if err := v.CheckOffline("/proc"); err != nil {
		return err
	}
	release, err := v.Lock()
	if err != nil {
		return err
	}
	defer release()

	start := time.Now()
	var mu sync.Mutex
	pass, passStart, last := 0, start, heal.Progress{}
	endPass := func(now time.Time) {
		if pass > 0 {
			fmt.Printf("pass %d: %d/%d entries done, %d bytes written so far, %.2f s\n",
				pass, last.Done, last.Total, last.Bytes, now.Sub(passStart).Seconds())
		}
	}
	e, err := heal.NewEngine(v, heal.EngineOptions{
		Jobs:      jobs,
		Algorithm: algo,
		History:   &heal.History{Path: heal.HistoryPath(stateDir, v.Name)},
		Events: func(ev heal.Event) {
			p, ok := ev.(heal.Progress)
			if !ok {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if p.Pass != pass {
				now := time.Now()
				endPass(now)
				pass, passStart = p.Pass, now
			}
			last = p
		},
	})
	if err != nil {
		return err
	}
	defer e.Close()
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	res, err := e.Heal(context.Background(), full)
	runtime.ReadMemStats(&m1)
	mu.Lock()
	endPass(time.Now())
	mu.Unlock()
	if err != nil {
		return err
	}
	fmt.Printf("total %.2f s, %d passes, healed %v, %d bytes written, %d left; allocated %.1f MiB in %d objects, %d GCs\n",
		time.Since(start).Seconds(), res.Passes, res.Healed, res.Bytes, len(res.Left),
		float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), m1.Mallocs-m0.Mallocs, m1.NumGC-m0.NumGC)
	return nil
}
