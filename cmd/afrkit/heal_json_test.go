package main

import (
	"encoding/json"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// TestHealJSON: --json on heal (its dry run the plan), on split-brain
// commands, on history and on explain prints one JSON document on
// stdout with the schema of docs/heal-json.md, and the exit status the
// text form has. The transcript is golden (ids, times and gfids
// scrubbed); each document is also decoded here, so that a field a
// script reads is checked by name.
func TestHealJSON(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	mustDo(t, err)
	mustDo(t, v.WriteFile("/docs/new.txt", []byte("made while b1 was down\n"), 1))
	tr := &transcript{t: t, env: volEnv(dir)}

	var run healRunJSON
	decode := func(out string, into any) {
		t.Helper()
		if err := json.Unmarshal([]byte(out), into); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
	}
	decode(tr.step(ExitOK, "heal", "fx", "--dry-run", "--json"), &run)
	if !run.DryRun || len(run.Actions) == 0 || len(run.Left) != 1 || !run.Left[0].SplitBrain || run.Left[0].Path != "/hello.txt" {
		t.Errorf("heal --dry-run --json: %+v", run)
	}
	decode(tr.step(ExitError, "heal", "fx", "--json"), &run)
	if run.DryRun || run.Healed["entry"] == 0 || len(run.Left) != 1 {
		t.Errorf("heal --json: %+v", run)
	}

	var ex explainJSON
	decode(tr.step(ExitOK, "heal", "fx", "explain", "/hello.txt", "--json"), &ex)
	if len(ex.Sets) != 1 || !ex.Sets[0].Verdict.Data.Unresolved || len(ex.Sets[0].Resolve) == 0 || len(ex.Sets[0].Copies) != 2 {
		t.Errorf("explain --json: %+v", ex)
	}

	var sb splitBrainJSON
	decode(tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt", "--json", "--dry-run"), &sb)
	if !sb.DryRun || sb.Healed != 1 || sb.Command != "bigger-file" {
		t.Errorf("split-brain --dry-run --json: %+v", sb)
	}
	decode(tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt", "--json"), &sb)
	if sb.DryRun || sb.Healed != 1 || len(sb.Outcomes) != 1 || !sb.Outcomes[0].Healed {
		t.Errorf("split-brain --json: %+v", sb)
	}

	var hist historyJSON
	decode(tr.step(ExitOK, "heal", "fx", "history", "--json"), &hist)
	if len(hist.Records) != 1 || hist.Records[0].Path != "/hello.txt" || len(hist.Records[0].Kept) == 0 {
		t.Errorf("history --json: %+v", hist)
	}
	tr.step(ExitUsage, "heal", "fx", "undo", hist.Records[0].ID, "--json")
	tr.step(ExitUsage, "heal", "fx", "history", "--xml")
	assertGolden(t, scrub(tr.String(), dir))
}
