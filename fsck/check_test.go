package fsck_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/index"
)

// damage is one way to break a healthy replica-2 volume, and the finding
// fsck must report for it (brick "" for a finding on the replica set).
type damage struct {
	name  string
	apply func(t *testing.T, v *fixtures.Vol)
	class fsck.Class
	brick string
	path  string
}

// unrepairable are the damages that have no one right answer: fsck
// reports them for a person and its repair leaves them alone.
var unrepairable = map[string]bool{
	"volume-id foreign": true, "duplicate gfid": true, "handle of another gfid": true,
	"changelog length": true, "self-accusation": true, "gfid mismatch": true,
	"type mismatch": true, "silent mode difference": true, "silent missing name": true,
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func abs(t *testing.T, v *fixtures.Vol, i int, p string) string {
	t.Helper()
	a, err := v.Bricks[i].Abs(p)
	must(t, err)
	return a
}

func key(v *fixtures.Vol, k string) string { return v.Bricks[0].Key(k) }

func gfid(t *testing.T, v *fixtures.Vol, i int, p string) afr.GFID {
	t.Helper()
	g, err := v.Bricks[i].GFIDOf(p)
	must(t, err)
	return g
}

// handleRel is where a handle lives relative to the brick root.
func handleRel(g afr.GFID) string { return brick.HandleRel(g) }

// newFile makes a plain file on one brick only, behind AFR's back.
func newFile(t *testing.T, v *fixtures.Vol, i int, p, content string) string {
	t.Helper()
	a := abs(t, v, i, p)
	must(t, os.WriteFile(a, []byte(content), 0o644))
	return a
}

// madeUp is a gfid no entry has; each damage uses its own n so that
// damages applied together do not meet.
func madeUp(n byte) afr.GFID { return afr.GFID{0xab, n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, n} }

func raw(g afr.GFID) []byte { return g[:] }

func damages() []damage {
	return []damage{
		{"volume-id missing", func(t *testing.T, v *fixtures.Vol) {
			must(t, xattr.LRemove(v.Bricks[0].Root, key(v, brick.KeyVolumeID)))
		}, fsck.ClassVolumeID, "b0", "/"},
		{"volume-id foreign", func(t *testing.T, v *fixtures.Vol) {
			must(t, xattr.LSet(v.Bricks[1].Root, key(v, brick.KeyVolumeID), raw(madeUp(8))))
		}, fsck.ClassVolumeID, "b1", "/"},
		{"root gfid", func(t *testing.T, v *fixtures.Vol) {
			must(t, xattr.LRemove(v.Bricks[1].Root, key(v, brick.KeyGFID)))
		}, fsck.ClassRootGFID, "b1", "/"},
		{".glusterfs incomplete", func(t *testing.T, v *fixtures.Vol) {
			must(t, os.RemoveAll(v.Bricks[0].GlusterPath("indices", "dirty")))
		}, fsck.ClassGlusterfsDir, "b0", ".glusterfs/indices/dirty"},
		{"missing gfid", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile("/nogfid", []byte("x\n")))
			must(t, xattr.LRemove(abs(t, v, 0, "/nogfid"), key(v, brick.KeyGFID)))
		}, fsck.ClassMissingGFID, "b0", "/nogfid"},
		{"malformed gfid", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile("/badgfid", []byte("x\n")))
			must(t, xattr.LSet(abs(t, v, 1, "/badgfid"), key(v, brick.KeyGFID), []byte{1, 2, 3}))
		}, fsck.ClassMalformedGFID, "b1", "/badgfid"},
		{"missing handle", func(t *testing.T, v *fixtures.Vol) {
			must(t, os.Remove(v.Bricks[1].HandlePath(gfid(t, v, 1, fixtures.ReadmePath))))
		}, fsck.ClassMissingHandle, "b1", fixtures.ReadmePath},
		{"wrong directory handle", func(t *testing.T, v *fixtures.Vol) {
			h := v.Bricks[0].HandlePath(gfid(t, v, 0, fixtures.DocsPath))
			must(t, os.Remove(h))
			must(t, os.Symlink(brick.DirHandleTarget(brick.RootGFID, "elsewhere"), h))
		}, fsck.ClassWrongHandle, "b0", fixtures.DocsPath},
		{"gfid2path missing", func(t *testing.T, v *fixtures.Vol) {
			k := key(v, brick.Gfid2pathKey(gfid(t, v, 1, fixtures.DocsPath), "readme.md"))
			must(t, xattr.LRemove(abs(t, v, 1, fixtures.ReadmePath), k))
		}, fsck.ClassGfid2path, "b1", fixtures.ReadmePath},
		{"gfid2path stale", func(t *testing.T, v *fixtures.Vol) {
			k := key(v, brick.Gfid2pathKey(brick.RootGFID, "old-name"))
			must(t, xattr.LSet(abs(t, v, 0, fixtures.HelloPath), k, []byte(brick.Gfid2pathValue(brick.RootGFID, "old-name"))))
		}, fsck.ClassGfid2path, "b0", fixtures.HelloPath},
		{"duplicate gfid", func(t *testing.T, v *fixtures.Vol) {
			for i := range v.Bricks {
				a := newFile(t, v, i, "/dup", "hello, world\n")
				g := gfid(t, v, i, fixtures.HelloPath)
				must(t, xattr.LSet(a, key(v, brick.KeyGFID), g[:]))
			}
		}, fsck.ClassDuplicateGFID, "b0", "/dup"},
		{"orphan handle", func(t *testing.T, v *fixtures.Vol) {
			h := v.Bricks[0].HandlePath(madeUp(1))
			must(t, os.MkdirAll(filepath.Dir(h), 0o700))
			must(t, os.WriteFile(h, []byte("bytes nobody can reach"), 0o644))
		}, fsck.ClassOrphanHandle, "b0", handleRel(madeUp(1))},
		{"dangling directory handle", func(t *testing.T, v *fixtures.Vol) {
			h := v.Bricks[1].HandlePath(madeUp(2))
			must(t, os.MkdirAll(filepath.Dir(h), 0o700))
			must(t, os.Symlink(brick.DirHandleTarget(brick.RootGFID, "gone"), h))
		}, fsck.ClassDanglingHandle, "b1", handleRel(madeUp(2))},
		{"handle of another gfid", func(t *testing.T, v *fixtures.Vol) {
			h := v.Bricks[0].HandlePath(madeUp(3))
			must(t, os.MkdirAll(filepath.Dir(h), 0o700))
			must(t, os.Link(abs(t, v, 0, fixtures.HelloPath), h))
		}, fsck.ClassHandleGFID, "b0", handleRel(madeUp(3))},
		{"stale index: file gone", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Indexes[0].Add(index.Xattrop, madeUp(4)))
		}, fsck.ClassStaleIndex, "b0", ".glusterfs/indices/xattrop/" + madeUp(4).String()},
		{"stale index: counters zero", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Indexes[1].Add(index.Dirty, gfid(t, v, 1, fixtures.HelloPath)))
		}, fsck.ClassStaleIndex, "b1", ""},
		{"missing index", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Bricks[0].WriteChangelog(fixtures.HelloPath, brick.PendingKey(v.V.Bricks[1].ID), afr.Changelog{1, 0, 0}))
		}, fsck.ClassMissingIndex, "b0", fixtures.HelloPath},
		{"two xattrop bases", func(t *testing.T, v *fixtures.Vol) {
			// An entry added and removed leaves the index's own base file.
			g := gfid(t, v, 1, fixtures.HelloPath)
			must(t, v.Indexes[1].Add(index.Xattrop, g))
			must(t, v.Indexes[1].Remove(index.Xattrop, g))
			must(t, os.WriteFile(v.Bricks[1].GlusterPath("indices", "xattrop", "xattrop-"+madeUp(5).String()), nil, 0o600))
		}, fsck.ClassIndexBase, "b1", ".glusterfs/indices/xattrop"},
		{"entry-changes of a gone directory", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Indexes[0].AddEntryChange(madeUp(6), "name"))
		}, fsck.ClassStaleEntryChanges, "b0", ".glusterfs/indices/entry-changes/" + madeUp(6).String()},
		{"changelog length", func(t *testing.T, v *fixtures.Vol) {
			must(t, xattr.LSet(abs(t, v, 1, fixtures.HelloPath), key(v, brick.KeyDirty), []byte{0, 0, 0, 1, 0}))
		}, fsck.ClassChangelogLength, "b1", fixtures.HelloPath},
		{"foreign changelog", func(t *testing.T, v *fixtures.Vol) {
			must(t, xattr.LSet(abs(t, v, 0, fixtures.ReadmePath), key(v, "afr.fx-client-9"), make([]byte, 12)))
		}, fsck.ClassForeignChangelog, "b0", fixtures.ReadmePath},
		{"self-accusation", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Bricks[1].WriteChangelog(fixtures.ReadmePath, brick.PendingKey(v.V.Bricks[1].ID), afr.Changelog{0, 1, 0}))
			must(t, v.Indexes[1].Add(index.Xattrop, gfid(t, v, 1, fixtures.ReadmePath)))
		}, fsck.ClassSelfAccusation, "b1", fixtures.ReadmePath},
		{"gfid mismatch", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile("/same.txt", []byte("b0's\n"), 1))
			must(t, v.WriteFile("/same.txt", []byte("b1's\n"), 0))
		}, fsck.ClassGFIDMismatch, "", "/same.txt"},
		{"type mismatch", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile("/t", []byte("a file on b0\n"), 1))
			must(t, v.Mkdir("/t", 0))
		}, fsck.ClassTypeMismatch, "", "/t"},
		{"silent mode difference", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile("/chmodded", []byte("x\n")))
			must(t, os.Chmod(abs(t, v, 1, "/chmodded"), 0o600))
		}, fsck.ClassSilentDifference, "", "/chmodded"},
		{"silent missing name", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.Mkdir("/quiet"))
			must(t, v.WriteFile("/quiet/f", []byte("x\n")))
			must(t, os.Remove(abs(t, v, 1, "/quiet/f")))
		}, fsck.ClassSilentDifference, "", "/quiet/f"},
		{"stale link file", func(t *testing.T, v *fixtures.Vol) {
			for i := range v.Bricks {
				a := newFile(t, v, i, "/linked", "")
				must(t, os.Chmod(a, os.ModeSticky))
				must(t, xattr.LSet(a, key(v, "glusterfs.dht.linkto"), []byte("fx-replicate-1\x00")))
				must(t, xattr.LSet(a, key(v, brick.KeyGFID), raw(madeUp(7))))
			}
		}, fsck.ClassStaleLinkfile, "b0", "/linked"},
		{"stale rsync temp", func(t *testing.T, v *fixtures.Vol) {
			must(t, v.WriteFile(fixtures.StaleTempPath, []byte(`{"name":"player"}`+"\n")))
		}, fsck.ClassStaleTemp, "", fixtures.StaleTempPath},
	}
}

