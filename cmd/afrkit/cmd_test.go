package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
)

// run executes afrkit with args against buffers and a private state and
// glusterd directory.
func run(t *testing.T, env testEnv, args ...string) (ExitCode, string, string) {
	t.Helper()
	io, out, errOut := TestIO()
	all := append([]string{"--state-dir", env.state, "--glusterd-dir", env.glusterd}, args...)
	code := Main(all, io)
	return code, out.String(), errOut.String()
}

type testEnv struct{ dir, state, glusterd string }

// newEnv makes a private registry and a glusterd directory holding the
// definition of fxpend, copied from a real GlusterFS 10.3.
func newEnv(t *testing.T) testEnv {
	t.Helper()
	dir := t.TempDir()
	env := testEnv{dir: dir, state: filepath.Join(dir, "state"), glusterd: filepath.Join(dir, "glusterd")}
	src := "../../fixtures/gluster/testdata/pending-brick-down/glusterd"
	if err := fixtures.CopyGlusterdVolume(src, filepath.Join(env.glusterd, "vols", "fxpend")); err != nil {
		t.Fatal(err)
	}
	return env
}

// volEnv runs afrkit on the volumes a fixture built under dir (registry
// dir/state), with no glusterd volumes.
func volEnv(dir string) testEnv {
	return testEnv{dir: dir, state: filepath.Join(dir, "state"), glusterd: filepath.Join(dir, "no-glusterd")}
}

