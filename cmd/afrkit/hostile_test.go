package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/xattr"
	"github.com/zeebo/blake3"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
)

// Brick content is written by clients, and afrkit runs as root. These tests
// plant what a hostile client (or, for .glusterfs, a hostile brick writer)
// can plant, around a victim tree outside the bricks, run every command
// over it, and check that the victim is byte-, mode-, time- and
// xattr-identical afterwards and that every command finished in time.

// commandTimeout bounds one command: a FIFO opened for content blocks
// forever, and a test that hangs says less than one that fails.
const commandTimeout = 60 * time.Second

// victim is a tree outside every brick that a symlink on a brick points
// at: a root-owned executable, a directory of files, a file with an xattr.
type victim struct {
	dir, bin, sub, file string
}

func newVictim(t *testing.T) victim {
	t.Helper()
	dir := t.TempDir()
	v := victim{dir: dir, bin: filepath.Join(dir, "bin"), sub: filepath.Join(dir, "sub"), file: filepath.Join(dir, "sub", "secret")}
	mustDo(t, os.WriteFile(v.bin, []byte("#!/bin/sh\necho a system binary\n"), 0o755))
	mustDo(t, os.Mkdir(v.sub, 0o700))
	mustDo(t, os.WriteFile(v.file, []byte("nobody may read this\n"), 0o600))
	if err := xattr.LSet(v.file, "user.victim", []byte("untouched")); err != nil {
		t.Logf("no user xattrs here: %v", err)
	}
	return v
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hostileRun runs one command with a deadline and returns its output.
func hostileRun(t *testing.T, env testEnv, args ...string) (ExitCode, string) {
	t.Helper()
	type result struct {
		code     ExitCode
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := run(t, env, args...)
		done <- result{code, out, errOut}
	}()
	select {
	case r := <-done:
		return r.code, r.out + r.err
	case <-time.After(commandTimeout):
		t.Fatalf("afrkit %s did not finish in %v", strings.Join(args, " "), commandTimeout)
		return 0, ""
	}
}

// everyCommand is each command a user may run on a volume, read-only ones
// and writing ones, with the files named that the damage is about.
func everyCommand(vol string, files ...string) [][]string {
	cmds := [][]string{
		{"heal", vol, "info"},
		{"heal", vol, "info", "--json"},
		{"heal", vol, "info", "--xml"},
		{"fsck", vol},
		{"fsck", vol, "--deep"},
		{"heal", vol, "--dry-run"},
		{"heal", vol},
		{"heal", vol, "full"},
		{"fsck", vol, "--repair", "--rename-stale"},
	}
	for _, f := range files {
		cmds = append(cmds,
			[]string{"heal", vol, "explain", f},
			[]string{"heal", vol, "split-brain", "bigger-file", f},
			[]string{"heal", vol, "split-brain", "latest-mtime", f},
			[]string{"heal", vol, "split-brain", "majority", f},
		)
	}
	return append(cmds, []string{"heal", vol, "split-brain", "majority"})
}

// hostileVolume builds a healthy volume fx under a fresh directory.
func hostileVolume(t *testing.T) (*fixtures.Vol, testEnv) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attacks are on trusted.* bricks")
	}
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	return v, volEnv(dir)
}

// runAll runs cmds, then undoes every resolution they recorded (newest
// first), and checks the victim after each.
func runAll(t *testing.T, env testEnv, vic victim, cmds [][]string) string {
	t.Helper()
	before := fixtures.Snapshot(t, vic.dir)
	var all strings.Builder
	one := func(c []string) {
		t.Helper()
		_, out := hostileRun(t, env, c...)
		all.WriteString(out)
		if after := fixtures.Snapshot(t, vic.dir); after != before {
			t.Fatalf("afrkit %s changed the victim outside the bricks:\nbefore:\n%s\nafter:\n%s\noutput:\n%s", strings.Join(c, " "), before, after, out)
		}
	}
	for _, c := range cmds {
		one(c)
	}
	if len(cmds) == 0 || cmds[0][0] != "heal" {
		return all.String()
	}
	vol := cmds[0][1]
	_, hist := hostileRun(t, env, "heal", vol, "history")
	var ids []string
	for _, line := range strings.Split(hist, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "No resolutions") {
			ids = append(ids, f[0])
		}
	}
	t.Logf("undoing %d resolutions", len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		one([]string{"heal", vol, "undo", ids[i]})
	}
	return all.String()
}

