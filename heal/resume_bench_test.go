package heal_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// stopAtBlock heals v until the data heal of p has copied blocks blocks,
// and stops it there as a signal would.
func stopAtBlock(tb testing.TB, v *fixtures.Vol, every int64, p string, blocks int) {
	tb.Helper()
	seen := 0
	stopHeal(tb, v, heal.EngineOptions{Jobs: 1, ResumeEvery: every}, func(what string) bool {
		if !strings.HasSuffix(what, "block "+p) {
			return false
		}
		seen++
		return seen > blocks
	})
}

// dropCaches empties the page cache, so that a heal reads from the disk.
func dropCaches(tb testing.TB) {
	tb.Helper()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
		tb.Skipf("cannot drop the page cache: %v", err)
	}
}

// BenchmarkResumeAfterAStop: a 512 MiB file's heal stopped at 448 MiB (a
// kill at its seventh 64 MiB mark), then finished by the next heal: with
// the mark, and, the baseline in the same run, with none (marks every
// 1 TiB: the next heal reads both copies from zero, as afrkit did before
// marks and a diff heal of GlusterFS does). It reports the seconds each
// takes from a cold page cache, and their ratio.
func BenchmarkResumeAfterAStop(b *testing.B) {
	const size = 512 * mib
	data := noise(1, size)
	var resumed, fromZero time.Duration
	for b.Loop() {
		for _, every := range []int64{0, 1 << 40} {
			b.StopTimer()
			v, err := fixtures.Healthy(b.TempDir(), "fx", 2)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.WriteFile("/img", data, 1); err != nil {
				b.Fatal(err)
			}
			stopAtBlock(b, v, every, "/img", 448)
			dropCaches(b)
			b.StartTimer()
			start := time.Now()
			runHeal(b, v, false, heal.EngineOptions{Jobs: 1, ResumeEvery: every})
			if every == 0 {
				resumed += time.Since(start)
			} else {
				fromZero += time.Since(start)
			}
			v.Close()
		}
	}
	n := float64(b.N)
	b.ReportMetric(resumed.Seconds()/n, "resumed-s/op")
	b.ReportMetric(fromZero.Seconds()/n, "from-zero-s/op")
	b.ReportMetric(fromZero.Seconds()/resumed.Seconds(), "from-zero/resumed")
}
