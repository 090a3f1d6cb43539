package heal_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/crashtest"
	"github.com/afrkit/afrkit/heal"
)

func TestMain(m *testing.M) { crashtest.Main(m, healMx) }

// healMode is what the crash child does, named in dir/mode (absent: an
// index heal).
type healMode string

const (
	modeHeal healMode = "heal"
	modeFull healMode = "full"
	// modeResolve runs `split-brain bigger-file /sb.txt`, then an index
	// heal, as an operator resolves and heals.
	modeResolve healMode = "resolve"
)

func setMode(t *testing.T, dir string, m healMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "mode"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
}

// healMx is the crash test's child: it heals the volume "mx" registered
// under dir/state as dir/mode says, calling step before every change.
func healMx(dir string, step func(string)) error {
	mode := modeHeal
	if m, err := os.ReadFile(filepath.Join(dir, "mode")); err == nil {
		mode = healMode(m)
	}
	v, err := (&volume.Registry{Dir: filepath.Join(dir, "state")}).Load("mx")
	if err != nil {
		return err
	}
	e, err := heal.NewEngine(v, heal.EngineOptions{
		Jobs:      2,
		BlockSize: 64 << 10,
		// /big.bin is marked every two blocks: a kill after a mark is
		// resumed from it.
		ResumeEvery: 128 << 10,
		History:     &heal.History{Path: filepath.Join(dir, "history.jsonl")},
		Step:        step,
	})
	if err != nil {
		return err
	}
	if mode == modeResolve {
		// sbWinner is the bigger copy, as it is the newer.
		if _, err := e.SplitBrain(context.Background(), heal.Target{Path: "/sb.txt"}, heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}); err != nil {
			return err
		}
	}
	_, err = e.Heal(context.Background(), mode == modeFull)
	return err
}

// Contents of the mixed scenario after a correct heal, and the split-brain
// loser that must be kept.
var (
	bigContent = bytes.Repeat([]byte("0123456789abcdef"), (600<<10)/16) // 10 blocks of 64 KiB
	bigNew     = func() []byte {
		b := append([]byte(nil), bigContent...)
		copy(b[200<<10:], "changed while b1 was down")
		return append(b, "and grown"...)
	}()
	sbLoser  = "b0's side of the split-brain\n"
	sbWinner = "b1's side of the split-brain, newer\n"
)

// buildMixed is a replica-2 volume with every kind of heal at once: data
// (a multi-block file changed in the middle and grown), new nested
// directories and files, a removal, chmod and xattr changes, and a data
// split-brain that favorite-child-policy mtime resolves.
func buildMixed(t *testing.T, dir string) *fixtures.Vol {
	t.Helper()
	v, err := fixtures.Healthy(dir, "mx", 2)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.WriteFile("/big.bin", bigContent))
	must(v.WriteFile("/sb.txt", []byte("first\n")))
	must(v.Overwrite("/big.bin", bigNew, 1))
	must(v.Mkdir("/new", 1))
	must(v.Mkdir("/new/sub", 1))
	for i := 0; i < 12; i++ {
		must(v.WriteFile(fmt.Sprintf("/new/sub/f%d.txt", i), bytes.Repeat([]byte{byte('a' + i)}, 1000*i+1), 1))
	}
	must(v.Symlink("sub/f1.txt", "/new/link", 1))
	must(v.Remove(fixtures.LinkPath, 1))
	must(v.Chmod(fixtures.ReadmePath, 0o600, 1))
	must(v.SetXattr(fixtures.HelloPath, "user.tag", []byte("v2"), 1))
	must(v.Overwrite("/sb.txt", []byte(sbLoser), 1))
	must(v.Overwrite("/sb.txt", []byte(sbWinner), 0))
	v.V.Options = map[string]string{"cluster.favorite-child-policy": "mtime"}
	must((&volume.Registry{Dir: filepath.Join(dir, "state")}).Save(v.V))
	return v
}

// TestCrashAnywhereConverges kills a heal of the mixed scenario with
// SIGKILL before each of at least 200 of its changes, re-runs the heal, and
// checks that the volume always ends the same: converged, every file with
// its source's content, the split-brain resolved towards the newer copy,
// and the older copy kept and recorded.
func TestCrashAnywhereConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test runs hundreds of heals")
	}
	template := filepath.Join(t.TempDir(), "template")
	buildMixed(t, template)
	countDir, _ := mixedCopy(t, template)
	total, killed := crashtest.Run(t, countDir, 0)
	if killed {
		t.Fatal("the counting run was killed")
	}
	want := crashtest.Kills(200)
	points := crashPoints(total, want)
	if len(points) < want && total >= want {
		t.Fatalf("only %d kill points", len(points))
	}
	t.Logf("a full heal takes %d steps; killing before %d of them", total, len(points))
	for _, n := range points {
		dir, v := mixedCopy(t, template)
		if _, killed := crashtest.Run(t, dir, n); !killed {
			t.Fatalf("step %d: the child was not killed (it took fewer steps)", n)
		}
		if _, killed := crashtest.Run(t, dir, 0); killed {
			t.Fatalf("step %d: the re-run was killed", n)
		}
		checkMixed(t, v, dir, n)
		if t.Failed() {
			t.Fatalf("after a kill before step %d", n)
		}
		os.RemoveAll(dir)
	}
}

// mixedCopy copies the built scenario to a fresh directory.
func mixedCopy(t *testing.T, template string) (string, *fixtures.Vol) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(template), fmt.Sprintf("run%d", len(mustGlob(t, filepath.Dir(template)+"/run*"))))
	v, err := fixtures.Copy(template, dir, "mx")
	if err != nil {
		t.Fatal(err)
	}
	return dir, v
}

func mustGlob(t *testing.T, pattern string) []string {
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// crashPoints spreads at least want kill points over 1..total: all of them
// when there are few.
func crashPoints(total, want int) []int {
	var pts []int
	if total <= want*3 {
		for i := 1; i <= total; i++ {
			pts = append(pts, i)
		}
		return pts
	}
	for i := 0; i < want; i++ {
		pts = append(pts, 1+i*(total-1)/(want-1))
	}
	return pts
}

func checkMixed(t *testing.T, v *fixtures.Vol, dir string, n int) {
	t.Helper()
	assertConverged(t, v)
	for i, b := range v.Bricks {
		for p, want := range map[string][]byte{"/big.bin": bigNew, "/sb.txt": []byte(sbWinner), "/new/sub/f5.txt": bytes.Repeat([]byte("f"), 5001)} {
			abs, _ := b.Abs(p)
			got, err := os.ReadFile(abs)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("kill at %d: b%d %s: %d bytes (%v), want %d", n, i, p, len(got), err, len(want))
			}
		}
		if m := resumeMark(t, v, i, "/big.bin"); m != "" {
			t.Errorf("kill at %d: b%d's /big.bin still marked after the heal: %q", n, i, m)
		}
	}
	recs, err := (&heal.History{Path: filepath.Join(dir, "history.jsonl")}).Read()
	if err != nil {
		t.Fatal(err)
	}
	keptLoser := false
	for _, r := range recs {
		for _, k := range r.Kept {
			if r.Path == "/sb.txt" && r.Kind == "data" && !k.Source {
				data, err := os.ReadFile(k.Path)
				keptLoser = keptLoser || (err == nil && string(data) == sbLoser)
			}
		}
	}
	if !keptLoser {
		t.Errorf("kill at %d: the split-brain loser is not kept: history %+v", n, recs)
	}
}