// replaceWithSymlink removes p (a file or a tree) on brick b and puts a
// symlink to target in its place, as a client writing to the brick can.
func replaceWithSymlink(t *testing.T, b *brick.Brick, p, target string) {
	t.Helper()
	abs := filepath.Join(b.Root, p)
	mustDo(t, os.RemoveAll(abs))
	mustDo(t, os.Symlink(target, abs))
}

// TestHostileDirectoryBecomesSymlink: while /d waits for an entry and a
// metadata heal (made while b1 was down), b1's /d is replaced by a symlink
// to a directory outside the bricks, or to a binary. Heal once chmodded the
// binary setuid through it and moved the directory's files into the kept
// store; now no command touches the victim.
func TestHostileDirectoryBecomesSymlink(t *testing.T) {
	for _, target := range []string{"sub", "bin"} {
		for _, sink := range []int{1, 0} {
			t.Run(target+"-on-b"+string(rune('0'+sink)), func(t *testing.T) {
				v, env := hostileVolume(t)
				vic := newVictim(t)
				mustDo(t, v.Mkdir("/d"))
				mustDo(t, v.WriteFile("/d/old", []byte("old\n")))
				mustDo(t, v.WriteFile("/d/new", []byte("made while a brick was down\n"), sink))
				mustDo(t, v.Chmod("/d", 0o4777, sink))
				replaceWithSymlink(t, v.Bricks[sink], "d", filepath.Join(vic.dir, target))
				runAll(t, env, vic, everyCommand("fx", "/d", "/d/new", "/d/old"))
			})
		}
	}
}

// TestHostileParentSymlinkOnEveryBrick: the parent of a pending file is a
// symlink on every brick, so no brick has the path; nothing is followed.
func TestHostileParentSymlinkOnEveryBrick(t *testing.T) {
	v, env := hostileVolume(t)
	vic := newVictim(t)
	mustDo(t, v.Mkdir("/p"))
	mustDo(t, v.WriteFile("/p/f", []byte("data\n")))
	mustDo(t, v.Overwrite("/p/f", []byte("newer data\n"), 1))
	for _, b := range v.Bricks {
		replaceWithSymlink(t, b, "p", vic.sub)
	}
	runAll(t, env, vic, everyCommand("fx", "/p/f", "/p"))
}

// TestHostileRestoreThroughSymlinkedParent: after fsck --repair quarantined
// a stale temp file in /sub, /sub on every brick became a symlink to a
// directory outside; restore must refuse (exit non-zero) and put nothing
// there.
func TestHostileRestoreThroughSymlinkedParent(t *testing.T) {
	v, env := hostileVolume(t)
	vic := newVictim(t)
	mustDo(t, v.Mkdir("/sub"))
	mustDo(t, v.WriteFile("/sub/player.json", []byte("{}\n")))
	mustDo(t, v.WriteFile("/sub/.player.json.AbvgGY", []byte("{}\n")))
	code, out := hostileRun(t, env, "fsck", "fx", "--repair", "--rename-stale")
	q, _ := filepath.Glob(filepath.Join(v.Bricks[0].Root, ".glusterfs", "afrkit", "kept", "*"))
	if len(q) != 1 {
		t.Fatalf("fsck --repair (exit %d) made quarantines %v:\n%s", code, q, out)
	}
	for _, b := range v.Bricks {
		replaceWithSymlink(t, b, "sub", vic.sub)
	}
	before := fixtures.Snapshot(t, vic.dir)
	code, out = hostileRun(t, env, "fsck", "fx", "--restore", filepath.Base(q[0]))
	if code == ExitOK {
		t.Errorf("restore through a symlinked parent exited 0:\n%s", out)
	}
	if after := fixtures.Snapshot(t, vic.dir); after != before {
		t.Fatalf("restore wrote outside the brick:\n%s\n%s", after, out)
	}
}

