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
	env := testEnv{dir: dir, state: filepath.Join(dir, "state"), glusterd: filepath.Join(dir, "no-glusterd")}
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
