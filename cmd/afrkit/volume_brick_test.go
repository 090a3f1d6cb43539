package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
)

// TestResetBrickRefills is class 6 of the trust issue: a brick whose disk
// is replaced comes back as an empty directory, which every other command
// refuses (it is what an unmounted disk looks like). reset-brick is how a
// person says the empty directory is meant: it refuses a working brick
// and a directory holding files, changing nothing; it stamps the new one,
// blames it on the root of the other bricks and heals it full, after
// which the two bricks serve the same namespace, heal info lists nothing
// and a second heal has nothing to do. replace-brick puts a new directory
// in another brick's place the same way and leaves the old one as it was.
func TestResetBrickRefills(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	mustDo(t, v.Mkdir("/docs/deep"))
	mustDo(t, v.WriteFile("/docs/deep/notes.txt", []byte("three levels down\n")))
	mustDo(t, v.Link(fixtures.HelloPath, "/docs/hello.hardlink"))
	mustDo(t, v.Chmod(fixtures.ReadmePath, 0o600))
	mustDo(t, v.SetXattr(fixtures.HelloPath, "user.colour", []byte("blue")))
	b0, b1 := v.Bricks[0].Root, v.Bricks[1].Root
	want := fixtures.Namespace(t, b0)

	mustDo(t, os.RemoveAll(b1))
	mustDo(t, os.Mkdir(b1, 0o755))
	tr := &transcript{t: t, env: volEnv(dir)}

	// Refusals change nothing on any brick.
	before := fixtures.Snapshot(t, dir)
	tr.step(ExitError, "volume", "reset-brick", "fx", b0)
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("a refused reset-brick changed the bricks:\n%s", fixtures.LineDiff(before, after))
	}
	mustDo(t, os.WriteFile(filepath.Join(b1, "left-on-the-mount-point"), []byte("x"), 0o644))
	before = fixtures.Snapshot(t, dir)
	tr.step(ExitError, "volume", "reset-brick", "fx", b1)
	tr.step(ExitError, "volume", "reset-brick", "fx", "b7")
	tr.step(ExitError, "volume", "replace-brick", "fx", b1, filepath.Join(b0, "inside"))
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("a refused command changed the bricks:\n%s", fixtures.LineDiff(before, after))
	}
	mustDo(t, os.Remove(filepath.Join(b1, "left-on-the-mount-point")))

	tr.step(ExitOK, "volume", "reset-brick", "fx", b1)
	if got := fixtures.Namespace(t, b1); got != want {
		t.Errorf("after reset-brick, b1 differs from b0:\n%s", fixtures.LineDiff(want, got))
	}
	tr.step(ExitOK, "heal", "fx", "info")
	tr.step(ExitOK, "heal", "fx", "full")
	tr.step(ExitFsckClean, "fsck", "fx")

	// replace-brick: a new directory in b1's place; b1 is left as it is.
	b2 := filepath.Join(dir, "b2")
	oldB1 := fixtures.Snapshot(t, b1)
	tr.step(ExitOK, "volume", "replace-brick", "fx", b1, b2, "--no-heal")
	// The marks GlusterFS's reset-brick leaves (TestResetBrickAgreesWithGlusterFS).
	if got, err := xattr.LGet(b0, "trusted.afr.fx-client-1"); err != nil || string(got) != string(brick.EncodeChangelog(afr.EmptyBrickMarks(true))) {
		t.Errorf("b0's root blames the new brick with %x, %v", got, err)
	}
	if got, err := xattr.LGet(b2, "trusted.afr.dirty"); err != nil || string(got) != string(brick.EncodeChangelog(afr.NewBrickDirty())) {
		t.Errorf("the new brick's root dirty: %x, %v", got, err)
	}
	tr.step(ExitOK, "heal", "fx", "info")
	tr.step(ExitOK, "heal", "fx")
	if got := fixtures.Namespace(t, b2); got != want {
		t.Errorf("after replace-brick, b2 differs from b0:\n%s", fixtures.LineDiff(want, got))
	}
	if got := fixtures.Snapshot(t, b1); got != oldB1 {
		t.Errorf("replace-brick changed the brick it replaced:\n%s", fixtures.LineDiff(oldB1, got))
	}
	tr.step(ExitOK, "volume", "info", "fx")
	tr.step(ExitOK, "heal", "fx", "info")
	tr.step(ExitOK, "heal", "fx", "full")
	tr.step(ExitFsckClean, "fsck", "fx")
	assertGolden(t, scrub(tr.String(), dir))
}