// TestHostileStaleTempFinalName: at a stale temp file's final name, a
// client put a FIFO, a device, or a symlink to a file outside. fsck once
// blocked on the FIFO, read the device, and printed the outside file's
// hash.
func TestHostileStaleTempFinalName(t *testing.T) {
	plant := map[string]func(t *testing.T, abs string, vic victim){
		"fifo":           func(t *testing.T, abs string, _ victim) { mustDo(t, syscall.Mkfifo(abs, 0o644)) },
		"char-device":    func(t *testing.T, abs string, _ victim) { mustDo(t, syscall.Mknod(abs, syscall.S_IFCHR|0o644, 1<<8|5)) }, // /dev/zero's numbers
		"symlink-device": func(t *testing.T, abs string, _ victim) { mustDo(t, os.Symlink("/dev/zero", abs)) },
		"symlink-file":   func(t *testing.T, abs string, vic victim) { mustDo(t, os.Symlink(vic.file, abs)) },
	}
	for name, fn := range plant {
		t.Run(name, func(t *testing.T) {
			v, env := hostileVolume(t)
			vic := newVictim(t)
			mustDo(t, v.WriteFile("/.player.json.AbvgGY", []byte("{\"level\":2}\n")))
			for _, b := range v.Bricks {
				fn(t, filepath.Join(b.Root, "player.json"), vic)
			}
			cmds := [][]string{
				{"fsck", "fx"}, {"fsck", "fx", "--deep"}, {"fsck", "--brick", v.Bricks[0].Root},
				{"fsck", "fx", "--repair", "--rename-stale", "--dry-run"}, {"fsck", "fx", "--repair", "--rename-stale"},
				{"heal", "fx", "info"}, {"heal", "fx", "full"},
			}
			out := runAll(t, env, vic, cmds)
			if strings.Contains(out, "nobody may read this") {
				t.Errorf("a command printed the outside file's content:\n%s", out)
			}
			sum := blake3Hex([]byte("nobody may read this\n"))
			if strings.Contains(out, sum) || strings.Contains(out, sum[:12]) {
				t.Errorf("a command printed the outside file's blake3:\n%s", out)
			}
		})
	}
}

// TestHostileGlusterfsPlants: with write access to the brick itself, an
// attacker replaces afrkit's own directory, a file's handle, or the index
// by a symlink out of the brick, or a handle by a FIFO.
func TestHostileGlusterfsPlants(t *testing.T) {
	type plantFn func(t *testing.T, v *fixtures.Vol, vic victim)
	handleOf := func(t *testing.T, v *fixtures.Vol, i int, p string) string {
		g, err := v.Bricks[i].GFIDOf(p)
		mustDo(t, err)
		return v.Bricks[i].HandlePath(g)
	}
	plants := map[string]plantFn{
		"afrkit-dir-symlink": func(t *testing.T, v *fixtures.Vol, vic victim) {
			for _, b := range v.Bricks {
				d := b.GlusterPath(brick.AfrkitDir)
				mustDo(t, os.RemoveAll(d))
				mustDo(t, os.Symlink(vic.sub, d))
			}
		},
		"file-handle-symlink": func(t *testing.T, v *fixtures.Vol, vic victim) {
			h := handleOf(t, v, 1, "/f")
			mustDo(t, os.Remove(h))
			mustDo(t, os.Symlink(vic.file, h))
		},
		"file-handle-fifo": func(t *testing.T, v *fixtures.Vol, vic victim) {
			h := handleOf(t, v, 1, "/f")
			mustDo(t, os.Remove(h))
			mustDo(t, syscall.Mkfifo(h, 0o644))
		},
		"source-handle-fifo": func(t *testing.T, v *fixtures.Vol, vic victim) {
			h := handleOf(t, v, 0, "/f")
			mustDo(t, os.Remove(h))
			mustDo(t, syscall.Mkfifo(h, 0o644))
		},
		"index-symlink": func(t *testing.T, v *fixtures.Vol, vic victim) {
			for _, b := range v.Bricks {
				d := b.GlusterPath("indices", "dirty")
				mustDo(t, os.RemoveAll(d))
				mustDo(t, os.Symlink(vic.sub, d))
			}
		},
	}
	for name, fn := range plants {
		t.Run(name, func(t *testing.T) {
			v, env := hostileVolume(t)
			vic := newVictim(t)
			mustDo(t, v.WriteFile("/f", []byte("one\n")))
			mustDo(t, v.Overwrite("/f", []byte("two, while b1 was down\n"), 1))
			mustDo(t, v.WriteFile("/a", []byte("a\n")))
			mustDo(t, v.Overwrite("/a", []byte("b0's\n"), 1))
			mustDo(t, v.Overwrite("/a", []byte("b1's version\n"), 0))
			fn(t, v, vic)
			cmds := append(everyCommand("fx", "/f", "/a"), []string{"heal", "fx", "split-brain", "source-brick", v.Bricks[0].Root, "/a"},
				[]string{"fsck", "fx", "--repair"})
			runAll(t, env, vic, cmds)
		})
	}
}

