package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestHealAgreesWithLiveGlusterFS damages a GlusterFS replica-2 volume
// through its mount (pending data, entry and metadata heals, a data
// split-brain and a gfid split-brain), stops it, heals and resolves it with
// afrkit, and starts GlusterFS again: GlusterFS's own heal info is then
// empty, every file reads through the mount with the chosen content, the
// bricks agree on every gfid, and the losers are where the history says.
func TestHealAgreesWithLiveGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/a", "sb", "meta", "d/gone"} {
		v.WriteFile(p, "written with both bricks up\n")
	}
	v.KillBrick(1)
	v.WriteFile("d/a", "rewritten while b2 was down\n")
	v.WriteFile("d/new", "created while b2 was down\n")
	v.WriteFile("sb", "b1's version\n")
	v.WriteFile("g", "b1's g\n")
	if err := os.Chmod(v.Path("meta"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(v.Path("newdir/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	v.WriteFile("newdir/inner/f", "deep\n")
	if err := os.Remove(v.Path("d/gone")); err != nil {
		t.Fatal(err)
	}
	v.Revive()
	v.KillBrick(0)
	v.WriteFile("sb", "b2's longer version of the file\n")
	v.WriteFile("g", "b2's g, written later\n")
	v.Revive()

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")

	// A started volume is healed only by GlusterFS's self-heal daemon,
	// which this volume has off: afrkit never writes its bricks behind
	// GlusterFS's back.
	code, _, errOut := run(t, env, "heal", v.Name)
	if code != ExitError || !strings.Contains(errOut, "its self-heal daemon is off (cluster.self-heal-daemon)") {
		t.Fatalf("heal of a started volume: exit %d: %s", code, errOut)
	}
	v.Stop()

	code, out, errOut := run(t, env, "heal", v.Name)
	if code != ExitError || !strings.Contains(out, "/sb: data split-brain") || !strings.Contains(out, "/g: gfid split-brain") {
		t.Fatalf("heal: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "heal", v.Name, "split-brain", "bigger-file", "/sb")
	if code != ExitOK || out != "Healed /sb.\n" {
		t.Fatalf("bigger-file /sb: exit %d: %q %s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "heal", v.Name, "split-brain", "latest-mtime", "/g")
	if code != ExitOK || !strings.Contains(out, "GFID split-brain resolved for file /g") {
		t.Fatalf("latest-mtime /g: exit %d: %q %s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "heal", v.Name)
	if code != ExitOK {
		t.Fatalf("heal after the resolutions: exit %d\n%s%s", code, out, errOut)
	}
	code, hist, _ := run(t, env, "heal", v.Name, "history")
	if code != ExitOK {
		t.Fatalf("history: exit %d", code)
	}

	v.Start()
	v.MountFUSE()
	v.Revive()
	glusterHealEmpty(t, v)
	for p, want := range map[string]string{
		"d/a": "rewritten while b2 was down\n", "d/new": "created while b2 was down\n",
		"sb": "b2's longer version of the file\n", "g": "b2's g, written later\n", "newdir/inner/f": "deep\n",
	} {
		got, err := os.ReadFile(v.Path(p))
		if err != nil || string(got) != want {
			t.Errorf("%s through the mount: %q, %v; want %q", p, got, err, want)
		}
	}
	if fi, err := os.Stat(v.Path("meta")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("meta: %v %v", fi, err)
	}
	// /d blames only b2, so its entry heal removes what b1 removed. (The
	// root is in entry split-brain, blamed both ways, and would be merged
	// conservatively, bringing removed names back, as GlusterFS does.)
	if _, err := os.Stat(v.Path("d/gone")); err == nil {
		t.Error("a file removed while b2 was down is back")
	}
	gfidsAgree(t, v, "d", "d/a", "d/new", "sb", "g", "meta", "newdir", "newdir/inner", "newdir/inner/f")
	// Every kept copy the history names exists: /sb's loser, /g's loser,
	// and the removed /d/gone.
	keptCopiesExist(t, hist, 3)
	for _, want := range []string{"/sb  data, bigger-file", "/g  gfid, latest-mtime", "/d/gone  removed"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
}

// glusterHealEmpty asserts that GlusterFS's own `heal info` and `heal info
// split-brain` count no entry on any brick of the started volume v.
func glusterHealEmpty(t *testing.T, v *glustertest.Volume) {
	t.Helper()
	for _, mode := range [][]string{nil, {"split-brain"}} {
		info, err := v.HealInfo(mode...)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(info, "Number of entries: 0") + strings.Count(info, "Number of entries in split-brain: 0"); n != len(v.Bricks) {
			t.Errorf("GlusterFS heal info %v after afrkit's heal:\n%s", mode, info)
		}
	}
}

// gfidsAgree asserts that, for each path, every brick that holds it has the
// same trusted.gfid, and that every brick of a replica set holding it does.
func gfidsAgree(t *testing.T, v *glustertest.Volume, paths ...string) {
	t.Helper()
	for _, p := range paths {
		var want []byte
		for set := 0; set*v.Replica < len(v.Bricks); set++ {
			held := 0
			for _, b := range v.Bricks[set*v.Replica : (set+1)*v.Replica] {
				g, err := xattr.LGet(filepath.Join(b, p), "trusted.gfid")
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				held++
				if err != nil {
					t.Errorf("%s on %s: %v", p, b, err)
					continue
				}
				if want == nil {
					want = g
				} else if string(g) != string(want) {
					t.Errorf("%s: gfid %x on %s, %x elsewhere", p, g, b, want)
				}
			}
			if held != 0 && held != v.Replica {
				t.Errorf("%s is on %d of the %d bricks of replica set %d", p, held, v.Replica, set)
			}
		}
		if want == nil {
			t.Errorf("%s is on no brick", p)
		}
	}
}

// keptCopiesExist asserts that the history names at least min kept copies
// and that each of them exists.
func keptCopiesExist(t *testing.T, hist string, min int) {
	t.Helper()
	kept := regexp.MustCompile(`(?m)^    \S+ (?:copy|moved): (\S+)`).FindAllStringSubmatch(hist, -1)
	if len(kept) < min {
		t.Errorf("history names %d kept copies, want at least %d:\n%s", len(kept), min, hist)
	}
	for _, k := range kept {
		if _, err := os.Lstat(k[1]); err != nil {
			t.Errorf("kept copy %s: %v", k[1], err)
		}
	}
}

// TestHealAnArbiterVolumeAgreesWithLiveGlusterFS heals a replica 3 arbiter
// 1 volume that GlusterFS damaged, offline, then starts it: GlusterFS lists
// only what it would not heal either (data whose only source is the
// arbiter), reads the healed contents, and the arbiter still holds no data.
func TestHealAnArbiterVolumeAgreesWithLiveGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateArbiter("cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"f", "m", "a", "only", "sb"} {
		v.WriteFile(p, "written with every brick up\n")
	}
	// The first data brick down: the other and the arbiter blame it.
	v.KillBrick(0)
	v.WriteFile("f", "rewritten while the first data brick was down\n")
	v.WriteFile("d/new", "created while the first data brick was down\n")
	v.WriteFile("only", "rewritten while the first data brick was down\n")
	if err := os.Chmod(v.Path("m"), 0o600); err != nil {
		t.Fatal(err)
	}
	v.Revive()
	// The arbiter down: the data bricks blame it.
	v.KillBrick(2)
	v.WriteFile("a", "rewritten while the arbiter was down\n")
	v.Revive()
	// Each data brick written alone (quorum-type none): /sb in data
	// split-brain, the arbiter blamed by both.
	v.KillBrick(1)
	v.KillBrick(2)
	v.WriteFile("sb", "the first data brick's version\n")
	v.Revive()
	v.KillBrick(0)
	v.KillBrick(2)
	v.WriteFile("sb", "the second data brick's version, the longer\n")
	v.Revive()
	v.Stop()
	// As GlusterFS's tests set counters: the arbiter also blames the
	// second data brick for /only, which leaves the arbiter the only
	// source of its data.
	g, err := xattr.LGet(filepath.Join(v.Bricks[2], "only"), "trusted.gfid")
	if err != nil {
		t.Fatal(err)
	}
	if err := xattr.LSet(filepath.Join(v.Bricks[2], "only"), "trusted.afr."+v.Name+"-client-1", []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	code, out, errOut := run(t, env, "heal", v.Name, "explain", "/only")
	if code != ExitOK || !strings.Contains(out, "cannot heal: the arbiter is the only source, and holds no data") {
		t.Fatalf("explain /only: exit %d\n%s%s", code, out, errOut)
	}
	// The arbiter holds no data to resolve a data split-brain from.
	code, out, errOut = run(t, env, "heal", v.Name, "split-brain", "source-brick", v.Brick(2), "/sb")
	if code != ExitError || !strings.Contains(out+errOut, "The arbiter holds no data, so its copy cannot be the one kept") {
		t.Fatalf("source-brick the arbiter: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "heal", v.Name, "split-brain", "bigger-file", "/sb")
	if code != ExitOK || out != "Healed /sb.\n" {
		t.Fatalf("bigger-file /sb: exit %d: %q %s", code, out, errOut)
	}
	code, out, errOut = run(t, env, "heal", v.Name)
	if code != ExitError || !strings.Contains(out, "/only: data not healed: ") || !strings.Contains(out, "but "+filepath.Base(v.Bricks[2])+" is the arbiter, the only source of the data") {
		t.Fatalf("heal: exit %d\n%s%s", code, out, errOut)
	}
	// fsck finds no difference in the arbiter's empty copies.
	code, out, errOut = run(t, env, "fsck", v.Name)
	if strings.Contains(out, "size ") || strings.Contains(out, "differ") {
		t.Errorf("fsck after the heal: exit %d\n%s%s", code, out, errOut)
	}

	v.Start()
	v.MountFUSE()
	v.Revive()
	// GlusterFS lists /only alone, on the bricks whose counters blame.
	info, err := v.HealInfo("--xml")
	if err != nil {
		t.Fatal(err)
	}
	gfid := fmt.Sprintf("%x-%x-%x-%x-%x", g[0:4], g[4:6], g[6:8], g[8:10], g[10:16])
	for _, b := range parseReport(t, []byte(info)).Bricks {
		for _, f := range b.GFIDs {
			if f != gfid {
				t.Errorf("GlusterFS lists %s on %s after afrkit's heal; only /only (%s) is left\n%s", f, b.Name, gfid, info)
			}
		}
	}
	if sb, err := v.HealInfo("split-brain"); err != nil || strings.Count(sb, "Number of entries in split-brain: 0") != 3 {
		t.Errorf("GlusterFS's split-brains after afrkit's heal: %v\n%s", err, sb)
	}
	for p, want := range map[string]string{
		"f": "rewritten while the first data brick was down\n", "d/new": "created while the first data brick was down\n",
		"a": "rewritten while the arbiter was down\n", "sb": "the second data brick's version, the longer\n",
	} {
		if got, err := os.ReadFile(v.Path(p)); err != nil || string(got) != want {
			t.Errorf("%s through the mount: %q, %v; want %q", p, got, err, want)
		}
		if fi, err := os.Stat(filepath.Join(v.Bricks[2], p)); err != nil || fi.Size() != 0 {
			t.Errorf("%s on the arbiter: %v, %v; want an empty file", p, fi, err)
		}
		if got, err := os.ReadFile(filepath.Join(v.Bricks[0], p)); err != nil || string(got) != want {
			t.Errorf("%s on the first data brick: %q, %v; want %q", p, got, err, want)
		}
	}
	if fi, err := os.Stat(v.Path("m")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("m: %v %v", fi, err)
	}
	gfidsAgree(t, v, "d", "d/new", "f", "m", "a", "only", "sb")
}
