package main

import (
	"encoding/json"
	"fmt"
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

// TestFsckClashKeeps: a stale rsync temp file whose final name holds other
// content is left alone until a person chooses the version that keeps the
// name; the other version goes to the quarantine on every brick, and the
// undo puts both names back as they were.
func TestFsckClashKeeps(t *testing.T) {
	const tempData, finalData = `{"name":"player","level":2}` + "\n", `{"name":"player","level":1}` + "\n"
	for _, keep := range []string{"temp", "final"} {
		t.Run(keep, func(t *testing.T) {
			dir := t.TempDir()
			v, err := fixtures.Healthy(dir, "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.WriteFile(fixtures.StaleTempPath, []byte(tempData)); err != nil {
				t.Fatal(err)
			}
			if err := v.WriteFile("/player.json", []byte(finalData)); err != nil {
				t.Fatal(err)
			}
			tr := &transcript{t: t, env: volEnv(dir)}
			names := func() (temp, final []string) {
				for _, b := range []string{"b0", "b1"} {
					td, _ := os.ReadFile(filepath.Join(dir, b, fixtures.StaleTempPath))
					fd, _ := os.ReadFile(filepath.Join(dir, b, "player.json"))
					temp, final = append(temp, string(td)), append(final, string(fd))
				}
				return temp, final
			}
			tr.step(ExitFsckProblems, "fsck", "fx", "--rename-stale-path", fixtures.StaleTempPath)
			tr.step(ExitFsckProblems, "fsck", "fx", "--rename-stale-path", fixtures.StaleTempPath, "--clash-keeps", keep, "--dry-run")
			if temp, final := names(); temp[0] != tempData || final[0] != finalData || temp[1] != tempData || final[1] != finalData {
				t.Fatalf("the dry run changed the bricks: temp files %q, /player.json %q", temp, final)
			}
			tr.step(ExitFsckRepaired, "fsck", "fx", "--rename-stale-path", fixtures.StaleTempPath, "--clash-keeps", keep)
			want, lost := tempData, finalData
			if keep == "final" {
				want, lost = finalData, tempData
			}
			temp, final := names()
			for i := range 2 {
				if temp[i] != "" || final[i] != want {
					t.Errorf("b%d after keeping %s: the temp file holds %q, /player.json %q (want it gone, and %q)", i, keep, temp[i], final[i], want)
				}
				kept, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("b%d", i), ".glusterfs", "afrkit", "kept", "*", "*"))
				found := false
				for _, k := range kept {
					if data, err := os.ReadFile(k); err == nil && string(data) == lost {
						found = true
					}
				}
				if !found {
					t.Errorf("b%d: the version not chosen (%q) is not in the quarantine: %v", i, lost, kept)
				}
			}
			tr.step(ExitOK, "fsck", "fx")
			tr.step(ExitOK, "heal", "fx", "history")
			q, _ := filepath.Glob(filepath.Join(dir, "b0", ".glusterfs", "afrkit", "kept", "*", "manifest.jsonl"))
			if len(q) != 1 {
				t.Fatalf("quarantine manifests on b0: %v", q)
			}
			tr.step(ExitOK, "heal", "fx", "undo", filepath.Base(filepath.Dir(q[0])))
			if temp, final := names(); temp[0] != tempData || final[0] != finalData || temp[1] != tempData || final[1] != finalData {
				t.Errorf("after the undo: temp files %q, /player.json %q; want both back as they were", temp, final)
			}
			// Back as it was: the clash alone, no handle or gfid2path amiss.
			tr.step(ExitFsckProblems, "fsck", "fx")
			assertGolden(t, scrub(tr.String(), dir))
		})
	}
}