// TestHostileSymlinkLooksLikeDirHandle: a client's symlink whose target has
// the shape of a directory handle is a symlink like any other: healed,
// listed, and left alone by fsck once healed.
func TestHostileSymlinkLooksLikeDirHandle(t *testing.T) {
	v, env := hostileVolume(t)
	target := "../../00/00/" + brick.RootGFID.String() + "/."
	mustDo(t, v.Symlink(target, "/s", 1))
	code, out := hostileRun(t, env, "heal", "fx", "info")
	if !strings.Contains(out, "/s") && !strings.Contains(out, "/ ") {
		t.Errorf("heal info (exit %d) does not list the pending entry heal:\n%s", code, out)
	}
	if code, out := hostileRun(t, env, "heal", "fx"); code != ExitOK {
		t.Fatalf("heal exit %d:\n%s", code, out)
	}
	got, err := os.Readlink(filepath.Join(v.Bricks[1].Root, "s"))
	if err != nil || got != target {
		t.Fatalf("b1's /s -> %q, %v; want %q", got, err, target)
	}
	if code, out := hostileRun(t, env, "heal", "fx", "info", "summary"); code != ExitOK || !strings.Contains(out, "Total Number of entries: 0") {
		t.Errorf("after heal, heal info summary (exit %d):\n%s", code, out)
	}
	for pass := 0; pass < 2; pass++ {
		if code, out := hostileRun(t, env, "fsck", "fx", "--repair"); code != ExitFsckClean {
			t.Errorf("fsck --repair pass %d on a healed volume: exit %d\n%s", pass, code, out)
		}
	}
}

// TestHostileNamesInHealInfo: a name with a newline cannot print lines of
// its own into heal info's text, and keeps the XML well-formed.
func TestHostileNamesInHealInfo(t *testing.T) {
	v, env := hostileVolume(t)
	evil := "/x\nBrick forged:b\nNumber of entries: 999\n\x1b[2J"
	mustDo(t, v.WriteFile(evil, []byte("data\n")))
	mustDo(t, v.Overwrite(evil, []byte("more data\n"), 1))
	_, out := hostileRun(t, env, "heal", "fx", "info")
	for _, args := range [][]string{{"heal", "fx", "info"}, {"heal", "fx", "--dry-run"}, {"heal", "fx", "explain", evil}, {"fsck", "fx", "--deep"}} {
		_, text := hostileRun(t, env, args...)
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "Brick forged") || strings.HasPrefix(line, "Number of entries: 999") || strings.Contains(line, "\x1b") {
				t.Errorf("afrkit %s: a name printed a line of its own: %q\n%s", strings.Join(args, " "), line, text)
			}
		}
	}
	if !strings.Contains(out, `/x\nBrick forged:b\nNumber of entries: 999\n\033[2J`) {
		t.Errorf("heal info does not show the name escaped:\n%s", out)
	}
	_, xmlOut := hostileRun(t, env, "heal", "fx", "info", "--xml")
	xmlPaths(t, xmlOut) // fails the test on malformed XML
}

func blake3Hex(b []byte) string {
	sum := blake3.Sum256(b)
	return fmt.Sprintf("%x", sum[:])
}

