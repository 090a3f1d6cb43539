package heal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// TestHealEntryHealsThatEntryAlone: of two files b1 missed, healing one
// heals it and leaves the other listed; a directory b1 missed a name of is
// healed with that name's content filled in; a split-brain is left for a
// choice; a gfid split-brain is refused; a dry run changes nothing.
func TestHealEntryHealsThatEntryAlone(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/one.txt", "/two.txt"} {
		if err := v.WriteFile(f, []byte("missed by b1 "+f+"\n"), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Mkdir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/d/in.txt", []byte("made in d while b1 was down\n"), 1); err != nil {
		t.Fatal(err)
	}
	status := func(p string) afr.HealStatus {
		t.Helper()
		exs, err := heal.Explain(v.V, heal.Target{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		return exs[0].Status
	}
	b1 := func(p string) string {
		data, _ := os.ReadFile(filepath.Join(dir, "b1", p))
		return string(data)
	}
	run := func(p string, dry bool) (*heal.Result, error) {
		t.Helper()
		eng, err := heal.NewEngine(v.V, heal.EngineOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		return eng.HealEntry(context.Background(), heal.Target{Path: p})
	}

	plan, err := run("/one.txt", true)
	if err != nil || len(plan.Actions) == 0 {
		t.Fatalf("the plan of /one.txt: %+v, %v", plan, err)
	}
	if b1("one.txt") != "" || status("/one.txt") == afr.NoHeal {
		t.Fatalf("the dry run changed b1: %q, %s", b1("one.txt"), status("/one.txt"))
	}
	if _, err := run("/one.txt", false); err != nil {
		t.Fatal(err)
	}
	if got := b1("one.txt"); got != "missed by b1 /one.txt\n" || status("/one.txt") != afr.NoHeal {
		t.Errorf("/one.txt after its heal: b1 holds %q, heal info says %s", got, status("/one.txt"))
	}
	if b1("two.txt") != "" || status("/two.txt") == afr.NoHeal {
		t.Errorf("/two.txt was healed too: b1 holds %q, heal info says %s", b1("two.txt"), status("/two.txt"))
	}

	res, err := run("/d", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := b1("d/in.txt"); got != "made in d while b1 was down\n" || status("/d/in.txt") != afr.NoHeal || res.Passes < 2 {
		t.Errorf("/d after its heal (%d passes): b1's in.txt holds %q, heal info says %s", res.Passes, got, status("/d/in.txt"))
	}

	sb := t.TempDir()
	w, err := fixtures.Build(sb, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := heal.NewEngine(w.V, heal.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err = eng.HealEntry(context.Background(), heal.Target{Path: "/hello.txt"})
	eng.Close()
	if err != nil || len(res.Left) != 1 || !res.Left[0].SplitBrain {
		t.Errorf("a data split-brain: left %+v, %v; want it left for a choice", res.Left, err)
	}

	gm := t.TempDir()
	x, err := fixtures.Build(gm, "gfid-mismatch", 2)
	if err != nil {
		t.Fatal(err)
	}
	eng, err = heal.NewEngine(x.V, heal.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	const name = "/same.txt" // the fixture's name that is two files
	if _, err := eng.HealEntry(context.Background(), heal.Target{Path: name}); !errors.Is(err, heal.ErrGFIDSplitBrain) {
		t.Errorf("a gfid split-brain %s: %v, want %v", name, err, heal.ErrGFIDSplitBrain)
	}
}
