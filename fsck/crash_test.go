package fsck_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/crashtest"
	"github.com/afrkit/afrkit/fsck"
)

func TestMain(m *testing.M) { crashtest.Main(m, repairFx) }

// clashKeepFile, in a crash test's directory, holds the version the
// child keeps of the stale temp file whose final name holds other
// content: temp or final.
const clashKeepFile = "clash-keeps"

// repairFx is the crash test's child: it repairs the volume "fx"
// registered under dir/state, calling step before every change; with a
// clashKeepFile, it renames the fixtures' stale temp file keeping the
// version that file names.
func repairFx(dir string, step func(string)) error {
	v, err := (&volume.Registry{Dir: filepath.Join(dir, "state")}).Load("fx")
	if err != nil {
		return err
	}
	opts := fsck.RepairOptions{Repair: true, RenameStale: true, Step: step}
	if keep, err := os.ReadFile(filepath.Join(dir, clashKeepFile)); err == nil {
		if opts.ClashKeeps, err = fsck.ParseClashKeep(string(keep)); err != nil {
			return err
		}
		opts.RenamePaths = []string{fixtures.StaleTempPath}
	}
	_, done, _, err := fsck.Converge(context.Background(), func() (*fsck.Report, error) {
		return fsck.CheckVolume(context.Background(), v, fsck.Options{})
	}, opts)
	if err != nil {
		return err
	}
	for _, r := range done {
		if r.Err != "" {
			return fmt.Errorf("repair of %s %s: %s", r.Finding.Class, r.Finding.Path, r.Err)
		}
	}
	return nil
}

// volCopy copies the damaged template to a fresh directory run<n>.
func volCopy(t *testing.T, template string, n int) (string, *fixtures.Vol) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(template), fmt.Sprintf("run%d", n))
	v, err := fixtures.Copy(template, dir, "fx")
	if err != nil {
		t.Fatal(err)
	}
	return dir, v
}

func summary(rep *fsck.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, string(f.Class)+" "+f.Brick+" "+f.Path)
	}
	slices.Sort(out)
	return out
}

// allDamaged builds a volume damaged every way at once and returns its
// directory and, per brick, the content it holds (which no repair may
// lose).
func allDamaged(t *testing.T) (string, []map[string]int) {
	t.Helper()
	template := filepath.Join(t.TempDir(), "template")
	v, err := fixtures.Healthy(template, "fx", 2)
	must(t, err)
	// The brick-root damages go last: the others find entries through
	// the root's gfid.
	var last []damage
	for _, d := range damages() {
		switch {
		case d.name == "volume-id foreign":
		case d.class == fsck.ClassVolumeID || d.class == fsck.ClassRootGFID:
			last = append(last, d)
		default:
			d.apply(t, v)
		}
	}
	for _, d := range last {
		d.apply(t, v)
	}
	var before []map[string]int
	for _, b := range v.Bricks {
		all := contents(t, b.Root, false)
		delete(all, fmt.Sprintf("%x", emptySum))
		before = append(before, all)
	}
	return template, before
}

// checkRepairEnd checks that an interrupted and re-run repair ended where
// an uninterrupted one ends (want), with no content lost from the
// namespace and the quarantine together.
func checkRepairEnd(t *testing.T, cv *fixtures.Vol, want []string, before []map[string]int, what string) {
	t.Helper()
	if got := summary(check(t, cv, fsck.Options{})); !slices.Equal(got, want) {
		t.Fatalf("after %s, fsck finds\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, b := range cv.Bricks {
		after := kept(t, b)
		for h := range before[i] {
			if after[h] < 1 {
				t.Fatalf("after %s: b%d lost content %s", what, i, h[:12])
			}
		}
	}
}

// TestRepairCrashAnywhereConverges damages a volume every way at once,
// kills the repair before each of its changes, runs it again, and checks
// that it always ends where an uninterrupted repair ends: the same findings
// left for a person, and no content lost from the namespace and the
// quarantine together.
func TestRepairCrashAnywhereConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs a repair per kill point")
	}
	template, before := allDamaged(t)
	dir, cv := volCopy(t, template, 0)
	total, killed := crashtest.Run(t, dir, 0)
	if killed {
		t.Fatal("the counting run was killed")
	}
	want := summary(check(t, cv, fsck.Options{}))
	t.Logf("an uninterrupted repair makes %d changes and leaves %d findings for a person", total, len(want))
	if total < 30 {
		t.Fatalf("only %d changes: the scenario does not exercise the repair", total)
	}
	for n := 1; n <= total; n++ {
		dir, cv := volCopy(t, template, n)
		if _, killed := crashtest.Run(t, dir, n); !killed {
			t.Fatalf("change %d: the child was not killed", n)
		}
		if _, killed := crashtest.Run(t, dir, 0); killed {
			t.Fatalf("change %d: the re-run was killed", n)
		}
		checkRepairEnd(t, cv, want, before, fmt.Sprintf("a kill before change %d", n))
		os.RemoveAll(dir)
	}
}