// tmpfsDir mounts a fresh tmpfs for a test. tmpfs keeps any number of
// trusted xattrs on an inode, so, as on XFS, a file's list of them can
// outgrow what llistxattr returns (64 KiB: E2BIG).
func tmpfsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("afrkit-test", dir, "tmpfs", 0, "size=256m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestHostileManyHardLinks: a file with thousands of names, each with its
// gfid2path, has more xattr names than llistxattr returns (E2BIG). Heal
// full once created none of the names and printed a 450 KB error line, and
// fsck failed for the whole volume. Now the keys afrkit needs are read by
// name: the names and the data heal, fsck reports the file once per brick,
// and only a metadata heal, which must see every xattr, is refused, in a
// line of its own size, as GlusterFS's fails.
func TestHostileManyHardLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: tmpfs and trusted.* xattrs")
	}
	dir := tmpfsDir(t)
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	env := volEnv(dir)
	mustDo(t, v.Mkdir("/d"))
	mustDo(t, v.WriteFile("/d/f", []byte("one inode, many names\n")))
	const links = 2000
	for i := 0; i < links; i++ {
		mustDo(t, v.Link("/d/f", fmt.Sprintf("/d/link-%04d", i), 1))
	}
	short := func(args []string, out string) {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			if len(line) > 1000 {
				t.Errorf("afrkit %s printed a line of %d bytes:\n%.500s...", strings.Join(args, " "), len(line), line)
			}
		}
	}
	runOK := func(args ...string) string {
		t.Helper()
		code, out := hostileRun(t, env, args...)
		short(args, out)
		if code != ExitOK {
			t.Fatalf("afrkit %s: exit %d\n%.3000s", strings.Join(args, " "), code, out)
		}
		return out
	}

	runOK("heal", "fx", "full")
	f1, err := os.Stat(filepath.Join(v.Bricks[1].Root, "d", "f"))
	mustDo(t, err)
	for i := 0; i < links; i++ {
		fi, err := os.Stat(filepath.Join(v.Bricks[1].Root, "d", fmt.Sprintf("link-%04d", i)))
		if err != nil || !os.SameFile(fi, f1) {
			t.Fatalf("after heal full, b1's /d/link-%04d is not /d/f's inode: %v", i, err)
		}
	}
	if out := runOK("heal", "fx", "info", "summary"); !strings.Contains(out, "Total Number of entries: 0") {
		t.Errorf("after heal full, heal info summary:\n%s", out)
	}
	args := []string{"fsck", "fx", "--json"}
	code, out := hostileRun(t, env, args...)
	short(args, out)
	var rep struct {
		Findings []struct{ Class, Brick, Path string }
	}
	mustDo(t, json.Unmarshal([]byte(out), &rep))
	if code != ExitFsckProblems || len(rep.Findings) != 2 || rep.Findings[0].Class != "xattr-list" || rep.Findings[1].Class != "xattr-list" {
		t.Errorf("fsck on the healed volume (exit %d) should report the file once on each brick:\n%.3000s", code, out)
	}

	// The data heal reads the counters by name.
	mustDo(t, v.Overwrite("/d/f", []byte("newer, while b1 was down\n"), 1))
	runOK("heal", "fx")
	if got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, "d", "link-1999")); err != nil || string(got) != "newer, while b1 was down\n" {
		t.Errorf("after heal, b1's copy holds %q, %v", got, err)
	}

	// The metadata heal cannot see the xattrs: refused, the same way by
	// explain, the dry run and the run, and nothing on b1 changes.
	mustDo(t, v.Chmod("/d/f", 0o600, 1))
	want := "more xattr names than llistxattr returns"
	for _, args := range [][]string{{"heal", "fx", "explain", "/d/f"}, {"heal", "fx", "--dry-run"}, {"heal", "fx"}, {"heal", "fx", "full"}} {
		code, out := hostileRun(t, env, args...)
		short(args, out)
		if !strings.Contains(out, want) {
			t.Errorf("afrkit %s (exit %d) does not say why the metadata heal cannot run:\n%.3000s", strings.Join(args, " "), code, out)
		}
		if slices.Contains(args, "explain") || slices.Contains(args, "--dry-run") {
			continue // they succeed in saying so
		}
		if code == ExitOK {
			t.Errorf("afrkit %s exited 0 with the metadata heal refused:\n%.3000s", strings.Join(args, " "), out)
		}
	}
	if fi, err := os.Stat(filepath.Join(v.Bricks[1].Root, "d", "f")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("b1's /d/f after the refused metadata heal: %v, %v; want mode 0644 untouched", fi.Mode(), err)
	}
	// Its path comes from a gfid2path key, which cannot be listed either:
	// GlusterFS's heal info prints the gfid then too.
	g, err := v.Bricks[0].GFIDOf("/d/f")
	mustDo(t, err)
	if out := runOK("heal", "fx", "info"); !strings.Contains(out, "<gfid:"+g.String()+">") {
		t.Errorf("heal info does not list the file whose metadata heal is refused:\n%s", out)
	}
}

// TestHostileUndoThroughSymlinkedParent: after a split-brain resolution in
// /sub, /sub on every brick became a symlink to a directory outside; undo
// must put nothing there (as restore, it refuses) and the kept copies stay.
func TestHostileUndoThroughSymlinkedParent(t *testing.T) {
	v, env := hostileVolume(t)
	vic := newVictim(t)
	mustDo(t, v.Mkdir("/sub"))
	mustDo(t, v.WriteFile("/sub/f", []byte("first\n")))
	mustDo(t, v.Overwrite("/sub/f", []byte("b0's longer version\n"), 1))
	mustDo(t, v.Overwrite("/sub/f", []byte("b1's version\n"), 0))
	if code, out := hostileRun(t, env, "heal", "fx", "split-brain", "bigger-file", "/sub/f"); code != ExitOK {
		t.Fatalf("bigger-file: exit %d\n%s", code, out)
	}
	for _, b := range v.Bricks {
		replaceWithSymlink(t, b, "sub", vic.sub)
	}
	kept := fixtures.Snapshot(t, v.Bricks[1].KeptDir())
	out := runAll(t, env, vic, [][]string{{"heal", "fx", "info"}})
	if !strings.Contains(out, "Number of entries") {
		t.Fatalf("heal info:\n%s", out)
	}
	if after := fixtures.Snapshot(t, v.Bricks[1].KeptDir()); after != kept {
		t.Errorf("the refused undo changed the kept copies:\n%s", fixtures.LineDiff(kept, after))
	}
}
