package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
)

// nobody is the uid and gid the non-root test runs afrkit as.
const nobody = 65534

// runAsNobody runs afrkit, as the test binary's Main, with nobody's uid
// and gid, and returns its exit code and output.
func runAsNobody(t *testing.T, env testEnv, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--state-dir", env.state, "--glusterd-dir", env.glusterd}, args...)...)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	cmd.Dir = env.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("afrkit %v as nobody: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// nobodysDir is a test directory nobody can work in: its state
// directory and the subdirectories subs are nobody's, and bin is a copy
// of the test binary nobody may run (the original sits in a directory
// only root may search). It skips the test unless it runs as root.
func nobodysDir(t *testing.T, subs ...string) (dir string, env testEnv, bin string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the test switches to nobody, which needs root")
	}
	dir = t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir makes them 0700
		mustDo(t, os.Chmod(d, 0o755))
	}
	env = volEnv(dir)
	mustDo(t, os.MkdirAll(env.state, 0o755))
	mustDo(t, os.Chown(env.state, nobody, nobody))
	for _, s := range subs {
		mustDo(t, os.Mkdir(filepath.Join(dir, s), 0o755))
		mustDo(t, os.Chown(filepath.Join(dir, s), nobody, nobody))
	}
	bin = filepath.Join(dir, "afrkit.test")
	data, err := os.ReadFile(os.Args[0])
	mustDo(t, err)
	mustDo(t, os.WriteFile(bin, data, 0o755))
	return dir, env, bin
}

// TestNonRootVolumeEndToEnd: a volume made by an ordinary user (user.*
// xattrs) works end to end: create, heal info, heal, a split-brain
// command, history and fsck, each run as nobody. Index directories, which
// GlusterFS makes 0600 (root needs no search bit), once made create fail
// with "permission denied" for an ordinary user.
func TestNonRootVolumeEndToEnd(t *testing.T) {
	dir, env, bin := nobodysDir(t, "b0", "b1")
	var tr strings.Builder
	step := func(want ExitCode, args ...string) string {
		t.Helper()
		code, out, errOut := runAsNobody(t, env, bin, args...)
		if code != int(want) {
			t.Fatalf("afrkit %v as nobody: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		tr.WriteString("$ afrkit " + strings.Join(args, " ") + "\n" + out + errOut + "\n")
		return out
	}
	step(ExitOK, "volume", "create", "nv", "replica", "2", filepath.Join(dir, "b0"), filepath.Join(dir, "b1"))

	// Damage, written as root through the fixtures, then given to nobody
	// as a user's own files would be.
	v, err := (&volume.Registry{Dir: env.state}).Load("nv")
	mustDo(t, err)
	if v.XattrNS != "user" {
		t.Fatalf("nobody's volume has xattr namespace %q", v.XattrNS)
	}
	fv, err := fixtures.Open(v)
	mustDo(t, err)
	mustDo(t, fv.WriteFile("/pending.txt", []byte("written while b1 was down\n"), 1))
	mustDo(t, fv.WriteFile("/sb.txt", []byte("both\n")))
	mustDo(t, fv.Overwrite("/sb.txt", []byte("b0's longer version\n"), 1))
	mustDo(t, fv.Overwrite("/sb.txt", []byte("b1's\n"), 0))
	for _, b := range []string{"b0", "b1"} {
		out, err := exec.Command("chown", "-R", "nobody:nogroup", filepath.Join(dir, b)).CombinedOutput()
		if err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}

	step(ExitOK, "heal", "nv", "info", "summary")
	step(ExitError, "heal", "nv")
	step(ExitOK, "heal", "nv", "split-brain", "bigger-file", "/sb.txt")
	step(ExitOK, "heal", "nv", "info")
	step(ExitOK, "heal", "nv", "history")
	step(ExitFsckClean, "fsck", "nv")

	// A volume made by root keeps trusted.* xattrs, which nobody cannot
	// see: every command that reads its bricks says so, where they once
	// showed its bricks as disconnected (exit 0), or fsck offered to stamp
	// them and heal to put them in as new empty disks.
	rootDir := filepath.Join(dir, "root")
	mustDo(t, os.Mkdir(rootDir, 0o755))
	rv, err := fixtures.Healthy(rootDir, "rv", 2)
	mustDo(t, err)
	mustDo(t, rv.WriteFile("/pending.txt", []byte("written while b1 was down\n"), 1))
	out, err := exec.Command("chmod", "-R", "a+rX", rootDir).CombinedOutput()
	if err != nil {
		t.Fatalf("chmod: %v: %s", err, out)
	}
	before := fixtures.Snapshot(t, rootDir)
	renv := volEnv(rootDir)
	for _, c := range []struct {
		want ExitCode
		args []string
	}{
		{ExitError, []string{"heal", "rv", "info"}},
		{ExitError, []string{"heal", "rv"}},
		{ExitError, []string{"heal", "rv", "explain", "/"}},
		{ExitFsckOperational, []string{"fsck", "rv", "--repair"}},
		{ExitError, []string{"volume", "reset-brick", "rv", rv.Bricks[1].Root}},
	} {
		code, out, errOut := runAsNobody(t, renv, bin, c.args...)
		if code != int(c.want) || !strings.Contains(errOut, "volume rv keeps its xattrs in the trusted namespace, which only root can read or write: run afrkit as root") {
			t.Errorf("afrkit %v as nobody on root's volume: exit %d, want %d\n%s%s", c.args, code, c.want, out, errOut)
		}
	}
	if after := fixtures.Snapshot(t, rootDir); after != before {
		t.Errorf("commands refused to nobody changed root's volume:\n%s", fixtures.LineDiff(before, after))
	}

	assertGolden(t, scrub(tr.String(), dir))
	for _, b := range []string{"b0", "b1"} {
		for p, want := range map[string]string{"pending.txt": "written while b1 was down\n", "sb.txt": "b0's longer version\n"} {
			if got, err := os.ReadFile(filepath.Join(dir, b, p)); err != nil || string(got) != want {
				t.Errorf("%s/%s: %q, %v", b, p, got, err)
			}
		}
	}
}

// TestDemoAsNobody: the README's first command works for an ordinary
// user: the demo builds its volume with user.* xattrs, heals it, and
// skips only the full disk, which needs root; what it prints is
// TestDemo_nonroot.golden, as TestDemo run by an ordinary user.
func TestDemoAsNobody(t *testing.T) {
	dir, env, bin := nobodysDir(t, "demo-out")
	out := filepath.Join(dir, "demo-out")
	code, got, errOut := runAsNobody(t, env, bin, "demo", "--dir", out)
	if code != int(ExitOK) {
		t.Fatalf("demo as nobody: exit %d: %s", code, errOut)
	}
	assertGoldenAs(t, "TestDemo_nonroot", sortHealInfo(scrub(strings.ReplaceAll(got, out, "$DIR"), "")))
}
