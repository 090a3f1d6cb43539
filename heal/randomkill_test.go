package heal_test

import (
	"os"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures/crashtest"
)

// randomKills is how many heals TestRandomKillConverges kills from outside
// (a fifth under the race detector: crashtest.Kills).
var randomKills = crashtest.Kills(200)

// TestRandomKillConverges kills heals of the mixed scenario (data, new
// files and directories, a removal, metadata, a split-brain resolved by
// policy), in turn index heals, heal full, and `split-brain bigger-file`
// followed by a heal, with SIGKILL from outside at random instants, including inside a
// change (between a new entry's gfid and its handle, between a rename and
// its directory's fsync), re-runs the heal, and checks that the volume
// always converges to the same end. The seed is printed, and
// AFRKIT_CRASH_SEED replays a run.
func TestRandomKillConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs hundreds of heals")
	}
	rng := crashtest.Rand(t, 0)
	template := t.TempDir() + "/template"
	buildMixed(t, template)
	modes := []healMode{modeHeal, modeFull, modeResolve}
	spans := map[healMode]time.Duration{}
	for _, m := range modes {
		timingDir, _ := mixedCopy(t, template)
		setMode(t, timingDir, m)
		spans[m] = crashtest.Timed(t, timingDir)
		os.RemoveAll(timingDir)
		t.Logf("an unkilled %s takes %v from exec to exit", m, spans[m])
	}
	kills, tries := 0, 0
	perMode := map[healMode]int{}
	for kills < randomKills {
		tries++
		if tries > 4*randomKills {
			t.Fatalf("only %d of %d children were killed before they finished", kills, tries)
		}
		mode := modes[tries%len(modes)]
		span := spans[mode]
		delay := time.Duration(rng.Int64N(int64(span)))
		dir, v := mixedCopy(t, template)
		setMode(t, dir, mode)
		killed := crashtest.RunKilledAfter(t, dir, delay)
		if killed {
			kills++
			perMode[mode]++
		}
		// A second kill of the re-run, at times: recovery itself must be
		// safe to interrupt.
		if killed && rng.IntN(4) == 0 {
			crashtest.RunKilledAfter(t, dir, time.Duration(rng.Int64N(int64(span))))
		}
		if _, k := crashtest.Run(t, dir, 0); k {
			t.Fatalf("kill after %v: the re-run was killed", delay)
		}
		checkMixed(t, v, dir, int(delay/time.Microsecond))
		if t.Failed() {
			t.Fatalf("after a kill of %s %v after exec", mode, delay)
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d kills in %d runs: %v", kills, tries, perMode)
}
