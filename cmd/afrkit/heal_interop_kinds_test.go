package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/fixtures/glustertest"
)

// TestSplitBrainKindsAgreeWithLiveGlusterFS builds, on a GlusterFS replica-3
// volume, a data split-brain where two bricks agree against one, a metadata
// split-brain, an entry split-brain on a directory and a data split-brain
// whose resolution is undone. Offline, afrkit resolves them by majority,
// source-brick, conservative merge and latest-mtime, and undoes the last one.
// Started again, GlusterFS sees only the undone split-brain, resolves it with
// its own CLI, and then reports nothing to heal.
func TestSplitBrainKindsAgreeWithLiveGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateReplica(3, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	chmod := func(p string, mode os.FileMode) {
		t.Helper()
		if err := os.Chmod(v.Path(p), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(v.Path("e"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"data", "meta", "undo"} {
		v.WriteFile(p, "written with every brick up\n")
	}

	// b2 and b3 write one side of each split-brain...
	v.KillBrick(0)
	v.WriteFile("data", "the version b2 and b3 hold\n")
	chmod("meta", 0o640)
	v.WriteFile("e/from-b23", "created while b1 was down\n")
	v.WriteFile("undo", "b2 and b3's version of undo\n")
	v.Revive()
	// ...and b1 alone writes the other, later.
	v.KillBrick(1)
	v.KillBrick(2)
	v.WriteFile("data", "b1's version\n")
	chmod("meta", 0o600)
	v.WriteFile("e/from-b1", "created while b2 and b3 were down\n")
	v.WriteFile("undo", "b1's undo\n")
	v.Revive()
	v.Stop()

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	code, out, errOut := run(t, env, "heal", v.Name)
	for _, want := range []string{"/data: data split-brain", "/meta: metadata split-brain", "/undo: data split-brain"} {
		if code != ExitError || !strings.Contains(out, want) {
			t.Fatalf("heal: exit %d, want 1 and %q:\n%s%s", code, want, out, errOut)
		}
	}
	if strings.Contains(out, "/e:") {
		t.Errorf("heal left the directory in entry split-brain; GlusterFS merges it:\n%s", out)
	}
	b2 := c.Host + ":" + v.Bricks[1]
	for _, step := range []struct {
		args []string
		code ExitCode
		want string
	}{
		{[]string{"majority", "/data"}, ExitOK, "Healed /data.\n"},
		{[]string{"source-brick", b2, "/meta"}, ExitOK, "Healed /meta.\n"},
		// b2 and b3 are bigger than b1 and equal, so GlusterFS finds no bigger file.
		{[]string{"bigger-file", "/undo"}, ExitError, "No bigger file"},
		{[]string{"latest-mtime", "/undo"}, ExitOK, "Healed /undo.\n"},
	} {
		code, out, errOut := run(t, env, append([]string{"heal", v.Name, "split-brain"}, step.args...)...)
		if code != step.code || !strings.Contains(out+errOut, step.want) {
			t.Fatalf("split-brain %v: exit %d: %q %q; want exit %d and %q", step.args, code, out, errOut, step.code, step.want)
		}
	}
	_, hist, _ := run(t, env, "heal", v.Name, "history")
	m := regexp.MustCompile(`(?m)^(\S+)  \S+  /undo  data, latest-mtime`).FindStringSubmatch(hist)
	if m == nil {
		t.Fatalf("history has no latest-mtime resolution of /undo:\n%s", hist)
	}
	if code, out, errOut := run(t, env, "heal", v.Name, "undo", m[1]); code != ExitOK {
		t.Fatalf("undo %s: exit %d\n%s%s", m[1], code, out, errOut)
	}
	code, out, _ = run(t, env, "heal", v.Name)
	if code != ExitError || !strings.Contains(out, "/undo: data split-brain") || strings.Contains(out, "/data:") || strings.Contains(out, "/meta:") {
		t.Fatalf("heal after the undo: exit %d, want only /undo left:\n%s", code, out)
	}
	_, hist, _ = run(t, env, "heal", v.Name, "history")

	v.Start()
	v.MountFUSE()
	v.Revive()
	// GlusterFS agrees that the undo brought back exactly /undo's split-brain
	// and nothing else, and can resolve it itself.
	info, err := v.HealInfo("split-brain")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(info, "Number of entries in split-brain: 1"); n != 3 || !strings.Contains(info, "/undo") {
		t.Fatalf("GlusterFS after the undo: want /undo in split-brain on all 3 bricks:\n%s", info)
	}
	// (GlusterFS's own latest-mtime fails here with "No difference in
	// mtime": with features.ctime on, its metadata heal runs first and
	// copies one brick's mdata times to the others. Its tests use
	// source-brick instead: split-brain-healing-ctime.t.)
	if out, err := c.Gluster("volume", "heal", v.Name, "split-brain", "source-brick", c.Host+":"+v.Bricks[0], "/undo"); err != nil || !strings.Contains(out, "Healed /undo") {
		t.Fatalf("GlusterFS's own source-brick b1 /undo: %v\n%s", err, out)
	}
	glusterHealEmpty(t, v)

	for p, want := range map[string]string{
		"data":       "the version b2 and b3 hold\n",
		"undo":       "b1's undo\n",
		"e/from-b1":  "created while b2 and b3 were down\n",
		"e/from-b23": "created while b1 was down\n",
	} {
		got, err := os.ReadFile(v.Path(p))
		if err != nil || string(got) != want {
			t.Errorf("%s through the mount: %q, %v; want %q", p, got, err, want)
		}
	}
	if fi, err := os.Stat(v.Path("meta")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("meta through the mount: %v %v; want mode 0640 from b2", fi, err)
	}
	gfidsAgree(t, v, "data", "meta", "undo", "e", "e/from-b1", "e/from-b23")
	// The sinks of /data and /meta are kept where the history says (AFR
	// heals from one source, so b3, which agreed with b2, is a sink too);
	// /undo's were restored and the record is marked undone.
	keptCopiesExist(t, hist, 4)
	if m := regexp.MustCompile(`(?m)^    b1 copy: (\S+) \(file`).FindStringSubmatch(hist); m == nil {
		t.Errorf("history keeps no copy of b1's /data:\n%s", hist)
	} else if got, err := os.ReadFile(m[1]); err != nil || string(got) != "b1's version\n" {
		t.Errorf("b1's kept /data: %q, %v", got, err)
	}
	for _, want := range []string{"/data  data, majority: kept b2 over b1, b3", "/meta  metadata, source-brick", "[undone by "} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
}

// TestHealDistributedReplicateAgreesWithGlusterFS damages a GlusterFS 2x2
// distributed-replicate volume with one brick of each replica set down
// (rewrites, creates in new and old directories, chmods, removals), then
// makes data split-brains in both sets, and sets favorite-child-policy
// mtime in glusterd. Offline, one `afrkit heal` heals and resolves both
// replica sets; GlusterFS then reports nothing to heal on any of the four
// bricks, reads every file with the expected content, and every brick holds
// the same gfid for each entry.
func TestHealDistributedReplicateAgreesWithGlusterFS(t *testing.T) {
	c := glustertest.Require(t)
	v := c.CreateDistReplica(2, 2, "cluster.quorum-type", "none")
	v.Start()
	v.MountFUSE()
	v.Revive()
	// DHT spreads names over the two sets by hash: with 16 names of each
	// kind, both sets get some (all on one set has odds of 2^-15).
	const n = 16
	names := func(format string) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf(format, i))
		}
		return out
	}
	if err := os.Mkdir(v.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Concat(names("f%02d"), names("d/f%02d"), names("gone%02d"), names("sb%02d")) {
		v.WriteFile(p, "written with every brick up: "+p+"\n")
	}

	v.KillBrick(1)
	v.KillBrick(3)
	want := map[string]string{}
	for _, p := range slices.Concat(names("f%02d"), names("d/new%02d"), names("newdir/inner/f%02d")) {
		if err := os.MkdirAll(filepath.Dir(v.Path(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		want[p] = "written while b2 and b4 were down: " + p + "\n"
		v.WriteFile(p, want[p])
	}
	for _, p := range names("d/f%02d") {
		if err := os.Chmod(v.Path(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range names("gone%02d") {
		if err := os.Remove(v.Path(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range names("sb%02d") {
		v.WriteFile(p, "b2 and b4 missed this: "+p+"\n")
	}
	v.Revive()
	v.KillBrick(0)
	v.KillBrick(2)
	for _, p := range names("sb%02d") {
		want[p] = "the later version, written while b1 and b3 were down: " + p + "\n"
		v.WriteFile(p, want[p])
	}
	v.Revive()
	v.Stop()
	if _, err := c.Gluster("volume", "set", v.Name, "cluster.favorite-child-policy", "mtime"); err != nil {
		t.Fatal(err)
	}
	// The test means something only if both replica sets have damage.
	for set := 0; set < 2; set++ {
		held := 0
		for _, p := range names("sb%02d") {
			if _, err := os.Lstat(filepath.Join(v.Bricks[2*set], p)); err == nil {
				held++
			}
		}
		if held == 0 {
			t.Fatalf("DHT put no sb file on replica set %d", set)
		}
	}

	env := testEnv{dir: t.TempDir(), glusterd: "/var/lib/glusterd"}
	env.state = filepath.Join(env.dir, "state")
	code, out, errOut := run(t, env, "heal", v.Name)
	if code != ExitOK || strings.Count(out, "favorite-child-policy mtime: kept") != n {
		t.Fatalf("heal: exit %d, want 0 and %d resolutions by mtime:\n%s%s", code, n, out, errOut)
	}
	_, hist, _ := run(t, env, "heal", v.Name, "history")
	if code, out, _ := run(t, env, "heal", v.Name, "info", "summary"); code != ExitOK || strings.Count(out, "Total Number of entries: 0") != 4 {
		t.Errorf("afrkit heal info summary after the heal: exit %d\n%s", code, out)
	}

	v.Start()
	v.MountFUSE()
	v.Revive()
	glusterHealEmpty(t, v)
	for p, w := range want {
		got, err := os.ReadFile(v.Path(p))
		if err != nil || string(got) != w {
			t.Errorf("%s through the mount: %q, %v; want %q", p, got, err, w)
		}
	}
	for _, p := range names("d/f%02d") {
		if fi, err := os.Stat(v.Path(p)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s through the mount: %v %v; want mode 0600", p, fi, err)
		}
	}
	for _, p := range names("gone%02d") {
		if _, err := os.Lstat(v.Path(p)); err == nil {
			t.Errorf("%s, removed while b2 and b4 were down, is back", p)
		}
	}
	// Directories live on every brick of both sets under one gfid; files on
	// both bricks of one set.
	var all []string
	for p := range want {
		all = append(all, p)
	}
	slices.Sort(all)
	gfidsAgree(t, v, append([]string{".", "d", "newdir", "newdir/inner"}, append(all, names("d/f%02d")...)...)...)
	for _, dir := range []string{".", "d", "newdir", "newdir/inner"} {
		for _, b := range v.Bricks {
			if fi, err := os.Stat(filepath.Join(b, dir)); err != nil || !fi.IsDir() {
				t.Errorf("directory %s on %s: %v", dir, b, err)
			}
		}
	}
	keptCopiesExist(t, hist, n)
}
