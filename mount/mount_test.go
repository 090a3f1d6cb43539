package mount_test

import (
	"errors"
	"os"
	"os/exec"
	"sort"
	"testing"

	"github.com/hanwen/go-fuse/v2/posixtest"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/mount"
)

// requireFUSE skips unless this process can mount FUSE file systems and
// write trusted.* xattrs: as root, with /dev/fuse.
func requireFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "needs root: the bricks' trusted.* xattrs and mount(2)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		skip(t, "needs /dev/fuse: "+err.Error())
	}
}

// requireTool skips unless the program is installed.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skip(t, "needs "+name)
	}
	return p
}

// skip skips the test, or fails it where CI says every test must run
// (AFRKIT_REQUIRE_ROOT: .ci/run installs what these need).
func skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("AFRKIT_REQUIRE_ROOT") != "" {
		t.Fatalf("AFRKIT_REQUIRE_ROOT is set, but this test cannot run: %s", why)
	}
	t.Skip(why)
}

// mounted serves a healthy replica-3 volume at a new directory until the
// test ends.
func mounted(t testing.TB, opts mount.Options) (*fixtures.Vol, *mount.Volume, string) {
	t.Helper()
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "mnt", 3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mount.Open(v.V, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := m.Serve(dir, os.Getenv("AFRKIT_FUSE_DEBUG") != "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		m.Close()
	})
	return v, m, dir
}

// skipped are the tests go-fuse's own run of the suite skips (its
// posixtest_test.go), for the reasons it gives.
var skipped = map[string]string{
	"FcntlFlockLocksFile": "go-fuse skips it in its own run: \"TODO - fix this test\"",
}

// TestPosixConformance runs go-fuse's POSIX conformance suite on the mount.
func TestPosixConformance(t *testing.T) {
	_, _, dir := mounted(t, mount.Options{})
	var names []string
	for name := range posixtest.All {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if reason, skip := skipped[name]; skip {
				t.Skip(reason)
			}
			sub := dir + "/" + name
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			posixtest.All[name](t, sub)
		})
	}
}

// TestMountHoldsTheVolume: while the volume is mounted, a second mount
// and the writers that take none of AFR's locks (fsck --repair, undo) are
// refused; heal, which takes them, is not. Once it is unmounted, all are
// allowed.
func TestMountHoldsTheVolume(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "held", 2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mount.Open(v.V, mount.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := m.Serve(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	if release, err := v.V.LockUnmounted(); !errors.Is(err, volume.ErrInUse) {
		if err == nil {
			release()
		}
		t.Errorf("the lock of writers without AFR's locks while mounted: %v, want ErrInUse", err)
	}
	if release, err := v.V.Lock(); err != nil {
		t.Errorf("the heal lock while mounted: %v", err)
	} else {
		release()
	}
	if _, err := mount.Open(v.V, mount.Options{}); !errors.Is(err, volume.ErrInUse) {
		t.Errorf("a second mount: %v, want ErrInUse", err)
	}
	if err := srv.Unmount(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	release, err := v.V.LockUnmounted()
	if err != nil {
		t.Fatalf("the volume's locks after unmount: %v", err)
	}
	release()
}
