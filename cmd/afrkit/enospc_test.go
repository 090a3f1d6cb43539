package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// loopExt4 mounts a fresh ext4 filesystem of sizeMiB on a loop device (no
// reserved blocks: root fills it as anyone would) and returns its mount
// point.
func loopExt4(t *testing.T, sizeMiB int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loop mounts")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	mustDo(t, os.Mkdir(mnt, 0o755))
	f, err := os.Create(img)
	mustDo(t, err)
	mustDo(t, f.Truncate(int64(sizeMiB)<<20))
	mustDo(t, f.Close())
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("mount -o loop: %v: %s", err, out)
	}
	t.Cleanup(func() {
		// Lazily: the bricks' root descriptors that in-process runs cached
		// close when they are collected.
		if out, err := exec.Command("umount", "--lazy", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// fillTo writes a filler file outside the bricks until the filesystem at
// dir has about leaveMiB free.
func fillTo(t *testing.T, dir string, leaveMiB int64) string {
	t.Helper()
	var st syscall.Statfs_t
	mustDo(t, syscall.Statfs(dir, &st))
	free := int64(st.Bavail) * st.Bsize
	n := free - leaveMiB<<20
	if n <= 0 {
		t.Fatalf("only %d bytes free on %s", free, dir)
	}
	p := filepath.Join(dir, "filler")
	mustDo(t, os.WriteFile(p, bytes.Repeat([]byte{0xaa}, int(n)), 0o600))
	return p
}

// TestResolveOnFullDisk: a split-brain resolution keeps the copy it
// replaces. A 1 TiB sparse copy once filled the brick with a partial kept
// copy of 560 MiB that no history record mentioned, and a retry left
// another. Now the kept copy keeps its holes, and a copy that does not fit
// is refused before anything changes, however often it is retried, and
// goes through once there is room.
func TestResolveOnFullDisk(t *testing.T) {
	mnt := loopExt4(t, 96)
	v, err := fixtures.Healthy(mnt, "fx", 2)
	mustDo(t, err)
	env := volEnv(mnt)
	splitBrain := func(p string, b0, b1 []byte) {
		t.Helper()
		mustDo(t, v.WriteFile(p, []byte("first\n")))
		mustDo(t, v.Overwrite(p, b0, 1))
		mustDo(t, v.Overwrite(p, b1, 0))
	}

	// A sparse terabyte on each brick: b1's is one byte bigger.
	splitBrain("/sparse", []byte("b0's head\n"), []byte("b1's head\n"))
	mustDo(t, os.Truncate(filepath.Join(v.Bricks[0].Root, "sparse"), 1<<40))
	mustDo(t, os.Truncate(filepath.Join(v.Bricks[1].Root, "sparse"), 1<<40+1))
	code, out := hostileRun(t, env, "heal", "fx", "split-brain", "bigger-file", "/sparse")
	if code != ExitOK {
		t.Fatalf("bigger-file /sparse: exit %d\n%s", code, out)
	}
	kept, _ := filepath.Glob(filepath.Join(v.Bricks[0].KeptDir(), "*", "*-*"))
	var copies []string
	for _, k := range kept {
		if !strings.HasSuffix(k, ".json") {
			copies = append(copies, k)
		}
	}
	if len(copies) != 1 {
		t.Fatalf("kept copies on b0: %v\n%s", kept, out)
	}
	var st syscall.Stat_t
	mustDo(t, syscall.Stat(copies[0], &st))
	if st.Size != 1<<40 || st.Blocks*512 > 1<<20 {
		t.Errorf("kept copy %s: size %d, %d bytes allocated; want 1 TiB with its holes", copies[0], st.Size, st.Blocks*512)
	}
	if _, out := hostileRun(t, env, "heal", "fx", "history"); !strings.Contains(out, "/sparse") {
		t.Errorf("history does not record the resolution of /sparse:\n%s", out)
	}

	// Two 24 MiB copies, with 8 MiB left: keeping b0's does not fit.
	big := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	splitBrain("/big", big('0', 24<<20), big('1', 24<<20+1))
	filler := fillTo(t, mnt, 8)
	before := fixtures.Snapshot(t, mnt)
	for try := 0; try < 2; try++ {
		code, out := hostileRun(t, env, "heal", "fx", "split-brain", "bigger-file", "/big")
		if code == ExitOK || !strings.Contains(out, "space") {
			t.Fatalf("try %d: bigger-file /big with 8 MiB free: exit %d, want a refusal that names the space:\n%s", try, code, out)
		}
		if after := fixtures.Snapshot(t, mnt); after != before {
			t.Fatalf("try %d: the refused resolution changed the filesystem:\n%s\noutput:\n%s", try, fixtures.LineDiff(before, after), out)
		}
	}
	mustDo(t, os.Remove(filler))
	if code, out := hostileRun(t, env, "heal", "fx", "split-brain", "bigger-file", "/big"); code != ExitOK {
		t.Fatalf("bigger-file /big with room: exit %d\n%s", code, out)
	}
	for i, b := range v.Bricks {
		got, err := os.ReadFile(filepath.Join(b.Root, "big"))
		if err != nil || !bytes.Equal(got, big('1', 24<<20+1)) {
			t.Errorf("b%d's /big after the resolution: %d bytes, %v", i, len(got), err)
		}
	}
	if code, out := hostileRun(t, env, "heal", "fx", "info", "summary"); code != ExitOK || strings.Count(out, "Total Number of entries: 0") != 2 {
		t.Errorf("heal info summary after both resolutions (exit %d):\n%s", code, out)
	}
}

// TestResolveSecondKeepDoesNotFit: on replica 3 two sinks share one
// filesystem with room for one copy. Each fits alone, so the first is
// kept and the second fails: the first is removed again, no record is
// written, and nothing else changed.
func TestResolveSecondKeepDoesNotFit(t *testing.T) {
	mnt := loopExt4(t, 128)
	v, err := fixtures.Healthy(mnt, "r3", 3)
	mustDo(t, err)
	env := volEnv(mnt)
	big := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	mustDo(t, v.WriteFile("/big", []byte("first\n")))
	mustDo(t, v.Overwrite("/big", big('0', 20<<20+2), 1, 2))
	mustDo(t, v.Overwrite("/big", big('1', 20<<20), 0, 2))
	mustDo(t, v.Overwrite("/big", big('2', 20<<20+1), 0, 1))
	fillTo(t, mnt, 30)
	files := func() string {
		var b strings.Builder
		for _, br := range v.Bricks {
			got, err := os.ReadFile(filepath.Join(br.Root, "big"))
			fmt.Fprintf(&b, "%s: %d bytes %x %v\n", br.Root, len(got), got[:min(len(got), 4)], err)
		}
		return b.String()
	}
	before := files()
	code, out := hostileRun(t, env, "heal", "r3", "split-brain", "bigger-file", "/big")
	if code == ExitOK || !strings.Contains(out, "space") {
		t.Fatalf("bigger-file /big with room for one kept copy: exit %d, want a refusal that names the space:\n%s", code, out)
	}
	if after := files(); after != before {
		t.Errorf("the failed resolution changed the copies:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, b := range v.Bricks {
		kept, _ := filepath.Glob(filepath.Join(b.KeptDir(), "*"))
		if len(kept) != 0 {
			t.Errorf("%s keeps %v after the failed resolution", b.Root, kept)
		}
	}
	if _, out := hostileRun(t, env, "heal", "r3", "history"); strings.Contains(out, "/big") {
		t.Errorf("history records the failed resolution:\n%s", out)
	}
}
