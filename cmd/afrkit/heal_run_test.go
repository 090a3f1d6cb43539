package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// scrub replaces what changes from run to run: the test directory, record
// ids and times, gfids (and the handle directories named after them), and
// quarantine ids.
func scrub(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	for re, repl := range map[string]string{
		`\d{8}-\d{6}-[0-9a-f]{6}`:                                      "$ID",
		`\d{4}-\d\d-\d\dT[\d:.]+Z`:                                     "$TIME",
		`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`: "$GFID",
		`\.glusterfs/[0-9a-f]{2}/[0-9a-f]{2}/`:                         ".glusterfs/$H/",
		`quarantine/\d{8}-\d{6}`:                                       "quarantine/$QID",
		`quarantine \d{8}-\d{6}`:                                       "quarantine $QID",
		`--restore \d{8}-\d{6}`:                                        "--restore $QID",
	} {
		s = regexp.MustCompile(re).ReplaceAllLiteralString(s, repl)
	}
	return s
}

// transcript runs afrkit commands as a user would and records each with
// its output, for a golden file.
type transcript struct {
	strings.Builder
	t   *testing.T
	env testEnv
}

// step runs afrkit with args, fails the test unless it exits with want,
// and returns its standard output.
func (tr *transcript) step(want ExitCode, args ...string) string {
	tr.t.Helper()
	code, out, errOut := run(tr.t, tr.env, args...)
	if code != want {
		tr.t.Fatalf("afrkit %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
	}
	tr.WriteString("$ afrkit " + strings.Join(args, " ") + "\n" + out + errOut + "\n")
	return out
}

// TestHealCommands runs the heal commands a user would, on a volume with a
// pending entry heal and a data split-brain: a dry run, a heal that leaves
// the split-brain, the policy set with volume set, the heal that resolves
// it, the history, and an undo that brings the split-brain back.
func TestHealCommands(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/docs/new.txt", []byte("made while b1 was down\n"), 1); err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	step := tr.step
	step(ExitOK, "heal", "fx", "--dry-run")
	step(ExitError, "heal", "fx")
	step(ExitError, "heal", "fx", "split-brain", "bigger-file", "/docs/new.txt")
	step(ExitUsage, "volume", "set", "fx", "cluster.favorite-child-policy", "newest")
	step(ExitOK, "volume", "set", "fx", "cluster.favorite-child-policy", "size")
	step(ExitOK, "heal", "fx")
	hist := step(ExitOK, "heal", "fx", "history")
	id := strings.Fields(hist)[0]
	step(ExitOK, "heal", "fx", "undo", id)
	step(ExitOK, "heal", "fx", "info", "split-brain")
	step(ExitError, "heal", "fx", "undo", id)
	assertGolden(t, scrub(tr.String(), dir))

	// The undo put b0's losing copy back.
	data, err := os.ReadFile(filepath.Join(dir, "b0", "hello.txt"))
	if err != nil || string(data) != "written while b1 was down\n" {
		t.Errorf("b0's /hello.txt after undo: %q, %v", data, err)
	}
}

// TestHistoryTornLine: a resolution's record torn by a crash (its line
// cut short, no newline) once had the next record glued onto it, and
// history and undo failed. Now the next record starts a line of its own,
// history says which line it skipped, and the new record can be undone.
func TestHistoryTornLine(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, v.WriteFile("/second.txt", []byte("first\n")))
	mustDo(t, v.Overwrite("/second.txt", []byte("b0's longer version\n"), 1))
	mustDo(t, v.Overwrite("/second.txt", []byte("b1's version\n"), 0))
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt")
	log := filepath.Join(env.state, "history", "fx.jsonl")
	fi, err := os.Stat(log)
	mustDo(t, err)
	mustDo(t, os.Truncate(log, fi.Size()-40))
	tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/second.txt")
	hist := tr.step(ExitOK, "heal", "fx", "history")
	tr.step(ExitOK, "heal", "fx", "undo", strings.Fields(hist)[0])
	tr.step(ExitOK, "heal", "fx", "info", "split-brain")
	assertGolden(t, scrub(tr.String(), dir))
}

