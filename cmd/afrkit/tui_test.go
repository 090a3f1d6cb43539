package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
)

// tmux drives afrkit in a detached tmux session: a real terminal.
type tmux struct {
	t    *testing.T
	bin  string
	name string
}

// startTmux runs afrkit args (this test binary as afrkit) in a tmux
// session of width x height, killed when the test ends.
func startTmux(t *testing.T, env testEnv, width, height int, args ...string) *tmux {
	t.Helper()
	bin, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (.ci/run installs it)")
		}
		t.Skip("needs tmux")
	}
	// A session's name is the test's and this process's: two runs of the
	// tests on one machine do not meet.
	tm := &tmux{t: t, bin: bin, name: "afrkit-" + strconv.Itoa(os.Getpid()) + "-" + strings.ReplaceAll(t.Name(), "/", "-")}
	argv := append([]string{"new-session", "-d", "-s", tm.name, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height),
		"env", envRunMain + "=1", "AFRKIT_STATE_DIR=" + env.state, "TERM=xterm-256color", "NO_COLOR=1",
		os.Args[0], "--glusterd-dir", env.glusterd}, args...)
	if out, err := exec.Command(bin, argv...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(bin, "kill-session", "-t", tm.name).Run() })
	return tm
}

// screen is what the terminal shows now.
func (tm *tmux) screen() string {
	out, err := exec.Command(tm.bin, "capture-pane", "-p", "-t", tm.name).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// await waits until the screen shows want.
func (tm *tmux) await(want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q; it shows:\n%s", want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *tmux) keys(keys ...string) {
	tm.t.Helper()
	if out, err := exec.Command(tm.bin, append([]string{"send-keys", "-t", tm.name}, keys...)...).CombinedOutput(); err != nil {
		tm.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// TestTuiInATerminal: afrkit tui in a real terminal (tmux) opens a
// volume with a data split-brain, lists it, shows its copies side by
// side with AFR's verdict and the commands that would resolve it (a page
// down), then resolves it by keeping the second brick's copy (plan, y):
// the bricks hold b1's copy. From the history it undoes that: b0's copy is
// back, with the split-brain, and the history records both.
func TestTuiInATerminal(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	tm := startTmux(t, env, 100, 30, "tui")
	tm.await("> fx")
	tm.keys("Enter")
	tm.await("1 entry: 1 split-brain")
	tm.keys("Enter")
	s := tm.await("What AFR decides")
	for _, want := range []string{"fx: /hello.txt", "Copies", "b0", "b1", "data: split-brain, no source"} {
		if !strings.Contains(s, want) {
			t.Errorf("the entry view lacks %q:\n%s", want, s)
		}
	}
	// The commands are below the first page.
	tm.keys("PageDown")
	s = tm.await("Commands that would resolve it")
	if !strings.Contains(s, "afrkit heal fx split-brain bigger-file /hello.txt") {
		t.Errorf("the entry view offers no command:\n%s", s)
	}
	// Resolve it by keeping the second brick's copy: the plan first.
	tm.keys("s")
	tm.await("Which copy is right?")
	tm.keys("Down", "Enter")
	tm.await("y run it")
	tm.keys("y")
	tm.await("Healed /hello.txt.")
	tm.keys("Enter")
	tm.await("0 entries")
	resolved := map[int][]byte{}
	for i := range 2 {
		resolved[i], _ = os.ReadFile(filepath.Join(v.V.Bricks[i].Path, "hello.txt"))
	}
	// Then undo it from the history: the split-brain is back.
	tm.keys("h")
	tm.await("source-brick: kept b1")
	tm.keys("Enter")
	tm.await("would restore b0's data")
	tm.keys("y")
	tm.await("Restored b0's data of /hello.txt.")
	tm.keys("Enter", "Escape")
	tm.await("1 entry: 1 split-brain")
	tm.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command(tm.bin, "has-session", "-t", tm.name).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not end afrkit tui:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The resolution had b1's copy everywhere; the undo put b0's back,
	// and the history records both.
	if len(resolved[1]) == 0 || !bytes.Equal(resolved[0], resolved[1]) {
		t.Errorf("after keeping b1's copy: b0 held %q, b1 %q", resolved[0], resolved[1])
	}
	if b0, _ := os.ReadFile(filepath.Join(v.V.Bricks[0].Path, "hello.txt")); bytes.Equal(b0, resolved[1]) {
		t.Errorf("after the undo b0 still holds b1's copy %q", b0)
	}
	if code, out, _ := run(t, env, "heal", "fx", "info", "split-brain"); code != ExitOK || !strings.Contains(out, "/hello.txt") {
		t.Errorf("heal info split-brain after the undo:\n%s", out)
	}
	if code, out, _ := run(t, env, "heal", "fx", "history"); code != ExitOK || !strings.Contains(out, "source-brick") || !strings.Contains(out, "undone by") {
		t.Errorf("the resolution and its undo are not in the history:\n%s", out)
	}
}

// TestTuiRenamesAStaleTempFile: in a real terminal, the stale rsync temp
// file fsck finds is renamed to its final name from the TUI (r, the plan,
// y), on every brick, and the rename is in the history for undo.
func TestTuiRenamesAStaleTempFile(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "stale-temp", 2)
	if err != nil {
		t.Fatal(err)
	}
	env := volEnv(dir)
	tm := startTmux(t, env, 100, 30, "tui", "fx")
	tm.await("> stale-temp")
	tm.keys("Enter")
	tm.await("r renames it")
	tm.keys("r")
	tm.await("y run it")
	tm.keys("y")
	tm.await("Done")
	tm.keys("Enter")
	tm.await("0 entries")
	tm.keys("q")
	for i, b := range v.V.Bricks {
		if _, err := os.Stat(filepath.Join(b.Path, "player.json")); err != nil {
			t.Errorf("b%d: no player.json after the rename: %v", i, err)
		}
		if _, err := os.Lstat(filepath.Join(b.Path, fixtures.StaleTempPath)); !os.IsNotExist(err) {
			t.Errorf("b%d: the temp file is still there: %v", i, err)
		}
	}
	if code, out, _ := run(t, env, "heal", "fx", "history"); code != ExitOK || !strings.Contains(out, "fsck --rename-stale-path /.player.json.AbvgGY") {
		t.Errorf("the rename is not in the history:\n%s", out)
	}
}
