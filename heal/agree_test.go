package heal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// Cases where afrkit disagreed with GlusterFS, re-enacted from its
// regression tests.

// TestRecreatedNameIsReplaced: /f deleted and made again (a new gfid)
// while b1 was down. b1 still has the old /f, and the root's entry
// counters blame b1 cleanly. GlusterFS's entry heal expunges b1's stale
// name and makes it anew; afrkit stopped with "gfid split-brain" although
// its heal info showed none and its dry run planned nothing. Now the
// stale copy is kept and recorded, and /f made anew from b0.
func TestRecreatedNameIsReplaced(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	old, recreated := "the first /f\n", "/f made again while b1 was down\n"
	mustDo(t, v.WriteFile("/f", []byte(old)))
	mustDo(t, v.Remove("/f", 1))
	mustDo(t, v.WriteFile("/f", []byte(recreated), 1))

	res := runHeal(t, v, false, heal.EngineOptions{})
	if len(res.Left) > 0 {
		t.Fatalf("heal left %+v", res.Left)
	}
	want := tree(t, v.Bricks[0])
	if got := tree(t, v.Bricks[1]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("b1 after heal:\n%v\nwant b0's:\n%v", got, want)
	}
	var kept []string
	for _, r := range res.Resolved {
		for _, k := range r.Kept {
			if data, err := os.ReadFile(k.Path); err == nil && string(data) == old {
				kept = append(kept, k.Path)
			}
		}
	}
	if len(kept) != 1 {
		t.Errorf("b1's stale copy is kept at %v (want one place); resolved %+v", kept, res.Resolved)
	}
	if again := runHeal(t, v, false, heal.EngineOptions{}); len(again.Actions) > 0 {
		t.Errorf("a second heal did %+v", again.Actions)
	}
}

// TestRemovedDirLeavesNoEntryChanges: a populated directory removed while
// b1 was down. After the heal that takes it off b1, no granular
// entry-changes index is left on any brick (afrkit left b0's
// entry-changes/<dir>/<name>, which no heal removed), and a second heal
// has nothing to do.
func TestRemovedDirLeavesNoEntryChanges(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	mustDo(t, v.Mkdir("/d"))
	mustDo(t, v.WriteFile("/d/f", []byte("in /d\n")))
	mustDo(t, v.Remove("/d/f", 1))
	mustDo(t, v.Remove("/d", 1))
	res := runHeal(t, v, false, heal.EngineOptions{})
	if len(res.Left) > 0 {
		t.Fatalf("heal left %+v", res.Left)
	}
	for i, b := range v.Bricks {
		ec := filepath.Join(b.Root, ".glusterfs", "indices", "entry-changes")
		names, _ := os.ReadDir(ec)
		for _, n := range names {
			if index.IsBase(index.EntryChanges, n.Name()) {
				continue // the base every entry links to stays, as on GlusterFS
			}
			t.Errorf("b%d keeps entry-changes/%s after the heal", i, n.Name())
		}
	}
	if again := runHeal(t, v, false, heal.EngineOptions{}); len(again.Actions) > 0 {
		t.Errorf("a second heal did %+v", again.Actions)
	}
	if _, err := os.Lstat(filepath.Join(v.Bricks[1].Root, "d")); err == nil {
		t.Errorf("b1 still has /d")
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
