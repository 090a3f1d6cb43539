package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/fixtures/glustertest"
	"github.com/afrkit/afrkit/fixtures/loopdisk"
)

// TestMountAgreesWithGlusterFS writes a stopped GlusterFS replica-3
// volume through afrkit mount while its third brick's disk fails part-way
// (ext4 gone read-only), then starts GlusterFS: its heal info lists what
// afrkit's does, its self-heal daemon heals the third brick from the
// others, and every file reads through GlusterFS's own mount with the
// content written through afrkit's.
func TestMountAgreesWithGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	requireMount(t)
	root := t.TempDir()
	bricks := []string{filepath.Join(root, "b1"), filepath.Join(root, "b2"), filepath.Join(root, "b3")}
	disk := loopdisk.New(t, bricks[2], 64, "errors=remount-ro")
	v := c.CreateOn(bricks, 3)
	v.Start()
	v.MountFUSE()
	v.WriteFile("seed", "written through GlusterFS\n")
	v.Stop()
	// What GlusterFS wrote is on the disks before afrkit's part begins.
	mustDo(t, exec.Command("sync").Run())

	env, mnt := mountStopped(t, v)

	want := map[string][]byte{}
	write := func(p string, data []byte) {
		t.Helper()
		mustDo(t, os.WriteFile(filepath.Join(mnt, p), data, 0o644))
		want[p] = data
	}
	big := make([]byte, 3<<20)
	_, _ = rand.Read(big)
	mustDo(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	write("d/a", []byte("made with every brick up\n"))
	write("big", big)
	mustDo(t, os.Symlink("big", filepath.Join(mnt, "big.link")))
	mustDo(t, os.Link(filepath.Join(mnt, "d/a"), filepath.Join(mnt, "d/a.link")))
	want["d/a.link"] = want["d/a"]
	mustDo(t, os.Rename(filepath.Join(mnt, "seed"), filepath.Join(mnt, "d/seed")))
	want["d/seed"] = []byte("written through GlusterFS\n")
	mustDo(t, xattr.Set(filepath.Join(mnt, "d/a"), "user.note", []byte("set through afrkit")))

	// An fsync through the mount reaches every brick: on ext4 it commits
	// the journal, so everything written so far is on the third brick's
	// disk when it fails (what was not fsync'd, a dying disk may lose).
	f, err := os.Create(filepath.Join(mnt, "checkpoint"))
	mustDo(t, err)
	mustDo(t, f.Sync())
	mustDo(t, f.Close())
	want["checkpoint"] = nil

	disk.Fail()
	// Written while the third brick's disk is read-only: b1 and b2 blame
	// it for each of these.
	write("big", append(big[:1<<20:1<<20], []byte("cut and appended after the disk failed\n")...))
	write("d/new", []byte("made after the disk failed\n"))
	mustDo(t, os.MkdirAll(filepath.Join(mnt, "later/deep"), 0o755))
	write("later/deep/f", []byte("deep, after the disk failed\n"))
	mustDo(t, os.Chmod(filepath.Join(mnt, "d/a"), 0o600))
	mustDo(t, os.Remove(filepath.Join(mnt, "d/a.link")))
	delete(want, "d/a.link")
	for p, data := range want {
		if got, err := os.ReadFile(filepath.Join(mnt, p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through afrkit's mount: %d bytes, %v", p, len(got), err)
		}
	}
	if code, _, errOut := run(t, env, "umount", mnt); code != ExitOK {
		t.Fatalf("afrkit umount: %s", errOut)
	}

	// The operator checks the disk and mounts it back.
	waitFree(t, env, v.Name)
	disk.Umount()
	disk.Check()
	disk.Mount()

	v.Start()
	theirs, err := v.HealInfo("--xml")
	mustDo(t, err)
	code, ours, errOut := run(t, env, "heal", v.Name, "info", "--xml")
	if code != ExitOK {
		t.Fatalf("afrkit heal info: exit %d: %s", code, errOut)
	}
	got, _ := json.MarshalIndent(parseReport(t, []byte(ours)), "", " ")
	exp, _ := json.MarshalIndent(parseReport(t, []byte(theirs)), "", " ")
	if string(got) != string(exp) {
		t.Errorf("heal info after afrkit's mount differs\n--- afrkit ---\n%s\n--- GlusterFS ---\n%s", got, exp)
	}
	for _, p := range []string{"/d/new", "/later", "/big", "/d/a"} {
		if strings.Count(ours, ">"+p+"</file>") != 2 {
			t.Errorf("heal info does not list %s on the two bricks that blame the third:\n%s", p, ours)
		}
	}

	for _, kv := range [][2]string{
		{"cluster.data-self-heal", "on"}, {"cluster.metadata-self-heal", "on"}, {"cluster.entry-self-heal", "on"},
		{"cluster.self-heal-daemon", "on"},
	} {
		if _, err := c.Gluster("volume", "set", v.Name, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Gluster("volume", "heal", v.Name); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := v.HealInfo()
		mustDo(t, err)
		if strings.Count(info, "Number of entries: 0") == 3 {
			break
		}
		if time.Now().After(deadline) {
			for _, line := range strings.Split(info, "\n") {
				g, ok := strings.CutPrefix(strings.TrimSpace(line), "<gfid:")
				if !ok {
					continue
				}
				g = strings.TrimSuffix(g, ">")
				h := filepath.Join(bricks[0], ".glusterfs", g[0:2], g[2:4], g)
				out, _ := exec.Command("sh", "-c", "find "+bricks[0]+" -samefile "+h+" -not -path '*/.glusterfs/*'; getfattr -d -m . -e hex "+h).CombinedOutput()
				t.Logf("%s:\n%s", g, out)
			}
			out, _ := exec.Command("sh", "-c", "cd "+root+" && for b in b1 b2 b3; do getfattr -d -m . -e hex $b/d; ls -la $b/d; ls -R $b/.glusterfs/indices; done").CombinedOutput()
			t.Logf("%s", out)
			t.Fatalf("GlusterFS's self-heal daemon did not finish:\n%s", info)
		}
		time.Sleep(time.Second)
	}
	for p, data := range want {
		if got, err := os.ReadFile(filepath.Join(bricks[2], p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s on the healed third brick: %d bytes, %v", p, len(got), err)
		}
	}
	v.MountFUSE()
	for p, data := range want {
		if got, err := os.ReadFile(v.Path(p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through GlusterFS's mount: %d bytes, %v", p, len(got), err)
		}
	}
	if target, err := os.Readlink(v.Path("big.link")); err != nil || target != "big" {
		t.Errorf("big.link through GlusterFS's mount: %q, %v", target, err)
	}
	if note, err := xattr.Get(v.Path("d/a"), "user.note"); err != nil || string(note) != "set through afrkit" {
		t.Errorf("d/a's user.note through GlusterFS's mount: %q, %v", note, err)
	}
	if st, err := os.Stat(v.Path("d/a")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("d/a's mode through GlusterFS's mount: %v, %v", st, err)
	}
	gfidsAgree(t, v, "d", "d/a", "d/new", "d/seed", "big", "big.link", "later", "later/deep", "later/deep/f")
}

// mountStopped mounts the stopped GlusterFS volume v with afrkit mount on
// a new directory, unmounted when the test ends, and returns the
// environment afrkit runs in and the mount point.
func mountStopped(t *testing.T, v *glustertest.Volume) (testEnv, string) {
	t.Helper()
	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	t.Setenv(envRunMain, "1")
	mnt := filepath.Join(env.dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	if code, out, errOut := run(t, env, "mount", v.Name, mnt); code != ExitOK {
		t.Fatalf("afrkit mount of the stopped GlusterFS volume %s: exit %d\n%s%s", v.Name, code, out, errOut)
	}
	t.Cleanup(func() {
		if loopdisk.Mounted(mnt) {
			run(t, env, "umount", "-l", mnt)
		}
	})
	return env, mnt
}

// waitFree waits until afrkit's background mount server of vol has let
// go of the volume: afrkit heal's lock can be taken.
func waitFree(t *testing.T, env testEnv, vol string) {
	t.Helper()
	for try := 0; try < 100; try++ {
		code, _, errOut := run(t, env, "heal", vol, "info")
		if code == ExitOK && !strings.Contains(errOut, "in use") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMountWritesAnArbiterVolumeAsGlusterFS writes a stopped GlusterFS
// replica 3 arbiter 1 volume through afrkit mount: the arbiter gets names
// and metadata but no data, a data brick's disk fails part-way, and with
// the other data brick gone too a write that would leave the arbiter the
// only good copy fails (ENOTCONN, tests/basic/afr/arbiter.t). GlusterFS,
// started, lists what afrkit does, heals it, and reads what was written.
func TestMountWritesAnArbiterVolumeAsGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	requireMount(t)
	root := t.TempDir()
	bricks := []string{filepath.Join(root, "b1"), filepath.Join(root, "b2"), filepath.Join(root, "b3")}
	first := loopdisk.New(t, bricks[0], 64, "errors=remount-ro")
	second := loopdisk.New(t, bricks[1], 64, "errors=remount-ro")
	v := c.CreateArbiterOn(bricks, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.WriteFile("seed", "written through GlusterFS\n")
	v.Stop()
	mustDo(t, exec.Command("sync").Run())

	env, mnt := mountStopped(t, v)
	want := map[string][]byte{"seed": []byte("written through GlusterFS\n")}
	// Each file fsync'd: both data disks fail below, and a failing disk
	// keeps only what was.
	write := func(p string, data []byte) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(mnt, p), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		mustDo(t, err)
		_, err = f.Write(data)
		mustDo(t, err)
		mustDo(t, f.Sync())
		mustDo(t, f.Close())
		want[p] = data
	}
	big := make([]byte, 2<<20)
	_, _ = rand.Read(big)
	mustDo(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	write("d/a", []byte("made with every brick up\n"))
	write("big", big)
	mustDo(t, os.Truncate(filepath.Join(mnt, "big"), 1<<20))
	want["big"] = big[:1<<20]
	f, err := os.OpenFile(filepath.Join(mnt, "big"), os.O_RDWR, 0)
	mustDo(t, err)
	mustDo(t, f.Sync())
	mustDo(t, f.Close())
	mustDo(t, xattr.Set(filepath.Join(mnt, "d/a"), "user.note", []byte("on the arbiter too")))
	// The first data brick's disk fails: the second and the arbiter
	// blame it for what follows.
	first.Fail()
	write("d/a", []byte("rewritten after the first disk failed\n"))
	write("d/new", []byte("made after the first disk failed\n"))
	for p, data := range want {
		if got, err := os.ReadFile(filepath.Join(mnt, p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through afrkit's mount: %d bytes, %v", p, len(got), err)
		}
	}
	// The second fails too: for d/a the arbiter would be the only good
	// copy, so a write is refused, and nothing reads it.
	second.Fail()
	err = os.WriteFile(filepath.Join(mnt, "d/a"), []byte("refused\n"), 0o644)
	if !errors.Is(err, syscall.ENOTCONN) && !errors.Is(err, syscall.EIO) {
		t.Errorf("a write with the arbiter the only good copy: %v, want ENOTCONN", err)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "d/a")); err == nil {
		t.Errorf("d/a read %q from the arbiter alone", got)
	}
	if code, _, errOut := run(t, env, "umount", mnt); code != ExitOK {
		t.Fatalf("afrkit umount: %s", errOut)
	}
	// The arbiter holds every name, with no data.
	for p := range want {
		if fi, err := os.Stat(filepath.Join(bricks[2], p)); err != nil || fi.Size() != 0 {
			t.Errorf("%s on the arbiter: %v, %v; want an empty file", p, fi, err)
		}
	}
	if note, err := xattr.Get(filepath.Join(bricks[2], "d/a"), "user.note"); err != nil || string(note) != "on the arbiter too" {
		t.Errorf("d/a's user.note on the arbiter: %q, %v", note, err)
	}

	waitFree(t, env, v.Name)
	for _, d := range []*loopdisk.Disk{first, second} {
		d.Umount()
		d.Check()
		d.Mount()
	}
	v.Start()
	theirs, err := v.HealInfo("--xml")
	mustDo(t, err)
	code, ours, errOut := run(t, env, "heal", v.Name, "info", "--xml")
	if code != ExitOK {
		t.Fatalf("afrkit heal info: exit %d: %s", code, errOut)
	}
	got, _ := json.MarshalIndent(parseReport(t, []byte(ours)), "", " ")
	exp, _ := json.MarshalIndent(parseReport(t, []byte(theirs)), "", " ")
	if string(got) != string(exp) {
		t.Errorf("heal info after afrkit's mount differs\n--- afrkit ---\n%s\n--- GlusterFS ---\n%s", got, exp)
	}
	for _, kv := range [][2]string{{"cluster.self-heal-daemon", "on"}} {
		if _, err := c.Gluster("volume", "set", v.Name, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Gluster("volume", "heal", v.Name); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := v.HealInfo()
		mustDo(t, err)
		if strings.Count(info, "Number of entries: 0") == 3 {
			break
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command("sh", "-c", "cd "+root+" && ls -la b3/.glusterfs/indices/*; for b in b1 b2 b3; do getfattr -R -d -m . -e hex $b --absolute-names 2>/dev/null | grep -v gfid2path; done").CombinedOutput()
			t.Fatalf("GlusterFS's self-heal daemon did not finish:\n%s\n%s", info, out)
		}
		time.Sleep(time.Second)
	}
	v.MountFUSE()
	for p, data := range want {
		if got, err := os.ReadFile(v.Path(p)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through GlusterFS's mount: %d bytes, %v", p, len(got), err)
		}
		if fi, err := os.Stat(filepath.Join(bricks[2], p)); err != nil || fi.Size() != 0 {
			t.Errorf("%s on the arbiter after GlusterFS's heal: %v, %v", p, fi, err)
		}
	}
	if t.Failed() {
		out, _ := exec.Command("sh", "-c", "cd "+root+" && ls -lR b1 b2 b3 | grep -v glusterfs; for b in b1 b2 b3; do getfattr -d -m . -e hex $b/d/a $b/big --absolute-names; done").CombinedOutput()
		t.Logf("%s", out)
	}
	gfidsAgree(t, v, "d", "d/a", "d/new", "big", "seed")
}