// randomRepairKills is how many repairs TestRepairRandomKillConverges
// kills from outside.
const randomRepairKills = 60

// TestRepairRandomKillConverges kills the repair of every damage at once
// with SIGKILL from outside at random instants (inside a change as well as
// between changes), re-runs it, and checks that it ends where an
// uninterrupted repair ends. AFRKIT_CRASH_SEED replays a run.
func TestRepairRandomKillConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs a repair per kill")
	}
	rng := crashtest.Rand(t, 1)
	template, before := allDamaged(t)
	dir, cv := volCopy(t, template, 0)
	span := crashtest.Timed(t, dir)
	want := summary(check(t, cv, fsck.Options{}))
	kills := 0
	for n := 1; kills < randomRepairKills; n++ {
		if n > 4*randomRepairKills {
			t.Fatalf("only %d of %d children were killed before they finished", kills, n)
		}
		delay := time.Duration(rng.Int64N(int64(span)))
		dir, cv := volCopy(t, template, n)
		if crashtest.RunKilledAfter(t, dir, delay) {
			kills++
		}
		if _, killed := crashtest.Run(t, dir, 0); killed {
			t.Fatalf("kill after %v: the re-run was killed", delay)
		}
		checkRepairEnd(t, cv, want, before, fmt.Sprintf("a kill %v after exec", delay))
		os.RemoveAll(dir)
	}
	t.Logf("%d kills; an unkilled repair takes %v from exec to exit", kills, span)
}

// TestClashKeepCrashAnywhereConverges: the choice of a version for a
// stale temp file whose final name holds other content, killed before
// each of its changes and run again, ends as an uninterrupted run ends:
// nothing left to repair, the version chosen under the final name on
// every brick, and the other still in the quarantine.
func TestClashKeepCrashAnywhereConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs a repair per kill point")
	}
	const tempData, finalData = "the temp file's version\n", "the final name's version\n"
	for _, keep := range []string{"temp", "final"} {
		t.Run(keep, func(t *testing.T) {
			template := filepath.Join(t.TempDir(), "template")
			v, err := fixtures.Healthy(template, "fx", 2)
			must(t, err)
			must(t, v.WriteFile(fixtures.StaleTempPath, []byte(tempData)))
			must(t, v.WriteFile("/player.json", []byte(finalData)))
			must(t, os.WriteFile(filepath.Join(template, clashKeepFile), []byte(keep), 0o644))
			var before []map[string]int
			for _, b := range v.Bricks {
				before = append(before, kept(t, b))
			}
			want := tempData
			if keep == "final" {
				want = finalData
			}
			dir, _ := volCopy(t, template, 0)
			must(t, os.WriteFile(filepath.Join(dir, clashKeepFile), []byte(keep), 0o644))
			total, killed := crashtest.Run(t, dir, 0)
			if killed || total < 2 {
				t.Fatalf("the counting run: %d changes, killed %v", total, killed)
			}
			for n := 1; n <= total; n++ {
				dir, cv := volCopy(t, template, n)
				must(t, os.WriteFile(filepath.Join(dir, clashKeepFile), []byte(keep), 0o644))
				if _, killed := crashtest.Run(t, dir, n); !killed {
					t.Fatalf("change %d: the child was not killed", n)
				}
				if _, killed := crashtest.Run(t, dir, 0); killed {
					t.Fatalf("change %d: the re-run was killed", n)
				}
				checkRepairEnd(t, cv, nil, before, fmt.Sprintf("a kill before change %d", n))
				for i, b := range cv.Bricks {
					if got, err := os.ReadFile(filepath.Join(b.Root, "player.json")); err != nil || string(got) != want {
						t.Fatalf("a kill before change %d: b%d's /player.json holds %q, %v; want %q", n, i, got, err, want)
					}
				}
				os.RemoveAll(dir)
			}
			t.Logf("keeping %s makes %d changes", keep, total)
		})
	}
}
