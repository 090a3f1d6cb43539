package volume_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/crashtest"
	"github.com/afrkit/afrkit/heal"
)

func TestMain(m *testing.M) { crashtest.Main(m, replaceAndHeal) }

// replaceAndHeal is what an operator runs to put a new disk in, and runs
// again after a crash: replace-brick of b1 by b2 (which, once the
// definition names b2, finishes b2), then a full heal, which is also what
// the refusal of a brick that already holds files asks for. step is
// called before every change of both.
func replaceAndHeal(dir string, step func(string)) error {
	cat := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "no-glusterd")}}
	_, err := cat.Registry.PutIn(volume.PutInOptions{Volume: "fx", Old: filepath.Join(dir, "b1"), New: filepath.Join(dir, "b2"), Step: step, ProcDir: "/proc"}, cat)
	if err != nil && !errors.Is(err, volume.ErrBrickInUse) {
		return err
	}
	v, err := cat.Registry.Load("fx")
	if err != nil {
		return err
	}
	e, err := heal.NewEngine(v, heal.EngineOptions{Step: step, History: &heal.History{Path: filepath.Join(dir, "history.jsonl")}})
	if err != nil {
		return err
	}
	res, err := e.Heal(context.Background(), true)
	if err != nil {
		return err
	}
	if len(res.Left) > 0 {
		return fmt.Errorf("heal left %v", res.Left)
	}
	return nil
}

// TestPutInCrashAnywhereConverges kills replace-brick and its heal before
// each of their changes in turn, then runs them again: every time the new
// brick ends serving what the good brick serves, and the brick it
// replaced is left exactly as it was.
func TestPutInCrashAnywhereConverges(t *testing.T) {
	template := filepath.Join(t.TempDir(), "template")
	v, err := fixtures.Healthy(template, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return v.Mkdir("/docs/deep") },
		func() error { return v.WriteFile("/docs/deep/notes.txt", []byte("three levels down\n")) },
		func() error { return v.Link(fixtures.HelloPath, "/docs/hello.hardlink") },
		func() error { return v.WriteFile("/big", make([]byte, 200<<10)) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want := fixtures.Namespace(t, v.Bricks[0].Root)
	oldB1 := fixtures.Namespace(t, v.Bricks[1].Root)
	total, killed := crashtest.Run(t, copyVol(t, template, 0), 0)
	if killed || total < 4 {
		t.Fatalf("the unkilled run made %d changes (killed %v)", total, killed)
	}
	// Under the race detector, every change of the put-in itself (the
	// first few) and a sample of the heal's; all of them without it.
	every := 1
	if crashtest.UnderRace() {
		every = 6
	}
	t.Logf("%d changes, killed before each of the first 8 and every %d after", total, every)
	for kill := 1; kill <= total; kill++ {
		if kill > 8 && kill%every != 0 {
			continue
		}
		dir := copyVol(t, template, kill)
		if _, killed := crashtest.Run(t, dir, kill); !killed {
			t.Fatalf("kill %d of %d: the child was not killed", kill, total)
		}
		if _, killed := crashtest.Run(t, dir, 0); killed {
			t.Fatalf("kill %d: the rerun was killed", kill)
		}
		if got := fixtures.Namespace(t, filepath.Join(dir, "b2")); got != want {
			t.Errorf("kill %d of %d: the new brick differs from b0:\n%s", kill, total, fixtures.LineDiff(want, got))
		}
		if got := fixtures.Namespace(t, filepath.Join(dir, "b1")); got != oldB1 {
			t.Errorf("kill %d of %d: the replaced brick changed", kill, total)
		}
		os.RemoveAll(dir)
	}
}

// copyVol copies the template volume to a fresh directory (the brick paths
// in its definition and in the snapshots stay the template's names).
func copyVol(t *testing.T, template string, n int) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(template), fmt.Sprintf("run%d", n))
	if _, err := fixtures.Copy(template, dir, "fx"); err != nil {
		t.Fatal(err)
	}
	return dir
}
