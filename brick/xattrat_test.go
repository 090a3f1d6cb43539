package brick

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"
)

// xattrFile is a new brick with a file f whose xattr name (in the
// brick's namespace: key) holds v; it skips the test where the file
// system takes no such xattrs.
func xattrFile(t *testing.T, name string, v []byte) (b *Brick, f, key string) {
	t.Helper()
	b, err := Open(t.TempDir(), DefaultNS())
	if err != nil {
		t.Fatal(err)
	}
	f = filepath.Join(b.Root, "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	key = b.key(name)
	if err := xattr.LSet(f, key, v); err != nil {
		t.Skipf("no %s xattrs here: %v", b.NS, err)
	}
	return b, f, key
}

// TestXattrAtReadsWhatProcReads: getxattrat and listxattrat, relative to
// the parent's descriptor, read what the /proc name reads, and never
// follow a symlink: the symlink's own (absent) key is read, not its
// target's.
func TestXattrAtReadsWhatProcReads(t *testing.T) {
	long := make([]byte, 3000) // over getxattr's first buffer
	for i := range long {
		long[i] = byte(i)
	}
	b, f, key := xattrFile(t, "afrkit.test", long)
	if err := os.Symlink("f", filepath.Join(b.Root, "s")); err != nil {
		t.Fatal(err)
	}
	a, err := b.resolve("test", f)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if _, err := getxattrat(a.dir, a.name, key, nil); errors.Is(err, unix.ENOSYS) {
		t.Logf("this kernel has no getxattrat: the /proc fallback is what runs")
	}
	got, err := a.getxattr(key)
	if err != nil || string(got) != string(long) {
		t.Errorf("getxattr through the parent: %d bytes, %v; want %d", len(got), err, len(long))
	}
	viaProc, _ := xattr.LGet(a.proc(), key)
	if string(viaProc) != string(got) {
		t.Errorf("/proc reads %d bytes, getxattrat %d", len(viaProc), len(got))
	}
	names, err := a.listxattr()
	if err != nil || !slices.Contains(names, key) {
		t.Errorf("listxattr: %v, %v; want %s among them", names, err, key)
	}
	s, err := b.resolve("test", filepath.Join(b.Root, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if v, err := s.getxattr(key); !errors.Is(err, ErrNoAttr) {
		t.Errorf("the symlink's own %s: %q, %v; want ErrNoAttr (its target's was followed)", key, v, err)
	}
	if _, err := s.getxattr(b.key("absent")); !errors.Is(err, ErrNoAttr) {
		t.Errorf("an absent key: %v, want ErrNoAttr", err)
	}
}

// TestSetxattrAtWritesWhatProcReads: setxattrat, relative to the parent's
// descriptor, writes what the /proc name then reads, keeps XATTR_CREATE's
// refusal of an existing key, and writes on a symlink itself, never on
// its target.
func TestSetxattrAtWritesWhatProcReads(t *testing.T) {
	b, f, _ := xattrFile(t, "probe", []byte("x"))
	key := b.key("afrkit.test")
	a, err := b.resolve("test", f)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := a.setxattr(key, []byte("written at"), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := xattr.LGet(f, key); err != nil || string(got) != "written at" {
		t.Errorf("lgetxattr after setxattrat: %q, %v", got, err)
	}
	if err := a.setxattr(key, []byte("again"), xattr.XATTR_CREATE); !errors.Is(err, unix.EEXIST) {
		t.Errorf("XATTR_CREATE over an existing key: %v, want EEXIST", err)
	}
	if err := os.Symlink("f", filepath.Join(b.Root, "s")); err != nil {
		t.Fatal(err)
	}
	s, err := b.resolve("test", filepath.Join(b.Root, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	// A user.* key on a symlink is refused by the kernel; a trusted one is
	// written on the symlink. Either way the target keeps its value.
	_ = s.setxattr(key, []byte("through the link"), 0)
	if got, _ := xattr.LGet(f, key); string(got) != "written at" {
		t.Errorf("the symlink's target's key is now %q: setxattrat followed the symlink", got)
	}
}