// TestHealFullIdempotent: heal full on a clean volume, or run again after a
// heal, changes nothing and says so. It once reported "Healed 3 entry" on
// every run: every directory a full crawl visits was counted.
func TestHealFullIdempotent(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	env := volEnv(dir)
	bricks := func() string { return snapshot(t, dir) }
	clean := func(when string, args ...string) {
		t.Helper()
		before := bricks()
		code, out, errOut := run(t, env, args...)
		if code != ExitOK || out != "Nothing to heal.\n" {
			t.Errorf("%s, afrkit %s: exit %d\n%s%s\nwant exit 0 and \"Nothing to heal.\"", when, strings.Join(args, " "), code, out, errOut)
		}
		if after := bricks(); after != before {
			t.Errorf("%s, afrkit %s changed the bricks:\n%s", when, strings.Join(args, " "), lineDiff(before, after))
		}
	}
	clean("on a clean volume", "heal", "fx", "full")
	clean("on a clean volume", "heal", "fx")
	mustDo(t, v.Mkdir("/new", 1))
	mustDo(t, v.WriteFile("/new/f", []byte("made while b1 was down\n"), 1))
	if code, out, errOut := run(t, env, "heal", "fx", "full"); code != ExitOK || !strings.HasPrefix(out, "Healed ") {
		t.Fatalf("heal full with b1 behind: exit %d\n%s%s", code, out, errOut)
	}
	clean("after a heal", "heal", "fx", "full")
	clean("after a heal", "heal", "fx")
}

// TestUndoOverNewerContent: after a resolution the file was written again;
// undo once put the old losing copy back over that newer content. Now
// undo compares the content with the history's hash, refuses (changing
// nothing) and names the file; with --force it keeps the newer content in
// the keep store first.
func TestUndoOverNewerContent(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	mustDo(t, err)
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt")
	hist := tr.step(ExitOK, "heal", "fx", "history")
	id := strings.Fields(hist)[0]
	newer := "written after the resolution\n"
	mustDo(t, v.Overwrite("/hello.txt", []byte(newer)))
	before := snapshot(t, dir)
	tr.step(ExitError, "heal", "fx", "undo", id)
	if after := snapshot(t, dir); after != before {
		t.Fatalf("the refused undo changed something:\n%s", lineDiff(before, after))
	}
	tr.step(ExitOK, "heal", "fx", "undo", id, "--force", "--dry-run")
	if after := snapshot(t, dir); after != before {
		t.Fatalf("the dry run changed something:\n%s", lineDiff(before, after))
	}
	tr.step(ExitOK, "heal", "fx", "undo", id, "--force")
	tr.step(ExitOK, "heal", "fx", "history")
	assertGolden(t, scrub(tr.String(), dir))

	kept, _ := filepath.Glob(filepath.Join(dir, "b*", ".glusterfs", "afrkit", "kept", id+"-undo", "*"))
	found := false
	for _, k := range kept {
		if data, err := os.ReadFile(k); err == nil && string(data) == newer {
			found = true
		}
	}
	if !found {
		t.Errorf("the newer content is not in the undo's keep store: %v", kept)
	}
}

// TestSplitBrainRefusalsChangeNothing: split-brain commands on entries
// that are not in split-brain (a directory and a file with pending heals)
// fail with "File not in split-brain", or heal no entry, and leave every
// brick byte-identical: names, content, modes, times, xattrs. The command
// on /d/f once healed its directory's mode on the way (the named lookup of
// /d/f healed all of /d), and every command created the heal lock.
func TestSplitBrainRefusalsChangeNothing(t *testing.T) {
	for _, args := range [][]string{
		{"bigger-file", "/d"}, {"latest-mtime", "/d"}, {"majority", "/d"}, {"source-brick", "b1", "/d"},
		{"bigger-file", "/d/f"}, {"latest-mtime", "/d/f"}, {"source-brick", "b1", "/d/f"},
		{"source-brick", "b1"}, {"majority"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			v, err := fixtures.Healthy(dir, "fx", 2)
			mustDo(t, err)
			mustDo(t, v.Mkdir("/d"))
			mustDo(t, v.WriteFile("/d/f", []byte("x\n")))
			mustDo(t, v.Chmod("/d", 0o700, 1))
			mustDo(t, v.Chmod("/d/f", 0o600, 1))
			mustDo(t, v.WriteFile("/d/new", []byte("made while b1 was down\n"), 1))
			a := append([]string{"heal", "fx", "split-brain"}, args...)
			for i := range a {
				if a[i] == "b1" {
					a[i] = v.Bricks[1].Root
				}
			}
			before := snapshot(t, dir)
			code, out, errOut := run(t, volEnv(dir), a...)
			named := len(args) > 1 && strings.HasPrefix(args[len(args)-1], "/")
			switch {
			case named && (code != ExitError || !strings.Contains(out, "failed: File not in split-brain.")):
				t.Errorf("exit %d, want 1 and \"File not in split-brain\":\n%s%s", code, out, errOut)
			case !named && (code != ExitOK || !strings.Contains(out, "Number of healed entries: 0")):
				t.Errorf("exit %d, want 0 and no healed entry:\n%s%s", code, out, errOut)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the refused command changed the bricks:\n%s", lineDiff(before, after))
			}
		})
	}
}
