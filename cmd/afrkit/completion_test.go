package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/fixtures"
)

// TestCompletionDynamic completes as a shell does, through cobra's hidden
// __complete command, on an afrkit volume (fx), a GlusterFS volume
// (fxpend), and a registry that cannot be read. Each answer is the
// candidates, then ":DIRECTIVE" (4 = no file names, 16 = directories only).
// (TestCompletion, in cmd_test.go, checks the script itself.)
func TestCompletionDynamic(t *testing.T) {
	env := newEnv(t)
	if _, err := fixtures.Healthy(env.dir, "fx", 2); err != nil {
		t.Fatal(err)
	}
	b0 := filepath.Join(env.dir, "b0")
	var tr strings.Builder
	// c completes args as bash would on TAB and records the answer; the
	// word being completed, often empty, is shown quoted.
	c := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, env, append([]string{"__complete"}, args...)...)
		// Cobra reports the directive on stderr, which the shell discards;
		// anything else there is a message that should not be.
		for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if !strings.HasPrefix(l, "Completion ended with directive: ") {
				t.Errorf("__complete %q: stderr %q", args, errOut)
			}
		}
		if code != ExitOK {
			t.Fatalf("__complete %q: exit %d", args, code)
		}
		words := append([]string{}, args...)
		words[len(words)-1] = "'" + words[len(words)-1] + "'"
		fmt.Fprintf(&tr, "$ afrkit __complete %s\n%s\n", strings.Join(words, " "), out)
		return out
	}
	// Checked here as well as in the golden file, so that -update cannot
	// bless a tree without addCompletions.
	if out := c("heal", ""); !strings.Contains(out, "fx\tafrkit\n") || !strings.Contains(out, "fxpend\tglusterd\n") {
		t.Errorf("heal VOL does not complete the volume names:\n%s", out)
	}
	c("volume", "set", "")
	c("fsck", "--volume", "fxp")
	c("heal", "fx", "")
	c("heal", "fx", "info", "")
	c("heal", "fx", "split-brain", "")
	if out := c("heal", "fx", "split-brain", "source-brick", ""); !strings.Contains(out, "localhost:"+b0+"\tfx-client-0\n") {
		t.Errorf("source-brick does not complete the bricks:\n%s", out)
	}
	c("heal", "fx", "split-brain", "source-brick", filepath.Join(env.dir, "b"))
	c("heal", "fxpend", "split-brain", "source-brick", "")
	c("heal", "fx", "split-brain", "latest-mtime", "")
	c("volume", "set", "fx", "")
	c("volume", "set", "fx", "cluster.favorite-child-policy", "")
	c("volume", "set", "fx", "cluster.quorum-type", "a")
	c("volume", "set", "fx", "cluster.quorum-count", "")
	c("volume", "reset-brick", "fx", "")
	c("volume", "replace-brick", "fx", "localhost:"+b0, "")
	c("volume", "create", "new", "")
	c("volume", "create", "new", "replica", "2", "")
	c("heal", "fx", "--algorithm", "")
	c("heal", "fx", "--jobs", "")
	c("volume", "list", "--xattr-ns", "")
	c("man", "")

	// A registry that cannot be read still completes glusterd's volumes,
	// and a volume it cannot look up completes to nothing, without error.
	broken := testEnv{dir: env.dir, state: filepath.Join(env.dir, "broken-state"), glusterd: env.glusterd}
	if err := os.MkdirAll(broken.state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken.state, "volumes"), []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env = broken
	c("heal", "")
	c("heal", "fx", "split-brain", "source-brick", "")
	assertGolden(t, scrub(tr.String(), env.dir))
}

// TestCompletionTable: every command and flag the completion table names
// exists, so a renamed command or flag does not silently lose its
// completion.
func TestCompletionTable(t *testing.T) {
	io, _, _ := TestIO()
	root := NewCmdRoot(io)
	cmds := map[string]*cobra.Command{}
	walkCommands(root, func(cmd *cobra.Command) { cmds[commandKey(cmd)] = cmd })
	args, flags := completionTable(completer{})
	for key := range args {
		if cmds[key] == nil {
			t.Errorf("completionTable: no command %q", key)
		}
	}
	for key, named := range flags {
		cmd := cmds[key]
		if cmd == nil {
			t.Errorf("completionTable: no command %q", key)
			continue
		}
		for name := range named {
			if cmd.Flag(name) == nil {
				t.Errorf("completionTable: command %q has no flag --%s", key, name)
			}
		}
	}
}

// TestCompletionWordsAreAccepted: what completion offers, the commands
// take. The heal words and info modes are written out twice (NewCmdHeal's
// switch and healWords); volume set's values come from settable itself.
func TestCompletionWordsAreAccepted(t *testing.T) {
	env := newEnv(t)
	for _, w := range healWords {
		word, _, _ := strings.Cut(w, "\t")
		if _, _, errOut := run(t, env, "heal", "nope", word); strings.Contains(errOut, "unknown subcommand") {
			t.Errorf("heal VOL %s: %s", word, errOut)
		}
	}
	for _, w := range healInfoModes {
		mode, _, _ := strings.Cut(w, "\t")
		if _, _, errOut := run(t, env, "heal", "nope", "info", mode); strings.Contains(errOut, "usage") {
			t.Errorf("heal VOL info %s: %s", mode, errOut)
		}
	}
	for key, opt := range settable {
		err := opt.check("\x00bogus")
		if err == nil {
			t.Fatalf("settable[%s] accepts anything", key)
		}
		for _, v := range opt.values {
			if err := opt.check(v); err != nil {
				t.Errorf("completion offers %s %s: %v", key, v, err)
			}
		}
	}
}
