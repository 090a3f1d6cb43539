package fsck

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
)

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func checkVol(t *testing.T, v *fixtures.Vol) *Report {
	t.Helper()
	rep, err := CheckVolume(context.Background(), v.V, Options{})
	if err != nil {
		t.Fatalf("fsck: %v", err)
	}
	return rep
}

// soundVolume is a volume with every kind of entry the tally counts:
// pending heals of each kind (index entries on files and directories), a
// hard-linked file, a symlink and a fifo.
func soundVolume(t *testing.T, state string) *fixtures.Vol {
	v := fixtures.MustBuild(t, state, 2)
	mustDo(t, v.Symlink("hello.txt", "/link-to-hello"))
	mustDo(t, v.WriteFile("/docs/linked", []byte("two names\n")))
	for _, b := range v.Bricks {
		src, err := b.Abs("/docs/linked")
		mustDo(t, err)
		dst := filepath.Join(filepath.Dir(src), "second-name")
		mustDo(t, os.Link(src, dst))
		pg, err := b.GFIDOf(fixtures.DocsPath)
		mustDo(t, err)
		mustDo(t, b.AddGfid2path(dst, pg, "second-name"))
		// A fifo: a handle that is neither a file nor a symlink.
		root := b.Root
		fifo := filepath.Join(root, "fifo")
		mustDo(t, syscall.Mkfifo(fifo, 0o644))
		g := afr.GFID{0xf1, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
		mustDo(t, b.SetRawXattr(fifo, "/fifo", b.Key(brick.KeyGFID), g[:]))
		mustDo(t, b.LinkFileHandle(fifo, g))
		mustDo(t, b.AddGfid2path(fifo, brick.RootGFID, "fifo"))
	}
	return v
}

// On a sound brick the handle tree and the index are only listed: the
// namespace walk proves every entry of them.
func TestTallyProvesSoundBricks(t *testing.T) {
	for _, state := range []string{"healthy", "pending-data", "pending-entry", "pending-metadata"} {
		v := soundVolume(t, state)
		rep := checkVol(t, v)
		if len(rep.Findings) != 0 {
			for _, f := range rep.Findings {
				t.Logf("  %s %s %s: %s", f.Class, f.Brick, f.Path, f.Detail)
			}
			t.Fatalf("%s: a sound volume has %d findings", state, len(rep.Findings))
		}
		if len(rep.rechecked) != 0 {
			t.Errorf("%s: the tally did not prove %v", state, rep.rechecked)
		}
		if state != "healthy" && rep.Indexed == 0 {
			t.Errorf("%s: no index entry was listed: the test proves nothing about the index", state)
		}
	}
}

// Whatever the tally cannot prove is checked one by one, and found; the
// damages that look most like a sound brick to the counts are here.
func TestTallyRechecksWhatItCannotProve(t *testing.T) {
	other := afr.GFID{0xab, 0xcd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	cases := []struct {
		name      string
		apply     func(t *testing.T, v *fixtures.Vol)
		rechecked string
		classes   []Class
	}{
		{"a second handle of a proven file", func(t *testing.T, v *fixtures.Vol) {
			h := v.Bricks[0].HandlePath(other)
			mustDo(t, os.MkdirAll(filepath.Dir(h), 0o700))
			a, err := v.Bricks[0].Abs(fixtures.HelloPath)
			mustDo(t, err)
			mustDo(t, os.Link(a, h))
		}, "b0 handles", []Class{ClassHandleGFID}},
		{"a missing handle beside an orphan", func(t *testing.T, v *fixtures.Vol) {
			g, err := v.Bricks[1].GFIDOf(fixtures.ReadmePath)
			mustDo(t, err)
			mustDo(t, os.Remove(v.Bricks[1].HandlePath(g)))
			h := v.Bricks[1].HandlePath(other)
			mustDo(t, os.MkdirAll(filepath.Dir(h), 0o700))
			mustDo(t, os.WriteFile(h, []byte("orphan"), 0o644))
		}, "b1 handles", []Class{ClassMissingHandle, ClassOrphanHandle}},
		// The same number of entries as the tally, with one gfid for
		// another: only the hash tells them apart.
		{"a stale xattrop entry in place of a missing one", func(t *testing.T, v *fixtures.Vol) {
			g, err := v.Bricks[0].GFIDOf(fixtures.HelloPath)
			mustDo(t, err)
			mustDo(t, v.Indexes[0].Remove(index.Xattrop, g))
			mustDo(t, v.Indexes[0].Add(index.Xattrop, other))
		}, "b0 xattrop", []Class{ClassStaleIndex, ClassMissingIndex}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := soundVolume(t, "pending-data")
			tc.apply(t, v)
			rep := checkVol(t, v)
			if !slices.Contains(rep.rechecked, tc.rechecked) {
				t.Errorf("rechecked %v, want %q among them", rep.rechecked, tc.rechecked)
			}
			for _, class := range tc.classes {
				if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Class == class }) {
					t.Errorf("no %s finding", class)
				}
			}
		})
	}
}
