package mount_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/fixtures"
)

// TestListingNeverShowsAStaleCopy: a readdirplus answers every entry's
// attributes from the one copy it lists, but only where no copy can be
// stale. Here the first copy, which lists the directory, missed a write
// and a chmod (the others blame it): what a listing shows of the file
// (ls -l) is what the file is.
func TestListingNeverShowsAStaleCopy(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "stale", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/d/f", []byte("old")); err != nil {
		t.Fatal(err)
	}
	content := []byte("what was written while brick 0 was down")
	if err := v.Overwrite("/d/f", content, 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Chmod("/d/f", 0o600, 0); err != nil {
		t.Fatal(err)
	}
	v.Close()
	dir, _ := serve(t, v, make(events, 16))

	// The names, then each one's attributes: the kernel answers the
	// lstat from what the readdirplus told it.
	ents, err := os.ReadDir(filepath.Join(dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "f" {
		t.Fatalf("listing of /d: %v, want f alone", ents)
	}
	fi, err := os.Lstat(filepath.Join(dir, "d", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(content)) || fi.Mode().Perm() != 0o600 {
		t.Errorf("listed /d/f: size %d mode %v, want size %d mode -rw------- (brick 0's stale copy answered)", fi.Size(), fi.Mode().Perm(), len(content))
	}
}

// TestStatAfterAWriteMissedTheSource: a stat comes from the copy the
// last lookup found readable, alone, until something may have left that
// copy behind. Here a write fails on that copy (b0's is made immutable
// under the open file): the stat after it shows the file as written,
// not b0's stale copy; and so does a read, or a stat, through the file
// still open.
func TestStatAfterAWriteMissedTheSource(t *testing.T) {
	requireFUSE(t)
	chattr := requireTool(t, "chattr")
	v, err := fixtures.Healthy(t.TempDir(), "src", 3)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	dir, _ := serve(t, v, make(events, 16))
	p := filepath.Join(dir, "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	b0 := filepath.Join(v.Bricks[0].Root, "f")
	if out, err := exec.Command(chattr, "+i", b0).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s", err, out)
	}
	defer exec.Command(chattr, "-i", b0).Run()
	more := []byte(", then more while b0's copy could not be written")
	if _, err := f.Write(more); err != nil {
		t.Fatal(err)
	}
	// The open file reads what it wrote, not b0's copy, which the write
	// left behind. (The kernel keeps no page of it: each read reaches the
	// mount.)
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(more))
	if n, err := f.ReadAt(got, int64(len("first"))); n != len(more) || !bytes.Equal(got, more) {
		t.Errorf("read through the open file after the write: %q, %v; want what it wrote", got[:n], err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len("first")+len(more)) {
		t.Errorf("fstat of the open file after the write: %v, %v; want size %d", fi.Size(), err, len("first")+len(more))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(b0); err != nil || string(got) != "first" {
		t.Fatalf("b0's copy: %q, %v; the write should have failed there", got, err)
	}
	// The write made the kernel forget the size: the stat reaches the
	// mount as a getattr (the name is still fresh, so not as a lookup).
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len("first") + len(more)); fi.Size() != want {
		t.Errorf("stat after the write: size %d, want %d (b0's stale copy answered)", fi.Size(), want)
	}
}
