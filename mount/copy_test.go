package mount_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/fixtures"
)

// TestCopyFileRangeCopiesOnTheBricks: copy_file_range(2) through the
// mount copies on the bricks, into every copy of the destination, in one
// data transaction; from a source whose copy on b2 is stale (b0 and b1
// blame it), b2's destination gets the good bytes, not its own stale
// ones.
func TestCopyFileRangeCopiesOnTheBricks(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "cfr", 3)
	if err != nil {
		t.Fatal(err)
	}
	good := random(t, 3<<20)
	if err := v.WriteFile("/src", bytes.Repeat([]byte{'s'}, len(good))); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite("/src", good, 2); err != nil { // b2 misses it
		t.Fatal(err)
	}
	mnt, unmount := serve(t, v, make(events, 64))
	in, err := os.Open(filepath.Join(mnt, "src"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(mnt, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	offIn, offOut := int64(4096), int64(0)
	want := good[4096:]
	copied := 0
	for copied < len(want) {
		n, err := unix.CopyFileRange(int(in.Fd()), &offIn, int(out.Fd()), &offOut, len(want)-copied, 0)
		if err != nil {
			t.Fatalf("copy_file_range: %v", err)
		}
		if n == 0 {
			break
		}
		copied += n
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "dst")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("dst through the mount: %d bytes, %v; want the source's good bytes", len(got), err)
	}
	in.Close()
	unmount()
	for _, b := range v.Bricks {
		if got, err := os.ReadFile(filepath.Join(b.Root, "dst")); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/dst: %d bytes, %v; want the source's good bytes", b.Root, len(got), err)
		}
	}
}
