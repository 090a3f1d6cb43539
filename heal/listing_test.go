package heal_test

import (
	"os"
	"sync"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// TestIndexEntriesAddedDuringAPassAreRemoved: copies that differ with only
// a dirty counter set are healed after the source is made to blame the
// sink, which lists the file in the source's xattrop index mid-pass. The
// pass's commit must remove that entry too, although the pass did not
// list it: the next pass (there is one after any change) must find
// nothing to look at.
func TestIndexEntriesAddedDuringAPassAreRemoved(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/f", []byte("the same on both\n")); err != nil {
		t.Fatal(err)
	}
	for i, content := range []string{"b0's copy, the longer of the two\n", "b1's copy\n"} {
		abs, _ := v.Bricks[i].Abs("/f")
		if err := os.WriteFile(abs, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := v.Bricks[0]
	abs, _ := b.Abs("/f")
	if _, err := b.AddChangelog(abs, "/f", brick.KeyDirty, afr.Changelog{1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	g, _ := b.GFIDOf("/f")
	if err := v.Indexes[0].Add(index.Dirty, g); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	total := 0
	res := runHeal(t, v, false, heal.EngineOptions{Events: func(ev heal.Event) {
		if p, ok := ev.(heal.Progress); ok {
			mu.Lock()
			total = max(total, p.Total)
			mu.Unlock()
		}
	}})
	if total != 1 {
		t.Errorf("the passes looked at %d entries, want 1: the first left an index entry", total)
	}
	if len(res.Left) != 0 {
		t.Fatalf("left: %+v", res.Left)
	}
	marked := false
	for _, a := range res.Actions {
		marked = marked || a.What == "mark"
	}
	if !marked {
		t.Fatalf("the source was not made to blame the sink first: %+v", res.Actions)
	}
	assertConverged(t, v)
}
