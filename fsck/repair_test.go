package fsck_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fsck"
)

// emptySum is the hash of no content: index entries and empty files, which
// hold nothing to lose.
var emptySum = sha256.Sum256(nil)

// contents counts the content of every regular file under dir, by hash;
// with skipGlusterfs the .glusterfs tree is left out.
func contents(t *testing.T, dir string, skipGlusterfs bool) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == brick.GlusterDir && skipGlusterfs {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[fmt.Sprintf("%x", sha256.Sum256(data))]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// kept is what a user could still get back from a brick: its namespace
// and its quarantine.
func kept(t *testing.T, b *brick.Brick) map[string]int {
	t.Helper()
	out := contents(t, b.Root, true)
	q := b.KeptDir()
	if _, err := os.Stat(q); err != nil {
		return out
	}
	for h, n := range contents(t, q, false) {
		out[h] += n
	}
	return out
}

func converge(t *testing.T, v *fixtures.Vol, opts fsck.RepairOptions) (first *fsck.Report, done []fsck.Repaired, last *fsck.Report) {
	t.Helper()
	first, done, last, err := fsck.Converge(context.Background(), func() (*fsck.Report, error) {
		return fsck.CheckVolume(context.Background(), v.V, fsck.Options{})
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range done {
		if r.Err != "" {
			t.Errorf("repair of %s %s %s: %s", r.Finding.Class, r.Finding.Brick, r.Finding.Path, r.Err)
		}
	}
	return first, done, last
}

// Every damage with one right answer is repaired, and a second fsck finds
// nothing; the others are left for a person. No content that the volume or
// the handle tree held is gone: it is in the namespace or in quarantine.
func TestRepairFixesEachDamage(t *testing.T) {
	for _, d := range damages() {
		t.Run(d.name, func(t *testing.T) {
			v := fixtures.MustBuild(t, "healthy", 2)
			d.apply(t, v)
			var before []map[string]int
			for _, b := range v.Bricks {
				all := contents(t, b.Root, false)
				delete(all, fmt.Sprintf("%x", emptySum)) // index entries and empty files
				before = append(before, all)
			}
			dry, plan, _ := converge(t, v, fsck.RepairOptions{Repair: true, RenameStale: true, DryRun: true})
			if again := check(t, v, fsck.Options{}); dump(again) != dump(dry) {
				t.Fatalf("a dry run changed the bricks:\nbefore\n%s\nafter\n%s", dump(dry), dump(again))
			}
			_, done, last := converge(t, v, fsck.RepairOptions{Repair: true, RenameStale: true})
			if unrepairable[d.name] {
				if !found(last, d.class, d.brick, d.path) {
					t.Errorf("the repair took away a finding with no right answer:\n%s", dump(last))
				}
				return
			}
			if len(plan) == 0 || len(done) == 0 {
				t.Fatalf("nothing planned (%d) or repaired (%d)", len(plan), len(done))
			}
			if len(last.Findings) != 0 {
				t.Errorf("after the repair, fsck still finds:\n%s", dump(last))
			}
			for i, b := range v.Bricks {
				after := kept(t, b)
				for h, n := range before[i] {
					if after[h] < 1 {
						t.Errorf("b%d: %d file(s) with sha256 %s are in neither the namespace nor the quarantine (had %d)", i, n, h[:12], after[h])
					}
				}
			}
		})
	}
}

func TestRepairAllDamagesTogether(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	for _, d := range damages() {
		if d.class == fsck.ClassVolumeID || d.class == fsck.ClassRootGFID {
			continue
		}
		d.apply(t, v)
	}
	_, _, last := converge(t, v, fsck.RepairOptions{Repair: true, RenameStale: true})
	for _, f := range last.Findings {
		if f.Repairable() {
			t.Errorf("still repairable after the repair: %s %s %s: %s", f.Class, f.Brick, f.Path, f.Detail)
		}
	}
	var names []string
	for _, d := range damages() {
		if unrepairable[d.name] && d.class != fsck.ClassVolumeID && !found(last, d.class, d.brick, d.path) {
			names = append(names, d.name)
		}
	}
	if len(names) > 0 {
		t.Errorf("findings with no right answer disappeared: %s\n%s", strings.Join(names, ", "), dump(last))
	}
}

// Restore puts back everything a repair quarantined, and fsck then finds
// the quarantined things again. (What the repair wrote in place, such as
// the link file's gfid2path, stays written.)
func TestRestoreUndoesTheQuarantine(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	for _, d := range damages() {
		switch d.name {
		case "orphan handle", "dangling directory handle", "stale link file", "two xattrop bases":
			d.apply(t, v)
		}
	}
	moved := func(rep *fsck.Report) []string {
		var out []string
		for _, l := range summary(rep) {
			for _, c := range []fsck.Class{fsck.ClassOrphanHandle, fsck.ClassDanglingHandle, fsck.ClassStaleLinkfile, fsck.ClassIndexBase} {
				if strings.HasPrefix(l, string(c)+" ") {
					out = append(out, l)
				}
			}
		}
		return out
	}
	before := moved(check(t, v, fsck.Options{}))
	_, _, last := converge(t, v, fsck.RepairOptions{Repair: true, ID: "r1"})
	if len(before) != 5 || len(last.Findings) != 0 {
		t.Fatalf("before the repair %q; left after it:\n%s", before, dump(last))
	}
	var roots []string
	for _, b := range v.Bricks {
		roots = append(roots, b.Root)
	}
	lines, err := fsck.Restore(roots, v.V.XattrNS, "r1", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := moved(check(t, v, fsck.Options{})); !slices.Equal(got, before) {
		t.Errorf("after restoring (%q) fsck finds\n%s\nwant as before the repair\n%s", lines, strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
	if _, err := fsck.Restore(roots, v.V.XattrNS, "../r1", false); err == nil {
		t.Error("a quarantine id with a slash was accepted")
	}
	if _, err := fsck.Restore(roots, v.V.XattrNS, "nope", false); err == nil {
		t.Error("an unknown quarantine id was accepted")
	}
}

// TestRepairLeavesAFileMovedSinceTheCheck: a fix planned for a file does
// nothing once another file stands at its path (a mount renamed the first
// away and made the second there, between the check and the fix): the
// other file gets no gfid2path record of the first's name.
func TestRepairLeavesAFileMovedSinceTheCheck(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	abs := filepath.Join(v.Bricks[0].Root, fixtures.ReadmePath)
	keys := func(p string) []string {
		names, _ := xattr.LList(p)
		return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, "trusted.gfid2path.") })
	}
	for _, n := range keys(abs) {
		must(t, xattr.LRemove(abs, n))
	}
	rep := check(t, v, fsck.Options{})
	// Another file at the path now; the first moved aside.
	must(t, os.Rename(abs, abs+".moved"))
	must(t, os.WriteFile(abs, []byte("another file\n"), 0o644))
	done := fsck.Repair(context.Background(), rep, fsck.RepairOptions{Repair: true})
	if len(done) == 0 {
		t.Fatalf("the missing gfid2path was not planned:\n%s", dump(rep))
	}
	if got := keys(abs); len(got) != 0 {
		t.Errorf("the file now at %s got the first's name record %q", fixtures.ReadmePath, got)
	}
}

// clashVol is a volume whose stale temp file's final name holds other
// content on both bricks.
func clashVol(t *testing.T) *fixtures.Vol {
	t.Helper()
	v := fixtures.MustBuild(t, "stale-temp", 2)
	must(t, v.WriteFile("/player.json", []byte("the final name's own\n")))
	return v
}

func clashRepair(t *testing.T, v *fixtures.Vol, keep fsck.ClashKeep) []fsck.Repaired {
	t.Helper()
	return fsck.Repair(context.Background(), check(t, v, fsck.Options{}), fsck.RepairOptions{RenamePaths: []string{fixtures.StaleTempPath}, ClashKeeps: keep})
}

// TestClashKeepTempLeavesABrickWithoutTheTempFile: where a brick has no
// temp file to rename over the final name, keeping the temp file's
// version leaves that brick's final name where it is: nothing would take
// its place.
func TestClashKeepTempLeavesABrickWithoutTheTempFile(t *testing.T) {
	v := clashVol(t)
	b1 := v.Bricks[1]
	temp := filepath.Join(b1.Root, fixtures.StaleTempPath)
	g, err := b1.GFIDOf(fixtures.StaleTempPath)
	must(t, err)
	must(t, os.Remove(b1.HandlePath(g)))
	must(t, os.Remove(temp))
	for _, r := range clashRepair(t, v, fsck.ClashKeepTemp) {
		if r.Err != "" {
			t.Errorf("%s: %s", r.Finding.Path, r.Err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(b1.Root, "player.json")); err != nil || string(got) != "the final name's own\n" {
		t.Errorf("b1's /player.json, with no temp file to take its place: %q, %v", got, err)
	}
}

// TestClashKeepFinalRefusedAfterAKeepTempCutShort: once a brick has the
// temp file's version under the final name (a run keeping it, cut short),
// keeping the final name's version instead is refused, changing nothing:
// the name would be two files, one a brick.
func TestClashKeepFinalRefusedAfterAKeepTempCutShort(t *testing.T) {
	v := clashVol(t)
	b0 := v.Bricks[0]
	final := filepath.Join(b0.Root, "player.json")
	// b0's final name kept aside, and the temp file renamed over it.
	must(t, os.Rename(final, final+".aside"))
	must(t, os.Rename(filepath.Join(b0.Root, fixtures.StaleTempPath), final))
	before := contents(t, v.Bricks[1].Root, true)
	done := clashRepair(t, v, fsck.ClashKeepFinal)
	if len(done) != 1 || !strings.Contains(done[0].Err, "cut short") {
		t.Fatalf("keeping the final name's version after a keep-temp cut short: %+v", done)
	}
	if after := contents(t, v.Bricks[1].Root, true); !maps.Equal(before, after) {
		t.Errorf("the refused repair changed b1: %v -> %v", before, after)
	}
}
