package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fsck"
)

// TestFsckOnGlusterFSBricks checks the bricks that a real GlusterFS 10.3
// made for each archived scenario: what GlusterFS keeps (handles,
// gfid2path, index, changelogs, DHT layouts) raises no finding, pending
// heals are not problems, the gfid and type mismatches GlusterFS made are
// reported where they are, and the split-brains are exactly the entries
// GlusterFS's own heal info split-brain listed.
func TestFsckOnGlusterFSBricks(t *testing.T) {
	for sc, want := range map[string][]string{
		"pending-brick-down":   nil,
		"data-split-brain":     nil,
		"metadata-split-brain": nil,
		"distrep-2x2":          nil,
		"replica3-quorum-auto": nil,
		"replica3-quorum-none": nil,
		"entry-split-brain":    {"type-mismatch /espb/a"},
		"gfid-mismatch":        {"gfid-mismatch /gdir/gfile", "gfid-mismatch /rootfile"},
	} {
		t.Run(sc, func(t *testing.T) {
			fx := glusterScenario(t, sc)
			code, out, errOut := run(t, fx.env, "fsck", fx.vol, "--deep", "--json")
			var rep fsck.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("exit %d: %v\n%s%s", code, err, out, errOut)
			}
			var got, splitBrains []string
			for _, f := range rep.Findings {
				if f.Class == fsck.ClassSplitBrain {
					splitBrains = append(splitBrains, f.GFID)
					continue
				}
				got = append(got, string(f.Class)+" "+f.Path)
			}
			slices.Sort(splitBrains)
			if glusters := glusterSplitBrains(t, fx); !slices.Equal(splitBrains, glusters) {
				t.Errorf("fsck's split-brains %q; GlusterFS's heal info split-brain lists %q", splitBrains, glusters)
			}
			wantCode := ExitFsckClean
			if len(want) > 0 || len(splitBrains) > 0 {
				wantCode = ExitFsckProblems
			}
			if code != wantCode || !slices.Equal(got, want) {
				t.Errorf("exit %d, findings %q; want exit %d and %q\n%s", code, got, wantCode, want, out)
			}
		})
	}
}

// glusterSplitBrains returns the gfids of the entries GlusterFS's heal
// info split-brain listed for the scenario, sorted: those it printed as
// <gfid:…>, and those it printed by path, looked up on the bricks.
func glusterSplitBrains(t *testing.T, fx *glusterFixture) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fx.dir, "heal-info-split-brain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	bricks, _ := filepath.Glob(filepath.Join(fx.root, "b*"))
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "Brick ") || strings.HasPrefix(l, "Status:") || strings.HasPrefix(l, "Number of"):
			continue
		case strings.HasPrefix(l, "<gfid:"):
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(l, "<gfid:"), ">"))
			continue
		}
		found := false
		for _, root := range bricks {
			b, err := brick.Open(root, brick.NSTrusted)
			if err != nil {
				t.Fatal(err)
			}
			if g, err := b.GFIDOf(l); err == nil {
				out, found = append(out, g.String()), true
				break
			}
		}
		if !found {
			t.Fatalf("GlusterFS listed %q, which no brick of %s has", l, fx.root)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestFsckDHTLinkfiles puts DHT link files on the first replica set of
// GlusterFS's 2x2 volume, as DHT's mknod makes them (mode ---------T, a
// gfid, its handle and gfid2path, trusted.glusterfs.dht.linkto): one to a
// file the second set holds under the same gfid, which is sound, and one
// to a name the second set does not hold, which is left behind. Only the
// second is reported, on both bricks of the set, and --repair moves it to
// quarantine. (The volume's /sb-file is in split-brain on the second set,
// as GlusterFS left it: reported too, and left for a person.)
func TestFsckDHTLinkfiles(t *testing.T) {
	fx := glusterScenario(t, "distrep-2x2")
	set1 := filepath.Join(fx.root, "b3")
	b3, err := brick.Open(set1, brick.NSTrusted)
	if err != nil {
		t.Fatal(err)
	}
	target, err := b3.GFIDOf("/f02")
	if err != nil {
		t.Fatal(err)
	}
	ghost := afr.GFID{0xab, 0xcd, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}
	for _, bn := range []string{"b1", "b2"} {
		b, err := brick.Open(filepath.Join(fx.root, bn), brick.NSTrusted)
		if err != nil {
			t.Fatal(err)
		}
		for name, g := range map[string]afr.GFID{"f02": target, "ghost": ghost} {
			if err := b.Create(brick.NewEntry{Path: "/" + name, Type: afr.TypeRegular, GFID: g, Mode: 0o1000}); err != nil {
				t.Fatal(err)
			}
			abs := filepath.Join(b.Root, name)
			if err := os.Chmod(abs, os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			if err := xattr.LSet(abs, "trusted.glusterfs.dht.linkto", []byte("fxdr-replicate-1\x00")); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, out, _ := run(t, fx.env, "fsck", fx.vol)
	if code != ExitFsckProblems || strings.Count(out, "a DHT link file to fxdr-replicate-1, which has no file with gfid") != 2 ||
		!strings.Contains(out, "stale-linkfile (2)") || strings.Contains(out, "/f02") || !strings.Contains(out, "\n3 problem(s)") ||
		!strings.Contains(out, "split-brain (1)\n  b3, b4  /sb-file") {
		t.Fatalf("fsck: exit %d, want the ghost link file on b1 and b2 and the split-brain, nothing else:\n%s", code, out)
	}
	if code, out, errOut := run(t, fx.env, "fsck", fx.vol, "--repair"); code != ExitFsckProblems || !strings.Contains(out, "Checked again: 1 problem(s) left:\n  split-brain  b3, b4  /sb-file") {
		t.Fatalf("fsck --repair: exit %d\n%s%s", code, out, errOut)
	}
	for _, bn := range []string{"b1", "b2"} {
		if _, err := os.Lstat(filepath.Join(fx.root, bn, "ghost")); err == nil {
			t.Errorf("%s: the stale link file is still in the volume", bn)
		}
		if _, err := os.Lstat(filepath.Join(fx.root, bn, "f02")); err != nil {
			t.Errorf("%s: the sound link file is gone: %v", bn, err)
		}
	}
}
