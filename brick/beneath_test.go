package brick

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/afr"
)

// TestPathsLongerThanPathMax: an entry whose brick path is longer than
// PATH_MAX (clients can make one, a component at a time) is created, read,
// resolved from its gfid and changed like any other.
func TestPathsLongerThanPathMax(t *testing.T) {
	b := newBrick(t)
	p := ""
	var last afr.GFID
	for i := 0; len(b.Root)+len(p) < 2*4096; i++ {
		p += "/" + strings.Repeat(string(rune('a'+i%26)), 200)
		last = NewGFID()
		mustCreate(t, b, NewEntry{Path: p, GFID: last, Type: afr.TypeDirectory, Mode: 0o755})
	}
	f := p + "/file"
	g := NewGFID()
	mustCreate(t, b, NewEntry{Path: f, GFID: g, Type: afr.TypeRegular, Mode: 0o644, Content: strings.NewReader("deep\n")})
	r, err := b.Reply(f, nil)
	if err != nil || !r.Exists || r.GFID != g || r.Size != 5 {
		t.Fatalf("Reply(deep file) = %+v, %v", r, err)
	}
	if got, err := b.PathOf(last); err != nil || got != p {
		t.Fatalf("PathOf(deepest directory): %v (len %d, want len %d)", err, len(got), len(p))
	}
	abs, err := b.AbsOfGFID(g)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Chmod(abs, 0o600); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil || st.Mode&0o777 != 0o600 {
		t.Fatalf("mode after chmod: %o, %v", st.Mode, err)
	}
}

// TestNothingOpensASpecialFile: a FIFO or a device where a file is read is
// refused without being opened (opening a FIFO would block).
func TestNothingOpensASpecialFile(t *testing.T) {
	b := newBrick(t)
	fifo := filepath.Join(b.Root, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenFile(fifo, os.O_RDONLY); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenFile(fifo) = %v, want ErrNotRegular", err)
	}
	if _, err := b.OpenOrCreate(fifo, os.O_RDWR, 0o600); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenOrCreate(fifo) = %v, want ErrNotRegular", err)
	}
	// /dev/tty's numbers: opening it without a controlling terminal (as
	// tests and CI run) fails with ENXIO, so an open that reached the
	// device would say so instead of refusing it.
	tty := filepath.Join(b.Root, "tty")
	if err := syscall.Mknod(tty, syscall.S_IFCHR|0o666, 5<<8|0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenOrCreate(tty, os.O_RDWR, 0o600); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenOrCreate(char device) = %v, want ErrNotRegular", err)
	}
	link := filepath.Join(b.Root, "zero")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := b.OpenFile(link, os.O_RDONLY); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("OpenFile(symlink to /dev/zero) = %v, want ErrSymlinkInPath", err)
	}
	if err := b.CopyFile(link, filepath.Join(b.Root, "copy")); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("CopyFile(symlink) = %v", err)
	}
}

// TestCopyFileKeepsHolesAndChecksSpace: a kept copy of a sparse file is
// sparse, and a copy that cannot fit is refused before it starts, leaving
// nothing behind.
func TestCopyFileKeepsHolesAndChecksSpace(t *testing.T) {
	b := newBrick(t)
	src := filepath.Join(b.Root, "sparse")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("head"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("tail"), 1<<40); err != nil { // a 1 TiB file of 8 bytes
		t.Fatal(err)
	}
	f.Close()
	dst := filepath.Join(b.Root, "kept")
	if err := b.CopyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dst, &st); err != nil || st.Size != 1<<40+4 || st.Blocks*512 > 1<<20 {
		t.Fatalf("copy: size %d, %d bytes allocated, %v", st.Size, st.Blocks*512, err)
	}
	if err := b.checkFree(1 << 62); !errors.Is(err, ErrNoSpace) {
		t.Errorf("checkFree(4 EiB) = %v, want ErrNoSpace", err)
	}
}