// found reports whether rep has a finding of class on brick (any brick
// when brick is "") whose path is path (any path when path is "").
func found(rep *fsck.Report, class fsck.Class, brickLabel, path string) bool {
	return slices.ContainsFunc(rep.Findings, func(f fsck.Finding) bool {
		return f.Class == class && (brickLabel == "" || f.Brick == brickLabel) && (path == "" || f.Path == path)
	})
}

func check(t *testing.T, v *fixtures.Vol, opts fsck.Options) *fsck.Report {
	t.Helper()
	rep, err := fsck.CheckVolume(context.Background(), v.V, opts)
	if err != nil {
		t.Fatalf("fsck: %v", err)
	}
	return rep
}

func dump(rep *fsck.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", f.Class, f.Brick, f.Path, f.Detail)
	}
	return b.String()
}

func TestHealthyVolumeIsClean(t *testing.T) {
	for _, replica := range []int{2, 3} {
		v := fixtures.MustBuild(t, "healthy", replica)
		rep := check(t, v, fsck.Options{Deep: true})
		if len(rep.Findings) != 0 {
			t.Errorf("replica %d: a healthy volume has findings:\n%s", replica, dump(rep))
		}
		if rep.Entries != 4 || rep.Handles != int64(4*replica) {
			t.Errorf("replica %d: checked %d entries and %d handles, want 4 and %d", replica, rep.Entries, rep.Handles, 4*replica)
		}
	}
}

