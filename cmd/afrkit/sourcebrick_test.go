package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// TestSourceBrickResolvesNamesInMergedDirs: on bricks GlusterFS left with
// the same names made twice while each brick was down in turn (/rootfile
// and /gdir/gfile, different gfids; / and /gdir blamed both ways), heal
// names the files to pass in its hints, not their directories; explain
// on a directory says its merge is blocked by the name and how to
// resolve it; and source-brick without a file, which in GlusterFS 10.3
// leaves / in split-brain and needs one command per file, resolves the
// names in the directories it merges, keeping the losers, so that heal
// info is empty and the winner's content is on both bricks. Its dry run
// changes nothing.
func TestSourceBrickResolvesNamesInMergedDirs(t *testing.T) {
	g := glusterScenario(t, "gfid-mismatch")
	tr := &transcript{t: t, env: g.env}
	b1 := filepath.Join(g.root, "b1")
	want := map[string][]byte{}
	for _, p := range []string{"rootfile", "gdir/gfile"} {
		data, err := os.ReadFile(filepath.Join(b1, p))
		mustDo(t, err)
		want[p] = data
	}
	before := fixtures.Snapshot(t, g.root)
	tr.step(ExitError, "heal", g.vol)
	tr.step(ExitOK, "heal", g.vol, "explain", "/")
	tr.step(ExitOK, "heal", g.vol, "split-brain", "source-brick", "b1", "--dry-run")
	if after := fixtures.Snapshot(t, g.root); after != before {
		t.Fatalf("heal (which resolves nothing here), explain and a dry run changed the bricks:\n%s", fixtures.LineDiff(before, after))
	}
	tr.step(ExitOK, "heal", g.vol, "split-brain", "source-brick", "b1")
	tr.step(ExitOK, "heal", g.vol, "info")
	tr.step(ExitOK, "heal", g.vol)
	for p, data := range want {
		for _, b := range []string{"b1", "b2"} {
			if got, err := os.ReadFile(filepath.Join(g.root, b, p)); err != nil || string(got) != string(data) {
				t.Errorf("%s on %s: %q, %v; want b1's %q", p, b, got, err, data)
			}
		}
	}
	out := tr.step(ExitOK, "heal", g.vol, "history")
	keptCopiesExist(t, out, 2)
	assertGolden(t, scrub(tr.String(), g.root))
}
