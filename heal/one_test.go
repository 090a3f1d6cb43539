package heal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
		exs, err := heal.Explain(v.V, heal.Target{Path: p}, heal.OpenOptions{})
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

// TestSplitBrainOfOneKind: a file in data and metadata split-brain is
// resolved one kind at a time, from different bricks: b1's content, then
// b0's mode. The first command leaves the metadata split-brain, and says
// so; the second finds only it.
func TestSplitBrainOfOneKind(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-and-metadata-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	verdict := func() afr.Verdict {
		t.Helper()
		exs, err := heal.Explain(v.V, heal.Target{Path: "/both.txt"}, heal.OpenOptions{})
		must(err)
		return exs[0].Verdict
	}
	if v := verdict(); !v.Data.Unresolved || !v.Metadata.Unresolved {
		t.Fatalf("the fixture is not in data and metadata split-brain: %+v", v)
	}
	resolve := func(brick int, kind afr.Kind) heal.Outcome {
		t.Helper()
		eng, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(dir, "history.jsonl")}})
		must(err)
		defer eng.Close()
		out, err := eng.SplitBrain(context.Background(), heal.Target{Path: "/both.txt"}, heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: brick, Kinds: []afr.Kind{kind}})
		must(err)
		return out
	}
	out := resolve(1, afr.Data)
	if !out.Healed || !strings.Contains(strings.Join(out.Lines, "\n"), "The metadata split-brain of /both.txt is left for a choice of its own.") {
		t.Fatalf("data from b1: %+v", out)
	}
	if v := verdict(); v.Data.Unresolved || v.Data.NeedsHeal || !v.Metadata.Unresolved {
		t.Fatalf("after data from b1: data unresolved %v, needs heal %v; metadata unresolved %v", v.Data.Unresolved, v.Data.NeedsHeal, v.Metadata.Unresolved)
	}
	if out := resolve(0, afr.Metadata); !out.Healed {
		t.Fatalf("metadata from b0: %+v", out)
	}
	if err := fixtures.BothFromB1AndB0(dir, 2); err != nil {
		t.Error(err)
	}
	if v := verdict(); v.Data.NeedsHeal || v.Metadata.NeedsHeal {
		t.Errorf("left to heal: %+v", v)
	}
}

// TestSplitBrainOfOneKindUnderAPolicy: with a favorite-child policy set,
// a command for the data leaves the metadata split-brain to its own
// choice all the same: the policy does not decide it behind the person.
func TestSplitBrainOfOneKindUnderAPolicy(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-and-metadata-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	if v.V.Options == nil {
		v.V.Options = map[string]string{}
	}
	v.V.Options["cluster.favorite-child-policy"] = "mtime"
	eng, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(dir, "history.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	out, err := eng.SplitBrain(context.Background(), heal.Target{Path: fixtures.BothPath}, heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: 1, Kinds: []afr.Kind{afr.Data}})
	if err != nil || !out.Healed {
		t.Fatalf("data from b1: %+v, %v", out, err)
	}
	var modes []os.FileMode
	for i := range 2 {
		fi, err := os.Stat(filepath.Join(dir, fmt.Sprintf("b%d", i), "both.txt"))
		if err != nil {
			t.Fatal(err)
		}
		modes = append(modes, fi.Mode().Perm())
	}
	if modes[0] == modes[1] {
		t.Errorf("the metadata split-brain was settled by the policy (both %o): it was left for its own choice", modes[0])
	}
}