// Every pending state that heal info knows is not a problem for fsck: the
// counters say what to do.
func TestPendingHealsAreNotFindings(t *testing.T) {
	for _, state := range []string{"pending-data", "pending-entry", "pending-metadata"} {
		v := fixtures.MustBuild(t, state, 2)
		if rep := check(t, v, fsck.Options{Deep: true}); len(rep.Findings) != 0 {
			t.Errorf("%s: findings:\n%s", state, dump(rep))
		}
	}
}

func TestEachDamageIsFound(t *testing.T) {
	for _, d := range damages() {
		t.Run(d.name, func(t *testing.T) {
			v := fixtures.MustBuild(t, "healthy", 2)
			d.apply(t, v)
			rep := check(t, v, fsck.Options{})
			if !found(rep, d.class, d.brick, d.path) {
				t.Errorf("no %s finding on %q at %q; findings:\n%s", d.class, d.brick, d.path, dump(rep))
			}
		})
	}
}

func TestAllDamagesTogether(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	ds := damages()
	for _, d := range ds {
		if d.class == fsck.ClassVolumeID || d.class == fsck.ClassRootGFID {
			continue // they change what every other check sees; tested alone
		}
		d.apply(t, v)
	}
	rep := check(t, v, fsck.Options{})
	for _, d := range ds {
		if d.class == fsck.ClassVolumeID || d.class == fsck.ClassRootGFID {
			continue
		}
		if !found(rep, d.class, d.brick, d.path) {
			t.Errorf("%s: no %s finding on %q at %q", d.name, d.class, d.brick, d.path)
		}
	}
	if t.Failed() {
		t.Logf("findings:\n%s", dump(rep))
	}
}

