package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
)

// requireMount skips unless this process can mount FUSE file systems and
// write trusted.* xattrs.
func requireMount(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: trusted.* xattrs and mount(2)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("needs /dev/fuse: %v", err)
	}
}

// isMounted reports whether a file system is mounted at dir.
func isMounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	return err == nil && strings.Contains(string(b), " "+dir+" ")
}

// waitUnlocked waits for the volume's lock to be free: the background
// server has exited and let go of the bricks.
func waitUnlocked(t *testing.T, v *fixtures.Vol) {
	t.Helper()
	var err error
	for try := 0; try < 100; try++ {
		var release func()
		if release, err = v.V.LockUnmounted(); err == nil {
			release()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the mount's server still holds the volume after umount: %v", err)
}

// TestMountCommand: afrkit mount returns with the volume served in the
// background; what is written through it reaches every brick; heal runs
// while it is mounted, and so does fsck --repair, but a second mount is refused,
// with a message naming what holds the volume; afrkit umount ends it and
// its server lets go.
func TestMountCommand(t *testing.T) {
	requireMount(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	env := volEnv(dir)
	mnt := filepath.Join(dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	// The background server is this test binary again, running Main.
	t.Setenv(envRunMain, "1")
	tr := &transcript{t: t, env: env}
	tr.step(ExitOK, "mount", "fx", mnt)
	t.Cleanup(func() {
		if isMounted(mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	if !isMounted(mnt) {
		t.Fatal("afrkit mount returned before the volume was mounted")
	}
	got, err := os.ReadFile(filepath.Join(mnt, "hello.txt"))
	if err != nil || string(got) != "hello, world\n" {
		t.Errorf("hello.txt through the mount: %q, %v", got, err)
	}
	mustDo(t, os.WriteFile(filepath.Join(mnt, "new.txt"), []byte("written through the mount\n"), 0o644))
	for _, b := range v.Bricks {
		if got, err := os.ReadFile(filepath.Join(b.Root, "new.txt")); err != nil || !bytes.Equal(got, []byte("written through the mount\n")) {
			t.Errorf("%s/new.txt: %q, %v", b.Root, got, err)
		}
	}
	tr.step(ExitError, "mount", "fx", filepath.Join(dir, "b0"))
	mnt2 := filepath.Join(dir, "mnt2")
	mustDo(t, os.Mkdir(mnt2, 0o755))
	tr.step(ExitError, "mount", "fx", mnt2)
	// heal and fsck's repairs take AFR's locks and run on the mounted
	// volume (fsck_mounted_test.go has the repairs it refuses).
	tr.step(ExitOK, "heal", "fx")
	tr.step(ExitOK, "fsck", "fx", "--repair")
	tr.step(ExitOK, "umount", mnt)
	if isMounted(mnt) {
		t.Error("still mounted after afrkit umount")
	}
	waitUnlocked(t, v)
	tr.step(ExitOK, "heal", "fx", "info")
	tr.step(ExitError, "mount", "nosuch", mnt)
	tr.step(ExitUsage, "mount", "fx", mnt, "-o", "ro")
	assertGolden(t, scrub(tr.String(), dir))
}

// TestMountHelper: mount(8) mounts a volume of type fuse.afrkit (what an
// fstab line names) through the helper /sbin/mount.fuse.afrkit.
func TestMountHelper(t *testing.T) {
	requireMount(t)
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("needs mount(8)")
	}
	self, err := os.Executable()
	mustDo(t, err)
	helper := "/sbin/mount.fuse.afrkit"
	if _, err := os.Lstat(helper); err == nil {
		t.Skipf("%s exists already; not replacing it", helper)
	}
	mustDo(t, os.Symlink(self, helper))
	t.Cleanup(func() { os.Remove(helper) })

	dir := t.TempDir()
	_, err = fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	mnt := filepath.Join(dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	cmd := exec.Command("mount", "-t", "fuse.afrkit", "-o", "defaults,_netdev", "fx", mnt)
	cmd.Env = append(os.Environ(), envRunMain+"=1", "AFRKIT_STATE_DIR="+filepath.Join(dir, "state"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount -t fuse.afrkit: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if isMounted(mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	if got, err := os.ReadFile(filepath.Join(mnt, "hello.txt")); err != nil || string(got) != "hello, world\n" {
		t.Errorf("hello.txt through the helper's mount: %q, %v", got, err)
	}
	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Errorf("umount: %v: %s", err, out)
	}
}

// serverPID finds the background server of the mount at dir.
func serverPID(t *testing.T, dir string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if slices.Contains(args, "--foreground") && slices.Contains(args, dir) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no server process for %s", dir)
	return 0
}

// mountFx mounts the volume fx of env at dir/mnt with afrkit mount (its
// server a process of its own), unmounted lazily when the test ends if
// it still is.
func mountFx(t *testing.T, env testEnv, dir string) string {
	t.Helper()
	mnt := filepath.Join(dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	t.Setenv(envRunMain, "1")
	if code, _, errOut := run(t, env, "mount", "fx", mnt); code != ExitOK {
		t.Fatalf("mount: %s", errOut)
	}
	t.Cleanup(func() {
		if isMounted(mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// TestMountSurvivesKill9: the mount's server is killed with SIGKILL while
// files are written and fsync'd through it. Every file whose fsync
// returned reads back whole once mounted again; heal info lists what the
// killed transactions left; afrkit heal converges; the bricks agree.
func TestMountSurvivesKill9(t *testing.T) {
	requireMount(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 3)
	mustDo(t, err)
	env := volEnv(dir)
	mnt := mountFx(t, env, dir)
	pid := serverPID(t, mnt)

	synced := map[string][]byte{}
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("f%04d", k)
			data := bytes.Repeat([]byte(name), 2000+k)
			f, err := os.Create(filepath.Join(mnt, name))
			if err != nil {
				return
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return
			}
			mu.Lock()
			synced[name] = data
			mu.Unlock()
			// Written after the fsync: may be lost, never half-applied.
			f.Write([]byte("tail"))
			f.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	mustDo(t, syscall.Kill(pid, syscall.SIGKILL))
	close(stop)
	<-done
	if code, _, errOut := run(t, env, "umount", "-l", mnt); code != ExitOK {
		t.Fatalf("umount -l of the dead mount: %s", errOut)
	}
	waitUnlocked(t, v)
	mu.Lock()
	defer mu.Unlock()
	if len(synced) < 3 {
		t.Fatalf("only %d files were fsync'd before the kill: the test proves nothing", len(synced))
	}

	if code, _, errOut := run(t, env, "mount", "fx", mnt); code != ExitOK {
		t.Fatalf("mount again: %s", errOut)
	}
	for name, data := range synced {
		got, err := os.ReadFile(filepath.Join(mnt, name))
		if err != nil || !bytes.HasPrefix(got, data) {
			t.Errorf("%s, fsync'd before the kill: %d bytes, %v", name, len(got), err)
		}
	}
	if code, _, errOut := run(t, env, "umount", mnt); code != ExitOK {
		t.Fatalf("umount: %s", errOut)
	}
	waitUnlocked(t, v)
	code, out, errOut := run(t, env, "heal", "fx")
	if code != ExitOK {
		t.Fatalf("heal after the kill: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, env, "heal", "fx", "info")
	if code != ExitOK || strings.Count(out, "Number of entries: 0") != 3 {
		t.Errorf("heal info after heal:\n%s", out)
	}
	for name, data := range synced {
		for _, b := range v.Bricks {
			got, err := os.ReadFile(filepath.Join(b.Root, name))
			if err != nil || !bytes.HasPrefix(got, data) {
				t.Errorf("%s on %s after heal: %d bytes, %v", name, b.Root, len(got), err)
			}
		}
	}
}

// TestArbiterVolume: an afrkit volume made replica 3 arbiter 1 keeps
// every name and its metadata on the arbiter and no data; written
// through the mount while a data brick is down, it lists and heals what
// that brick missed, and the arbiter's copies stay empty throughout.
func TestArbiterVolume(t *testing.T) {
	requireMount(t)
	dir := t.TempDir()
	env := volEnv(dir)
	bricks := []string{filepath.Join(dir, "d1"), filepath.Join(dir, "d2"), filepath.Join(dir, "small")}
	tr := &transcript{t: t, env: env}
	tr.step(ExitOK, append([]string{"volume", "create", "av", "replica", "3", "arbiter", "1"}, bricks...)...)
	tr.step(ExitOK, "volume", "info", "av")
	mnt := filepath.Join(dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	t.Setenv(envRunMain, "1")
	tr.step(ExitOK, "mount", "av", mnt)
	t.Cleanup(func() {
		if isMounted(mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	mustDo(t, os.Mkdir(filepath.Join(mnt, "docs"), 0o755))
	want := map[string]string{"docs/a": "on both data bricks\n", "b": "also\n"}
	for p, data := range want {
		mustDo(t, os.WriteFile(filepath.Join(mnt, p), []byte(data), 0o640))
	}
	for p, data := range want {
		if got, err := os.ReadFile(filepath.Join(mnt, p)); err != nil || string(got) != data {
			t.Errorf("%s through the mount: %q, %v", p, got, err)
		}
	}
	var st syscall.Statfs_t
	mustDo(t, syscall.Statfs(mnt, &st))
	tr.step(ExitOK, "umount", mnt)
	waitFree(t, env, "av")
	for p, data := range want {
		for i, b := range bricks {
			got, err := os.ReadFile(filepath.Join(b, p))
			if i == 2 {
				data = ""
			}
			if err != nil || string(got) != data {
				t.Errorf("%s on %s: %q, %v; want %q", p, b, got, err, data)
			}
		}
		if fi, err := os.Stat(filepath.Join(bricks[2], p)); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s's mode on the arbiter: %v, %v", p, fi, err)
		}
	}
	tr.step(ExitOK, "fsck", "av")

	// The first data brick's disk is gone (an empty directory where it
	// was mounted): the volume is served by the other and the arbiter.
	mustDo(t, os.Rename(bricks[0], bricks[0]+".away"))
	mustDo(t, os.Mkdir(bricks[0], 0o755))
	tr.step(ExitOK, "mount", "av", mnt)
	want["docs/a"] = "rewritten with the first data brick gone\n"
	want["docs/new"] = "made with the first data brick gone\n"
	for _, p := range []string{"docs/a", "docs/new"} {
		mustDo(t, os.WriteFile(filepath.Join(mnt, p), []byte(want[p]), 0o640))
	}
	tr.step(ExitOK, "umount", mnt)
	waitFree(t, env, "av")
	if names, _ := os.ReadDir(bricks[0]); len(names) != 0 {
		t.Errorf("the mount wrote %d names into the empty directory where a brick was", len(names))
	}
	mustDo(t, os.Remove(bricks[0]))
	mustDo(t, os.Rename(bricks[0]+".away", bricks[0]))
	tr.step(ExitOK, "heal", "av", "info", "summary") // (info lists in each index's directory order)
	tr.step(ExitOK, "heal", "av")
	tr.step(ExitOK, "heal", "av", "info")
	for p, data := range want {
		for i, b := range bricks {
			if i == 2 {
				data = ""
			}
			if got, err := os.ReadFile(filepath.Join(b, p)); err != nil || string(got) != data {
				t.Errorf("%s on %s after the heal: %q, %v; want %q", p, b, got, err, data)
			}
		}
	}

	// Edited on the second data brick behind the volume's back: the
	// arbiter, which holds no data, cannot be the copy kept.
	mustDo(t, os.WriteFile(filepath.Join(bricks[1], "b"), []byte("ALSO\n"), 0o640))
	tr.step(ExitError, "heal", "av", "split-brain", "source-brick", "small", "/b")
	if got, err := os.ReadFile(filepath.Join(bricks[0], "b")); err != nil || string(got) != "also\n" {
		t.Errorf("the refused source-brick changed the first data brick's b: %q, %v", got, err)
	}
	tr.step(ExitOK, "heal", "av", "split-brain", "source-brick", "d2", "/b")
	for i, want := range []string{"ALSO\n", "ALSO\n", ""} {
		if got, err := os.ReadFile(filepath.Join(bricks[i], "b")); err != nil || string(got) != want {
			t.Errorf("b on %s after source-brick: %q, %v; want %q", bricks[i], got, err, want)
		}
	}
	assertGolden(t, scrub(tr.String(), dir))
}
