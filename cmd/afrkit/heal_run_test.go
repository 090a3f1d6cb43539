package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// scrub replaces what changes from run to run: the test directory, record
// ids and times, gfids (and the handle directories named after them), and
// fsck's repair ids. In this order: a repair id is a heal record id's
// prefix.
func scrub(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	for _, r := range []struct{ re, repl string }{
		{`\d{8}-\d{6}-[0-9a-f]{6}`, "$ID"},
		{`\d{4}-\d\d-\d\dT[\d:.]+Z`, "$TIME"},
		{`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "$GFID"},
		{`\.glusterfs/[0-9a-f]{2}/[0-9a-f]{2}/`, ".glusterfs/$H/"},
		{`\d{8}-\d{6}`, "$QID"},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllLiteralString(s, r.repl)
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
	bricks := func() string { return fixtures.Snapshot(t, dir) }
	clean := func(when string, args ...string) {
		t.Helper()
		before := bricks()
		code, out, errOut := run(t, env, args...)
		if code != ExitOK || out != "Nothing to heal.\n" {
			t.Errorf("%s, afrkit %s: exit %d\n%s%s\nwant exit 0 and \"Nothing to heal.\"", when, strings.Join(args, " "), code, out, errOut)
		}
		if after := bricks(); after != before {
			t.Errorf("%s, afrkit %s changed the bricks:\n%s", when, strings.Join(args, " "), fixtures.LineDiff(before, after))
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
	before := fixtures.Snapshot(t, dir)
	tr.step(ExitError, "heal", "fx", "undo", id)
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("the refused undo changed something:\n%s", fixtures.LineDiff(before, after))
	}
	tr.step(ExitOK, "heal", "fx", "undo", id, "--force", "--dry-run")
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("the dry run changed something:\n%s", fixtures.LineDiff(before, after))
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
		// Names a lookup through GlusterFS would heal (create the missing
		// copy, remove the one the source lost, give a gfid), but that
		// are in no split-brain: the command heals none of them.
		{"bigger-file", "/d/new"}, {"latest-mtime", "/d/gone"}, {"source-brick", "b1", "/d/hand"},
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
			mustDo(t, v.WriteFile("/d/gone", []byte("removed while b1 was down\n")))
			mustDo(t, v.Remove("/d/gone", 1))
			mustDo(t, os.WriteFile(filepath.Join(v.Bricks[0].Root, "d", "hand"), []byte("made on b0's brick\n"), 0o644))
			a := append([]string{"heal", "fx", "split-brain"}, args...)
			for i := range a {
				if a[i] == "b1" {
					a[i] = v.Bricks[1].Root
				}
			}
			before := fixtures.Snapshot(t, dir)
			code, out, errOut := run(t, volEnv(dir), a...)
			named := len(args) > 1 && strings.HasPrefix(args[len(args)-1], "/")
			switch {
			case named && (code != ExitError || !strings.Contains(out, "failed: File not in split-brain.")):
				t.Errorf("exit %d, want 1 and \"File not in split-brain\":\n%s%s", code, out, errOut)
			case !named && (code != ExitOK || !strings.Contains(out, "Number of healed entries: 0")):
				t.Errorf("exit %d, want 0 and no healed entry:\n%s%s", code, out, errOut)
			}
			if after := fixtures.Snapshot(t, dir); after != before {
				t.Errorf("the refused command changed the bricks:\n%s", fixtures.LineDiff(before, after))
			}
		})
	}
}

// TestHealKeepsUnexplainedDifference: copies that differ with no counter
// to say which is right (hello.txt edited on b0's brick; new.txt made on
// both bricks behind the volume's back, with different content). heal
// full follows GlusterFS's choice of source (the bigger copy), and keeps
// the copy it replaces in the keep store with a history record that
// names it an unexplained difference; the dry run plans the keeps; undo
// brings a replaced copy back. heal full used to overwrite both and keep
// nothing.
func TestHealKeepsUnexplainedDifference(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	edited := "hello, world, edited on b0's brick\n"
	mustDo(t, os.WriteFile(filepath.Join(v.Bricks[0].Root, "hello.txt"), []byte(edited), 0o644))
	mine, theirs := "b0's new file, the longer one\n", "b1's new file\n"
	mustDo(t, os.WriteFile(filepath.Join(v.Bricks[0].Root, "new.txt"), []byte(mine), 0o644))
	mustDo(t, os.WriteFile(filepath.Join(v.Bricks[1].Root, "new.txt"), []byte(theirs), 0o644))
	env := volEnv(dir)
	tr := &transcript{t: t, env: env}
	before := fixtures.Snapshot(t, dir)
	// No index lists them: heal info names them when asked to crawl.
	var info struct {
		Unexplained []unexplainedJSON `json:"unexplained"`
	}
	mustDo(t, json.Unmarshal([]byte(tr.step(ExitOK, "heal", "fx", "info", "--json", "--unexplained")), &info))
	var named []string
	for _, u := range info.Unexplained {
		named = append(named, u.Path)
	}
	if !slices.Contains(named, "/hello.txt") || !slices.Contains(named, "/new.txt") {
		t.Errorf("heal info --json --unexplained names %q, want /hello.txt and /new.txt", named)
	}
	tr.step(ExitOK, "heal", "fx", "full", "--dry-run")
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("the dry run changed something:\n%s", fixtures.LineDiff(before, after))
	}
	// One job: the history lists records in the order they were made.
	tr.step(ExitOK, "heal", "fx", "full", "--jobs", "1")
	hist := tr.step(ExitOK, "heal", "fx", "history")
	tr.step(ExitOK, "heal", "fx", "full")
	mustDo(t, json.Unmarshal([]byte(tr.step(ExitOK, "heal", "fx", "info", "--json", "--unexplained")), &info))
	if len(info.Unexplained) != 0 {
		t.Errorf("after heal full, heal info --unexplained still names %+v", info.Unexplained)
	}
	assertGolden(t, scrub(tr.String(), dir))

	// Every version is still somewhere: in the volume, or kept.
	for _, want := range []string{"hello, world\n", edited, mine, theirs} {
		found := false
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if data, err := os.ReadFile(p); err == nil && string(data) == want {
					found = true
				}
			}
			return nil
		})
		if !found {
			t.Errorf("%q is nowhere on the bricks any more", want)
		}
	}
	// Undo of hello.txt's record puts b1's replaced copy back.
	var id string
	for _, line := range strings.Split(hist, "\n") {
		if strings.Contains(line, "/hello.txt") {
			id = strings.Fields(line)[0]
		}
	}
	if id == "" {
		t.Fatalf("no history record for /hello.txt:\n%s", hist)
	}
	tr.step(ExitOK, "heal", "fx", "undo", id)
	got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, "hello.txt"))
	mustDo(t, err)
	if string(got) != "hello, world\n" {
		t.Errorf("after undo b1's hello.txt holds %q", got)
	}
}

// TestDryRunsTellTheTruth: a split-brain command's --dry-run prints the
// plan the run then takes, and where the run would fail, says that it
// would and exits 1; it changes nothing either way. The dry run of
// bigger-file printed "Healed /hello.txt." (of what it had not done),
// majority's said "nothing to do" where the run then failed, and
// source-brick's counted "healed entries".
func TestDryRunsTellTheTruth(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	mustDo(t, err)
	tr := &transcript{t: t, env: volEnv(dir)}
	before := fixtures.Snapshot(t, dir)
	tr.step(ExitError, "heal", "fx", "split-brain", "majority", "/hello.txt", "--dry-run")
	tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt", "--dry-run")
	tr.step(ExitOK, "heal", "fx", "split-brain", "source-brick", v.Bricks[1].Root, "--dry-run")
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("a dry run changed something:\n%s", fixtures.LineDiff(before, after))
	}
	tr.step(ExitError, "heal", "fx", "split-brain", "majority", "/hello.txt")
	if after := fixtures.Snapshot(t, dir); after != before {
		t.Fatalf("the failed command changed something:\n%s", fixtures.LineDiff(before, after))
	}
	tr.step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt")
	assertGolden(t, scrub(tr.String(), dir))
}

// TestSplitBrainKind: --kind resolves a file's data split-brain from one
// brick and, in a second command, its metadata split-brain from another.
func TestSplitBrainKind(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.Build(dir, "data-and-metadata-split-brain", 2); err != nil {
		t.Fatal(err)
	}
	tr := &transcript{t: t, env: volEnv(dir)}
	tr.step(ExitOK, "heal", "fx", "split-brain", "source-brick", "b1", "/both.txt", "--kind", "data")
	tr.step(ExitOK, "heal", "fx", "info", "split-brain")
	tr.step(ExitOK, "heal", "fx", "split-brain", "source-brick", "b0", "/both.txt", "--kind", "metadata")
	tr.step(ExitOK, "heal", "fx", "info")
	assertGolden(t, scrub(tr.String(), dir))
	if err := fixtures.BothFromB1AndB0(dir, 2); err != nil {
		t.Error(err)
	}
}

// TestSourceBrickOverAnUnexplainedDifference: copies that differ with no
// counter to say why (b1's written behind AFR's back) are not in
// split-brain, and a heal would take the bigger one, as GlusterFS would;
// source-brick names the right one instead (an afrkit extension: GlusterFS
// says "File not in split-brain"), keeps the other in the history, and
// undo brings it back.
func TestSourceBrickOverAnUnexplainedDifference(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/quiet.txt", "/agree.txt"} {
		if err := v.WriteFile(p, []byte("as written\n")); err != nil {
			t.Fatal(err)
		}
	}
	b1 := filepath.Join(dir, "b1", "quiet.txt")
	if err := os.WriteFile(b1, []byte("as written, then changed on b1 alone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &transcript{t: t, env: volEnv(dir)}
	tr.step(ExitOK, "heal", "fx", "split-brain", "source-brick", "b0", "/quiet.txt", "--dry-run")
	tr.step(ExitOK, "heal", "fx", "split-brain", "source-brick", "b0", "/quiet.txt")
	if got, _ := os.ReadFile(b1); string(got) != "as written\n" {
		t.Errorf("b1 after keeping b0's copy: %q", got)
	}
	hist := tr.step(ExitOK, "heal", "fx", "history")
	id := strings.Fields(hist)[0]
	tr.step(ExitOK, "heal", "fx", "undo", id)
	if got, _ := os.ReadFile(b1); string(got) != "as written, then changed on b1 alone\n" {
		t.Errorf("b1 after the undo: %q, want its own version back", got)
	}
	// Copies that agree are not in split-brain, as GlusterFS says.
	tr.step(ExitError, "heal", "fx", "split-brain", "source-brick", "b0", "/agree.txt")
	assertGolden(t, scrub(tr.String(), dir))
}
