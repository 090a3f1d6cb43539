package main

import (
	"encoding/json"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// TestRepairsAreUndoable: fsck's repairs go to the one keep store and the
// one history: a stale temp file renamed to its final name, and one moved
// away because its final name holds the same content (its handle with
// it), are listed by 'heal VOL history' and put back by 'heal VOL undo
// ID' exactly as they were, names, content, gfids and handles (a restore
// once left the handle out, and fsck then found it missing; a rename was
// not recorded at all). The undo's dry run changes nothing, and a second
// undo is refused.
func TestRepairsAreUndoable(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	mustDo(t, v.WriteFile("/.player.json.AbvgGY", []byte(`{"level":2}`+"\n")))
	mustDo(t, v.WriteFile("/notes.txt", []byte("the same words\n")))
	mustDo(t, v.WriteFile("/.notes.txt.Xy7kQp", []byte("the same words\n")))
	before := []string{fixtures.Namespace(t, v.Bricks[0].Root), fixtures.Namespace(t, v.Bricks[1].Root)}
	tr := &transcript{t: t, env: volEnv(dir)}

	tr.step(ExitFsckRepaired, "fsck", "fx", "--rename-stale")
	var hist historyJSON
	mustDo(t, json.Unmarshal([]byte(tr.step(ExitOK, "heal", "fx", "history", "--json")), &hist))
	if len(hist.Records) != 1 || hist.Records[0].Kind != "fsck" || len(hist.Records[0].Renamed) != 2 || len(hist.Records[0].Kept) != 2 {
		t.Fatalf("history after the repair: %+v", hist.Records)
	}
	id := hist.Records[0].ID
	tr.step(ExitOK, "heal", "fx", "history")

	snap := fixtures.Snapshot(t, dir+"/b0") + fixtures.Snapshot(t, dir+"/b1")
	tr.step(ExitOK, "heal", "fx", "undo", id, "--dry-run")
	if after := fixtures.Snapshot(t, dir+"/b0") + fixtures.Snapshot(t, dir+"/b1"); after != snap {
		t.Fatalf("the undo's dry run changed the bricks:\n%s", fixtures.LineDiff(snap, after))
	}
	tr.step(ExitOK, "heal", "fx", "undo", id)
	for i, b := range v.Bricks {
		if got := fixtures.Namespace(t, b.Root); got != before[i] {
			t.Errorf("b%d after the undo differs from before the repair:\n%s", i, fixtures.LineDiff(before[i], got))
		}
	}
	tr.step(ExitFsckProblems, "fsck", "fx")
	tr.step(ExitError, "heal", "fx", "undo", id)
	tr.step(ExitOK, "heal", "fx", "history")
	assertGolden(t, scrub(tr.String(), dir))
}
