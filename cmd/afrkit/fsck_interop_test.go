package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures/glustertest"
	"github.com/afrkit/afrkit/index"
)

// TestFsckRepairAgreesWithLiveGlusterFS damages the stopped bricks of a
// GlusterFS replica-2 volume the ways users find them (a lost handle, a
// lost gfid2path, an orphan handle, stale index entries, a file whose gfid
// was stripped on both bricks, an rsync temp file left behind), repairs them
// with afrkit fsck, and starts GlusterFS again: its heal info is empty, the
// files read through the mount as they were (the temp file under its final
// name), and the bricks agree on every gfid.
func TestFsckRepairAgreesWithLiveGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(2, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	files := map[string]string{
		"d/keep":              "a file whose handle is lost on b2\n",
		"d/named":             "a file whose gfid2path is lost on b1\n",
		"stripped":            "a file whose gfid is stripped on both bricks\n",
		".player.json.AbvgGY": `{"name":"player"}` + "\n",
	}
	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		if err := os.WriteFile(v.Path(p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// GlusterFS's post-ops land after the writes return (delayed
	// post-op): the check below reads the bricks once their dirty
	// indexes hold nothing but their base files again.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		busy := 0
		for _, b := range v.Bricks {
			names, _ := os.ReadDir(filepath.Join(b, ".glusterfs", "indices", "dirty"))
			for _, n := range names {
				if !strings.HasPrefix(n.Name(), "dirty-") {
					busy++
				}
			}
		}
		if busy == 0 || time.Now().After(deadline) {
			break
		}
	}
	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	if code, _, errOut := run(t, env, "fsck", v.Name, "--repair"); code != ExitFsckOperational || !strings.Contains(errOut, "is served by glusterfsd") {
		t.Fatalf("fsck --repair of a started volume: exit %d: %s", code, errOut)
	}
	// Reading a started volume is fine; all it holds that is wrong is the
	// temp file.
	if code, out, errOut := run(t, env, "fsck", v.Name); code != ExitFsckProblems || !strings.Contains(out, "\n1 problem(s)") || !strings.Contains(out, "stale-temp (1)") {
		t.Fatalf("fsck of the started volume: exit %d, want 4 and only the temp file\n%s%s", code, out, errOut)
	}
	v.Stop()

	b := func(i int) *brick.Brick {
		t.Helper()
		bb, err := brick.Open(v.Bricks[i], brick.NSTrusted)
		if err != nil {
			t.Fatal(err)
		}
		return bb
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	g, err := b(1).GFIDOf("/d/keep")
	must(err)
	must(os.Remove(b(1).HandlePath(g)))
	g, err = b(0).GFIDOf("/d/named")
	must(err)
	pg, err := b(0).GFIDOf("/d")
	must(err)
	must(xattr.LRemove(filepath.Join(v.Bricks[0], "d/named"), "trusted."+brick.Gfid2pathKey(pg, "named")))
	orphan := afr.GFID{0xab, 0xcd, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	must(os.MkdirAll(filepath.Dir(b(0).HandlePath(orphan)), 0o700))
	must(os.WriteFile(b(0).HandlePath(orphan), []byte("bytes that no name reaches"), 0o644))
	must(index.Open(v.Bricks[1]).Add(index.Xattrop, orphan))
	for i := range v.Bricks {
		sg, err := b(i).GFIDOf("/stripped")
		must(err)
		must(os.Remove(b(i).HandlePath(sg)))
		abs := filepath.Join(v.Bricks[i], "stripped")
		must(xattr.LRemove(abs, "trusted.gfid"))
		must(xattr.LRemove(abs, "trusted."+brick.Gfid2pathKey(brick.RootGFID, "stripped")))
	}

	code, out, errOut := run(t, env, "fsck", v.Name, "--repair", "--rename-stale")
	if code != ExitFsckRepaired {
		t.Fatalf("fsck --repair --rename-stale: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"missing-handle", "gfid2path", "orphan-handle", "stale-index", "missing-gfid", "stale-temp", "Checked again: no problems left."} {
		if !strings.Contains(out, want) {
			t.Errorf("the repair's report lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := run(t, env, "fsck", v.Name, "--deep"); code != ExitFsckClean {
		t.Errorf("fsck after the repair: exit %d\n%s", code, out)
	}

	v.Start()
	v.MountFUSE()
	v.Revive()
	glusterHealEmpty(t, v)
	files["player.json"] = files[".player.json.AbvgGY"]
	delete(files, ".player.json.AbvgGY")
	for p, want := range files {
		got, err := os.ReadFile(v.Path(p))
		if err != nil || string(got) != want {
			t.Errorf("%s through the mount: %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := os.Lstat(v.Path(".player.json.AbvgGY")); err == nil {
		t.Error("the temp name is still in the volume")
	}
	gfidsAgree(t, v, "d", "d/keep", "d/named", "stripped", "player.json")
}
