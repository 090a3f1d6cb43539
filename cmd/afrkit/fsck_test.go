package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fsck"
)

// TestFsckCommands checks a clean volume, then one with an orphan handle,
// a missing handle, a gfid mismatch and a stale rsync temp file whose final
// name holds other content: the text report, the JSON report, one brick
// checked alone, the repair's plan, the repair (which leaves the two
// findings that need a person), and the restore of what it quarantined,
// with e2fsck's exit codes.
func TestFsckCommands(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	step := tr.step
	step(ExitFsckClean, "fsck", "fx")

	orphan := v.Bricks[0].HandlePath(brick.RootGFID)
	orphan = filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(orphan))), "ab", "cd", "abcd0000-0000-0000-0000-000000000001")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Dir(orphan), 0o700))
	must(os.WriteFile(orphan, []byte("forty bytes that no name in the volume has"), 0o644))
	g, err := v.Bricks[1].GFIDOf(fixtures.ReadmePath)
	must(err)
	must(os.Remove(v.Bricks[1].HandlePath(g)))
	must(v.WriteFile("/same.txt", []byte("b0's\n"), 1))
	must(v.WriteFile("/same.txt", []byte("b1's\n"), 0))
	must(v.WriteFile(fixtures.StaleTempPath, []byte(`{"name":"player","level":2}`+"\n")))
	must(v.WriteFile("/player.json", []byte(`{"name":"player","level":1}`+"\n")))

	step(ExitFsckProblems, "fsck", "fx")
	out := step(ExitFsckProblems, "fsck", "fx", "--json")
	step(ExitFsckProblems, "fsck", "--brick", v.Bricks[1].Root, "--volume", "fx")
	step(ExitFsckProblems, "fsck", "fx", "--repair", "--dry-run")
	step(ExitFsckProblems, "fsck", "fx", "--repair")
	step(ExitFsckProblems, "fsck", "fx")
	q, _ := filepath.Glob(filepath.Join(dir, "b0", ".glusterfs", "afrkit", "kept", "*", "manifest.jsonl"))
	if len(q) != 1 {
		t.Fatalf("quarantine manifests on b0: %v", q)
	}
	id := filepath.Base(filepath.Dir(q[0]))
	step(ExitOK, "fsck", "fx", "--restore", id)
	step(ExitFsckProblems, "fsck", "fx")
	assertGolden(t, scrub(tr.String(), dir))

	// The restore put the orphan handle's bytes back where they were.
	back, err := os.ReadFile(orphan)
	if err != nil || string(back) != "forty bytes that no name in the volume has" {
		t.Errorf("the restored orphan handle: %q, %v", back, err)
	}

	var rep struct {
		fsck.Report
		Counts []fsck.Count `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json is not JSON: %v", err)
	}
	if len(rep.Findings) == 0 || len(rep.Counts) == 0 || rep.Volume != "fx" {
		t.Errorf("--json: %+v", rep)
	}
}

// TestFsckDotfilesAreNotTempFiles: .env.sample and docs/.config.backup have
// rsync's temp-name shape, six letters after the last dot, and no "env" or
// "docs/config" beside them: fsck --rename-stale once renamed them to env
// and docs/config. A suffix that reads as a word makes a candidate, shown
// and left alone, renamed only when named with --rename-stale-path; a
// random suffix (.player.json.AbvgGY) is renamed as before.
func TestFsckDotfilesAreNotTempFiles(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	env := volEnv(dir)
	mustDo(t, v.WriteFile("/.env.sample", []byte("PORT=8080\n")))
	mustDo(t, v.WriteFile("/docs/.config.backup", []byte("[old]\n")))
	mustDo(t, v.WriteFile("/.player.json.AbvgGY", []byte(`{"level":2}`+"\n")))
	exists := func(p string) bool {
		_, err := os.Lstat(filepath.Join(v.Bricks[0].Root, p))
		_, err1 := os.Lstat(filepath.Join(v.Bricks[1].Root, p))
		if (err == nil) != (err1 == nil) {
			t.Errorf("%s is on one brick only", p)
		}
		return err == nil
	}
	tr := &transcript{t: t, env: env}
	tr.step(ExitFsckProblems, "fsck", "fx", "--rename-stale", "--dry-run")
	tr.step(ExitFsckProblems, "fsck", "fx", "--rename-stale")
	if !exists("player.json") || exists(".player.json.AbvgGY") {
		t.Errorf("the rsync temp file was not renamed")
	}
	for _, p := range []string{".env.sample", "docs/.config.backup"} {
		if !exists(p) {
			t.Errorf("--rename-stale took %s for an rsync temp file", p)
		}
	}
	if exists("env") || exists("docs/config") {
		t.Errorf("--rename-stale made env or docs/config")
	}
	tr.step(ExitFsckProblems, "fsck", "fx", "--rename-stale-path", "/.env.sample")
	if !exists("env") || exists(".env.sample") || !exists("docs/.config.backup") {
		t.Errorf("--rename-stale-path /.env.sample renamed other than it")
	}
	assertGolden(t, scrub(tr.String(), dir))
}

// TestFsckSeesSplitBrain: fsck once said "No problems found" on a volume in
// split-brain. It lists the split-brain as a class of its own that points
// to explain and to the commands that resolve it; a brick checked alone
// cannot tell and says nothing of it.
func TestFsckSeesSplitBrain(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	mustDo(t, err)
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	tr.step(ExitFsckProblems, "fsck", "fx")
	tr.step(ExitFsckClean, "fsck", "--brick", v.Bricks[0].Root, "--volume", "fx")
	tr.step(ExitFsckProblems, "fsck", "fx", "--repair")
	assertGolden(t, scrub(tr.String(), dir))
}

// TestEmptiedBrickIsNotRefilled: a brick directory removed and made again,
// empty, is what a disk that is not mounted looks like: its mount point.
// fsck --repair once stamped it (volume-id, .glusterfs, root gfid) and heal
// full then refilled it, onto the root filesystem in real life. Now fsck
// reports it and stamps nothing, heal refuses, and the directory stays
// empty.
func TestEmptiedBrickIsNotRefilled(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	b1 := v.Bricks[1].Root
	mustDo(t, os.RemoveAll(b1))
	mustDo(t, os.Mkdir(b1, 0o755))
	tr := &transcript{t: t, env: volEnv(dir)}
	tr.step(ExitFsckProblems, "fsck", "fx")
	tr.step(ExitFsckProblems, "fsck", "fx", "--repair")
	tr.step(ExitError, "heal", "fx", "full")
	assertGolden(t, scrub(tr.String(), dir))
	names, _ := os.ReadDir(b1)
	keys, _ := xattr.LList(b1)
	if len(names) != 0 || len(keys) != 0 {
		t.Errorf("the emptied brick got %v and xattrs %v", names, keys)
	}
}