func TestNewCmdVolumeCreate(t *testing.T) {
	cases := []struct {
		args []string
		want VolumeCreateOptions
		err  string
	}{
		{[]string{"v", "replica", "2", "/a", "/b"}, VolumeCreateOptions{Name: "v", Replica: 2, Dirs: []string{"/a", "/b"}}, ""},
		{[]string{"v", "replica", "3", "/a", "/b", "/c", "--force"}, VolumeCreateOptions{Name: "v", Replica: 3, Dirs: []string{"/a", "/b", "/c"}, Force: true}, ""},
		{[]string{"v", "replica", "2"}, VolumeCreateOptions{}, "usage"},
		{[]string{"v", "replica", "x", "/a", "/b"}, VolumeCreateOptions{}, "want a number"},
		{[]string{"v", "mirror", "2", "/a", "/b"}, VolumeCreateOptions{}, "usage"},
		{[]string{"v", "replica", "1", "/a", "/b"}, VolumeCreateOptions{}, "at least 2"},
		{[]string{"v", "replica", "3", "arbiter", "1", "/a", "/b", "/c"}, VolumeCreateOptions{Name: "v", Replica: 3, Arbiter: 1, Dirs: []string{"/a", "/b", "/c"}}, ""},
		{[]string{"v", "replica", "2", "arbiter", "1", "/a", "/b"}, VolumeCreateOptions{}, "replica 3 arbiter 1"},
		{[]string{"v", "replica", "3", "arbiter", "2", "/a", "/b", "/c"}, VolumeCreateOptions{}, "replica 3 arbiter 1"},
	}
	for _, c := range cases {
		var got *VolumeCreateOptions
		io, _, _ := TestIO()
		cmd := NewCmdVolumeCreate(&Factory{IO: io}, func(o *VolumeCreateOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(io.Out)
		cmd.SetErr(io.ErrOut)
		err := cmd.Execute()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err = %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		got.F = nil
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%v: options %+v, want %+v", c.args, *got, c.want)
		}
	}
}

func TestVolumeInfoGlusterd(t *testing.T) {
	env := newEnv(t)
	code, out, errOut := run(t, env, "volume", "info", "fxpend")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertGolden(t, out)
}

func TestVolumeInfoGlusterdJSON(t *testing.T) {
	env := newEnv(t)
	code, out, errOut := run(t, env, "volume", "info", "fxpend", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	assertGolden(t, out)
}

func TestVolumeCreateListInfo(t *testing.T) {
	env := newEnv(t)
	b0, b1 := filepath.Join(env.dir, "b0"), filepath.Join(env.dir, "b1")
	code, out, errOut := run(t, env, "volume", "create", "media", "replica", "2", b0, b1)
	if code != ExitOK {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "volume create: media: success: 2 bricks, replica 2 (Replicate)") {
		t.Errorf("create printed %q", out)
	}
	code, out, _ = run(t, env, "volume", "list")
	if code != ExitOK {
		t.Fatalf("list: exit %d", code)
	}
	assertGolden(t, out)
	// Creating it again on the same bricks is refused, and says why.
	code, _, errOut = run(t, env, "volume", "create", "other", "replica", "2", b0, b1)
	if code != ExitError || !strings.Contains(errOut, "already belongs to volume") {
		t.Errorf("second create on the same bricks: exit %d, %q", code, errOut)
	}
	// The new volume's bricks use the namespace asked for.
	code, out, _ = run(t, env, "volume", "info", "media", "--json")
	if code != ExitOK || !strings.Contains(out, `"xattr_ns": "`+brick.DefaultNS()+`"`) {
		t.Errorf("info --json: exit %d\n%s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	env := newEnv(t)
	cases := []struct {
		args    []string
		code    ExitCode
		message string
	}{
		{[]string{"version"}, ExitOK, ""},
		{[]string{"heal", "fxpend"}, ExitError, "GlusterFS serves fxpend and its self-heal daemon is off (cluster.self-heal-daemon)"},
		{[]string{"heal", "fxpend", "split-brain", "bigger-file", "/f"}, ExitError, "cannot be read"},
		{[]string{"heal", "fxpend", "bogus"}, ExitUsage, "unknown subcommand"},
		{[]string{"heal", "fxpend", "split-brain"}, ExitUsage, "usage: afrkit heal VOL split-brain"},
		{[]string{"heal", "fxpend", "split-brain", "newest", "/f"}, ExitUsage, "unknown split-brain operation"},
		{[]string{"heal", "fxpend", "history", "--xml"}, ExitUsage, "--xml is for heal fxpend info"},
		{[]string{"heal", "fxpend", "undo"}, ExitUsage, "usage: afrkit heal VOL undo ID"},
		{[]string{"heal", "fxpend", "--kind", "data"}, ExitUsage, "--kind is for heal fxpend split-brain"},
		{[]string{"heal", "fxpend", "split-brain", "bigger-file", "/f", "--kind", "entry"}, ExitUsage, `--kind "entry": want data or metadata`},
		{[]string{"heal", "fxpend", "info", "bogus"}, ExitUsage, "usage: afrkit heal VOL info [split-brain|summary]"},
		{[]string{"heal", "nope", "info"}, ExitError, "volume nope: volume: no such volume"},
		{[]string{"fsck", "fxpend"}, ExitFsckOperational, "fsck: volume fxpend has no brick on this host (vm:/srv/glab/fxpend/b1"},
		{[]string{"fsck", "nope"}, ExitFsckOperational, "volume nope: volume: no such volume"},
		{[]string{"fsck"}, ExitUsage, "name a volume, or a brick with --brick DIR"},
		{[]string{"fsck", "fxpend", "--dry-run"}, ExitUsage, "--dry-run goes with --repair, --rename-stale or --restore"},
		{[]string{"fsck", "fxpend", "--volume", "fxpend"}, ExitUsage, "not both"},
		{[]string{"fsck", "--brick", "/nonexistent"}, ExitFsckOperational, "/nonexistent: no such file or directory"},
		{[]string{"fsck", "fxpend", "--repair"}, ExitFsckOperational, "has no brick on this host"},
		{[]string{"fsck", "--brick", "/tmp", "--repair"}, ExitUsage, "need its volume (--volume VOL)"},
		{[]string{"fsck", "fxpend", "--restore", "x", "--repair"}, ExitUsage, "--restore goes alone"},
		{[]string{"fsck", "fxpend", "--clash-keeps", "temp"}, ExitUsage, "--clash-keeps goes with --rename-stale-path PATH"},
		{[]string{"fsck", "fxpend", "--rename-stale-path", "/.a.AbvgGY", "--clash-keeps", "newest"}, ExitUsage, `--clash-keeps "newest": want temp`},
		{[]string{"mount", "v"}, ExitUsage, "usage: afrkit mount VOL DIR"},
		{[]string{"tui"}, ExitUsage, "afrkit tui needs a terminal"},
		{[]string{"tui", "a", "b"}, ExitUsage, "accepts at most 1 arg"},
		{[]string{"volume", "info", "nope"}, ExitError, "volume nope: volume: no such volume"},
		{[]string{"volume", "list", "--bogus"}, ExitUsage, "unknown flag"},
		{[]string{"frobnicate"}, ExitUsage, "unknown command"},
		// Once help and exit 0, or accepted:
		{[]string{"volume", "heal"}, ExitUsage, `unknown command "heal" for "afrkit volume"`},
		{[]string{"heal", "fxpend", "--jobs", "-5"}, ExitUsage, "--jobs -5: want 0"},
		{[]string{"heal", "fxpend", "undo", "x", "--json"}, ExitUsage, "--json is for heal, heal full"},
		{[]string{"heal", "fxpend", "--unexplained"}, ExitUsage, "--unexplained is for heal fxpend info --json"},
		{[]string{"fsck", "fxpend", "--jobs", "-5"}, ExitUsage, "--jobs -5: want 0"},
		{[]string{"--xattr-ns", "system", "volume", "list"}, ExitUsage, "--xattr-ns"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.message) {
			t.Errorf("afrkit %v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.message)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, newEnv(t), "version")
	if code != ExitOK || !strings.HasPrefix(out, "afrkit "+Version) {
		t.Fatalf("version: exit %d, %q", code, out)
	}
}

func TestHelpListsGroups(t *testing.T) {
	// The defaults shown depend on who runs the tests; pin them.
	t.Setenv("AFRKIT_STATE_DIR", "/var/lib/afrkit")
	code, out, _ := run(t, newEnv(t), "--help")
	if code != ExitOK {
		t.Fatalf("help: exit %d", code)
	}
	assertGolden(t, strings.Replace(out, `(default "user")`, `(default "trusted")`, 1))
}

func TestCompletion(t *testing.T) {
	code, out, errOut := run(t, newEnv(t), "completion", "bash")
	if code != ExitOK || !strings.Contains(out, "__start_afrkit") {
		t.Fatalf("completion bash: exit %d, %d bytes, %s", code, len(out), errOut)
	}
}

func TestDemo(t *testing.T) {
	env := newEnv(t)
	dir := filepath.Join(env.dir, "demo-out")
	code, out, errOut := run(t, env, "demo", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	out = strings.ReplaceAll(out, dir, "$DIR")
	if !strings.Contains(out, "$ afrkit heal demo info\n") {
		t.Fatalf("demo output lacks its heal info section:\n%s", out)
	}
	// History records are named by time and chance, repairs by time, kept
	// copies by gfid; heal info lists entries in index readdir order.
	golden := sortHealInfo(scrub(out, ""))
	if os.Geteuid() != 0 {
		// Without root the full disk is skipped: its own golden file.
		assertGoldenAs(t, t.Name()+"_nonroot", golden)
	} else {
		assertGolden(t, golden)
		if !strings.Contains(out, "$ afrkit heal disk info\n") {
			t.Errorf("the demo as root does not fill a brick's disk:\n%s", out)
		}
	}
	// Each volume's last heal info is empty.
	for _, vol := range []string{"demo", "disk"} {
		head := "$ afrkit heal " + vol + " info\n"
		i := strings.LastIndex(out, head)
		if i < 0 {
			continue
		}
		last, _, _ := strings.Cut(out[i+len(head):], "\n$ ")
		if strings.Count(last, "Number of entries: 0\n") != 2 {
			t.Errorf("the demo does not end with an empty heal info of %s:\n%s", vol, last)
		}
	}
}

// sortHealInfo sorts the entries of each brick in every heal info
// listing of text (a line "$ afrkit heal VOL info" and the brick blocks
// after it), which lists them in index readdir order.
func sortHealInfo(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, " info\nBrick ")
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		i += len(" info\n")
		b.WriteString(text[:i])
		text = text[i:]
		var info []string
		for strings.HasPrefix(text, "Brick ") {
			blk, rest, _ := strings.Cut(text, "\n\n")
			info = append(info, blk)
			text = rest
		}
		b.WriteString(strings.Join(blocks(strings.Join(info, "\n\n")), "\n\n"))
		b.WriteString("\n\n")
	}
}

// TestHealInfoBricksDown: the bricks of fxpend are not on this machine, so
// every brick is reported as GlusterFS reports an unreachable one.
func TestHealInfoBricksDown(t *testing.T) {
	env := newEnv(t)
	for _, args := range [][]string{{"heal", "fxpend", "info"}, {"heal", "fxpend", "info", "summary"}, {"heal", "fxpend", "info", "split-brain", "--xml"}, {"heal", "fxpend", "info", "summary", "--xml"}} {
		code, out, errOut := run(t, env, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		t.Run(strings.Join(args[2:], "-"), func(t *testing.T) { assertGolden(t, out) })
	}
}