func TestDeepComparesContent(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	a := abs(t, v, 1, fixtures.HelloPath)
	must(t, os.WriteFile(a, []byte("hello, WORLD\n"), 0o644))
	if rep := check(t, v, fsck.Options{}); found(rep, fsck.ClassSilentDifference, "", fixtures.HelloPath) {
		t.Errorf("without --deep, same-size copies were compared by content:\n%s", dump(rep))
	}
	rep := check(t, v, fsck.Options{Deep: true})
	if !found(rep, fsck.ClassSilentDifference, "", fixtures.HelloPath) {
		t.Errorf("--deep missed copies of equal size and different content:\n%s", dump(rep))
	}
}

func TestStaleTempStates(t *testing.T) {
	for _, tc := range []struct {
		name, final string
		repair      bool
		versions    int
	}{
		{"final absent", "", true, 0},
		{"final identical", `{"name":"player"}` + "\n", true, 0},
		{"final differs", `{"name":"someone else"}` + "\n", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fixtures.MustBuild(t, "healthy", 2)
			must(t, v.WriteFile(fixtures.StaleTempPath, []byte(`{"name":"player"}`+"\n")))
			if tc.final != "" {
				must(t, v.WriteFile("/player.json", []byte(tc.final)))
			}
			rep := check(t, v, fsck.Options{})
			var f *fsck.Finding
			for i := range rep.Findings {
				if rep.Findings[i].Class == fsck.ClassStaleTemp {
					f = &rep.Findings[i]
				}
			}
			if f == nil {
				t.Fatalf("no stale-temp finding:\n%s", dump(rep))
			}
			if f.Repairable() != tc.repair || len(f.Versions) != tc.versions {
				t.Errorf("finding %+v: want repairable %v with %d versions", f, tc.repair, tc.versions)
			}
		})
	}
	// Dotfiles that only look like temp files are not reported.
	v := fixtures.MustBuild(t, "healthy", 2)
	must(t, v.WriteFile("/.config.json", []byte("{}\n")))
	if rep := check(t, v, fsck.Options{}); found(rep, fsck.ClassStaleTemp, "", "") {
		t.Errorf("a dotfile was taken for a temp file:\n%s", dump(rep))
	}
}

func TestCheckBrickAlone(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	must(t, os.Remove(v.Bricks[1].HandlePath(gfid(t, v, 1, fixtures.ReadmePath))))
	rep, err := fsck.CheckBrick(context.Background(), v.Bricks[1].Root, nil, fsck.Options{})
	must(t, err)
	if !found(rep, fsck.ClassMissingHandle, v.Bricks[1].Root, fixtures.ReadmePath) || len(rep.Findings) != 1 {
		t.Errorf("brick alone:\n%s", dump(rep))
	}
	rep, err = fsck.CheckBrick(context.Background(), v.Bricks[0].Root, v.V, fsck.Options{})
	must(t, err)
	if len(rep.Findings) != 0 || rep.Bricks[0] != "b0" {
		t.Errorf("b0 of its volume: bricks %v\n%s", rep.Bricks, dump(rep))
	}
	if _, err := fsck.CheckBrick(context.Background(), t.TempDir(), v.V, fsck.Options{}); err == nil || !strings.Contains(err.Error(), "is not a brick of volume fx") {
		t.Errorf("a directory that is not the volume's brick: %v", err)
	}
}

// Two index bases that both hold entries are what GlusterFS's index makes
// when a base reaches the link limit (EMLINK) or a brick restarts: not a
// finding.
func TestIndexBasesWithEntriesAreSound(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	dir := v.Bricks[0].GlusterPath("indices", "xattrop")
	second := filepath.Join(dir, "xattrop-"+madeUp(9).String())
	must(t, os.WriteFile(second, nil, 0o600))
	must(t, os.Link(second, filepath.Join(dir, gfid(t, v, 0, fixtures.ReadmePath).String())))
	must(t, v.Bricks[0].WriteChangelog(fixtures.ReadmePath, brick.PendingKey(v.V.Bricks[1].ID), afr.Changelog{1, 0, 0}))
	if rep := check(t, v, fsck.Options{}); found(rep, fsck.ClassIndexBase, "", "") {
		t.Errorf("two bases with entries were reported:\n%s", dump(rep))
	}
}
