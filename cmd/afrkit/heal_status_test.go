package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// scrubStatus replaces what depends on how fast the test ran (the rate
// between two looks a few milliseconds apart) and on its directory's
// length (the widths of the brick table's columns).
func scrubStatus(s string) string {
	s = regexp.MustCompile(`[\d.]+ entries/s( over the last \S+)?`).ReplaceAllLiteralString(s, "$RATE")
	return regexp.MustCompile(`(?m)^(BRICK|localhost:).*$`).ReplaceAllStringFunc(s, func(line string) string {
		return regexp.MustCompile(` {2,}`).ReplaceAllLiteralString(line, "  ")
	})
}

// TestHealStatusAndWait follows a backlog as a user would: status on the
// first look, a wait that times out while nothing heals it, the heal,
// status again (what left the indexes since the first look), a wait
// that ends on the split-brain left, its resolution, a wait that ends
// at once, and a brick gone: status says so, and wait goes on waiting.
func TestHealStatusAndWait(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/docs/a.txt", "/docs/b.txt", "/docs/c.txt"} {
		if err := v.WriteFile(p, []byte("made while b1 was down\n"), 1); err != nil {
			t.Fatal(err)
		}
	}
	tr := &transcript{t: t, env: volEnv(dir)}
	// No heal daemon answers: the test does not ask one the machine
	// may run.
	noDaemon := []string{"--heald-socket", filepath.Join(dir, "no-heald.sock")}
	step := func(want ExitCode, args ...string) string {
		t.Helper()
		if len(args) > 2 && args[0] == "heal" && (args[2] == "status" || args[2] == "wait") {
			args = append(args, noDaemon...)
		}
		return tr.step(want, args...)
	}
	step(ExitOK, "heal", "fx", "status")
	out := step(ExitOK, "heal", "fx", "status", "--json")
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != "pending" || st.Entries != 6 || st.SplitBrain != 2 || st.FirstLook || len(st.Bricks) != 2 || st.Bricks[0].Entries != 5 {
		t.Errorf("status --json: %+v", st)
	}
	step(ExitTimedOut, "heal", "fx", "wait", "--timeout", "300ms", "--interval", "100ms")
	step(ExitError, "heal", "fx")
	step(ExitOK, "heal", "fx", "status")
	step(ExitError, "heal", "fx", "wait", "--interval", "100ms")
	step(ExitOK, "heal", "fx", "split-brain", "bigger-file", "/hello.txt")
	step(ExitOK, "heal", "fx", "wait", "--interval", "100ms")
	step(ExitOK, "heal", "fx", "status")
	// b1's disk is gone: its entries are not counted, and it says why.
	if err := os.Rename(filepath.Join(dir, "b1"), filepath.Join(dir, "b1.gone")); err != nil {
		t.Fatal(err)
	}
	step(ExitOK, "heal", "fx", "status")
	step(ExitTimedOut, "heal", "fx", "wait", "--timeout", "300ms", "--interval", "100ms")
	step(ExitUsage, "heal", "fx", "wait", "--json")
	step(ExitUsage, "heal", "fx", "wait", "--interval", "0s")
	assertGolden(t, scrubStatus(scrub(tr.String(), dir)))
}
