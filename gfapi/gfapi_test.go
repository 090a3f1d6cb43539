package gfapi

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

func TestLoadMissingSaysWhatToInstall(t *testing.T) {
	_, err := LoadFrom("libgfapi-absent-for-this-test.so.0")
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("load of a missing library: %v, want ErrNotInstalled", err)
	}
	for _, want := range []string{"libgfapi0", "glusterfs-api"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say to install %s: %v", want, err)
		}
	}
}

// requireLib loads libgfapi or skips, unless the GlusterFS tests must run.
func requireLib(t *testing.T) *Lib {
	t.Helper()
	l, err := Load()
	if err != nil {
		if os.Getenv("AFRKIT_REQUIRE_GLUSTER") != "" {
			t.Fatalf("AFRKIT_REQUIRE_GLUSTER is set but %v", err)
		}
		t.Skip(err)
	}
	return l
}

// startedVolume is a started replica-3 volume mounted with FUSE, holding
// d/f ("hello world", user.colour=blue) and a symlink l to /etc/passwd,
// and an FS on its client graph fetched from the local glusterd.
func startedVolume(t *testing.T) (*glustertest.Volume, *FS) {
	t.Helper()
	c := glustertest.Require(t)
	lib := requireLib(t)
	v := c.CreateReplica(3)
	v.Start()
	v.MountFUSE()
	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	v.WriteFile("d/f", "hello world")
	if err := xattr.Set(v.Path("d/f"), "user.colour", []byte("blue")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", v.Path("l")); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "gfapi.log")
	fs, err := lib.Init(Config{Volume: v.Name, Servers: []Server{{Transport: Unix, Host: c.Socket}}, LogFile: log, LogLevel: LogInfo})
	if err != nil {
		t.Fatal(err)
	}
	// No Close: glfs_fini waits ten seconds for frames GlusterFS leaves
	// behind; the test binary's exit releases the graph.
	return v, fs
}

func TestVolumeThroughLibgfapi(t *testing.T) {
	v, fs := startedVolume(t)

	st, err := fs.Lstat("/d/f")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size != int64(len("hello world")) {
		t.Errorf("lstat /d/f: mode %o size %d, want a regular file of 11 bytes", st.Mode, st.Size)
	}
	if st, err := fs.Lstat("/l"); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		t.Errorf("lstat /l: mode %o, %v: want the symlink itself, not /etc/passwd", st.Mode, err)
	}
	if got, err := fs.Lgetxattr("/d/f", "user.colour"); err != nil || string(got) != "blue" {
		t.Errorf("user.colour of /d/f: %q, %v; want blue", got, err)
	}
	if _, err := fs.Lgetxattr("/d/f", "user.none"); !errors.Is(err, syscall.ENODATA) {
		t.Errorf("a missing xattr: %v, want ENODATA", err)
	}
	names, err := fs.Llistxattr("/d/f")
	if err != nil || !contains(names, "user.colour") {
		t.Errorf("llistxattr /d/f: %q, %v; want user.colour among them", names, err)
	}

	var listed []string
	err = fs.ReadDir("/d", func(e DirEntry) error {
		listed = append(listed, e.Name)
		if e.Name == "f" && (e.Type != syscall.DT_REG || e.Stat.Size != 11) {
			t.Errorf("readdirplus of f: type %d size %d, want a regular file of 11 bytes", e.Type, e.Stat.Size)
		}
		return nil
	})
	if err != nil || strings.Join(listed, ",") != "f" {
		t.Errorf("readdir /d: %q, %v; want just f", listed, err)
	}

	f, err := fs.Open("/d/f", os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, err := f.ReadAt(buf, 6)
	if err != io.EOF || string(buf[:n]) != "world" {
		t.Errorf("ReadAt(6) of /d/f: %q, %v; want world and EOF", buf[:n], err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}

	// The gfid a brick holds finds the same file through a handle.
	raw, err := xattr.LGet(filepath.Join(v.Bricks[0], "d/f"), "trusted.gfid")
	if err != nil {
		t.Fatal(err)
	}
	var g GFID
	copy(g[:], raw)
	o, st, err := fs.ByGFID(g)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 11 || o.GFID != g {
		t.Errorf("ByGFID(%s): size %d gfid %s", g, st.Size, o.GFID)
	}
	if got, err := o.Getxattr("user.colour"); err != nil || string(got) != "blue" {
		t.Errorf("user.colour through the handle: %q, %v", got, err)
	}
	if names, err := o.Listxattr(); err != nil || !contains(names, "user.colour") {
		t.Errorf("listxattr through the handle: %q, %v", names, err)
	}
	of, err := o.Open(os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]byte, 11)
	if _, err := of.ReadAt(all, 0); err != nil || string(all) != "hello world" {
		t.Errorf("read through the handle: %q, %v", all, err)
	}
	of.Close()
	o.Close()

	root, _, err := fs.Root()
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := root.Lookup("d")
	if err != nil {
		t.Fatal(err)
	}
	rawD, _ := xattr.LGet(filepath.Join(v.Bricks[0], "d"), "trusted.gfid")
	if !bytes.Equal(d.GFID[:], rawD) {
		t.Errorf("Lookup(d) has gfid %s, the brick says %x", d.GFID, rawD)
	}
	if _, _, err := d.Lookup("absent"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Lookup of an absent name: %v, want ENOENT", err)
	}

	// A link never replaces: the no-replace rename of package live rests
	// on it.
	v.WriteFile("d/taken", "another file\n")
	if err := fs.Link("/d/f", "/d/taken"); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("link over an existing name: %v, want EEXIST", err)
	}
	if got, err := os.ReadFile(v.Path("d/taken")); err != nil || string(got) != "another file\n" {
		t.Errorf("the existing name after a refused link: %q, %v", got, err)
	}
	// A value larger than the first buffer sized tries is read whole.
	long := strings.Repeat("x", 3000)
	if err := fs.Lsetxattr("/d/f", "user.long", []byte(long), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := fs.Lgetxattr("/d/f", "user.long"); err != nil || string(got) != long {
		t.Errorf("a 3000-byte xattr read back as %d bytes, %v", len(got), err)
	}

	// A rename through the graph is a client's rename: the mount sees it.
	if err := fs.Rename("/d/f", "/d/g"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(v.Path("d/g")); err != nil || string(got) != "hello world" {
		t.Errorf("after the rename the mount reads d/g: %q, %v", got, err)
	}
}

func TestErrorsNameTheCallAndKeepErrno(t *testing.T) {
	v, fs := startedVolume(t)
	_, err := fs.Lstat("/absent")
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lstat of an absent path: %v, want ENOENT", err)
	}
	if want := "glfs_lstat " + v.Name + ":/absent: no such file or directory"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := fs.Lstat("/d\x00/f"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("a path holding NUL: %v, want it refused before the call", err)
	}
	if err := fs.Unlink("/d"); !errors.Is(err, syscall.EISDIR) && !errors.Is(err, syscall.EPERM) {
		t.Errorf("unlink of a directory: %v, want EISDIR or EPERM", err)
	}
}

// Each goroutine's errno is its own: calls from many goroutines at once
// (each C call on whatever thread the goroutine runs on) never report
// another call's error, nor miss their own.
func TestConcurrentCallsKeepTheirOwnErrno(t *testing.T) {
	_, fs := startedVolume(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				path, wantErr := "/d/f", false
				if (i+w)%2 == 0 {
					path, wantErr = "/d/absent", true
				}
				_, err := fs.Lstat(path)
				if wantErr != (err != nil) || wantErr && !errors.Is(err, syscall.ENOENT) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call got the wrong outcome: %v", err)
	}
}

func TestInitOfAnUnknownVolumeFails(t *testing.T) {
	c := glustertest.Require(t)
	lib := requireLib(t)
	log := filepath.Join(t.TempDir(), "gfapi.log")
	fs, err := lib.Init(Config{Volume: "afrkit-no-such-volume", Servers: []Server{{Transport: Unix, Host: c.Socket}}, LogFile: log, LogLevel: LogInfo})
	if err == nil {
		fs.Close()
		t.Fatal("Init of a volume glusterd does not have succeeded")
	}
	if !strings.Contains(err.Error(), "glfs_init") || !strings.Contains(err.Error(), log) {
		t.Errorf("error %q should name glfs_init and GlusterFS's log", err)
	}
}

func TestCloseTearsTheGraphDown(t *testing.T) {
	_, fs := startedVolume(t)
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
