package main

import (
	"strings"
	"testing"
)

// TestHealExplain pins explain's account of each kind of damage, on bricks
// GlusterFS made: the copies, the changelog matrix, afr's verdict and the
// split-brain commands with what each would keep.
func TestHealExplain(t *testing.T) {
	cases := []struct{ scenario, file string }{
		{"data-split-brain", "/sb-file"},
		{"data-split-brain", "/pend-a"},
		{"metadata-split-brain", "/mode-file"},
		{"metadata-split-brain", "/xattr-file"},
		{"entry-split-brain", "/dirsb"},
		{"gfid-mismatch", "/rootfile"},
		{"gfid-mismatch", "/gdir"},
		{"gfid-mismatch", "<gfid:bbfe8383-3161-46b8-a8a2-201e7dbe37bb>"},
		{"pending-brick-down", "/new-file"},
		{"pending-brick-down", "/dir1/keep"},
		{"replica3-quorum-none", "gfid:2d85cd94-58da-4534-b512-2491136f0e7f"},
		{"distrep-2x2", "/"},
		{"arbiter-only-source", "/data-f"},
		{"arbiter-only-source", "/meta-f"},
		{"arbiter-split-brain", "/f"},
		{"arbiter-pending", "/arb-data"},
	}
	for _, c := range cases {
		name := c.scenario + strings.NewReplacer("/", "_", "<", "", ">", "", ":", "_").Replace(c.file)
		t.Run(name, func(t *testing.T) {
			g := glusterScenario(t, c.scenario)
			code, out, errOut := run(t, g.env, "heal", g.vol, "explain", c.file)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			assertGolden(t, strings.ReplaceAll(out, g.root, g.brickRoot))
		})
	}
}

// TestHealExplainErrors: what explain says of a file no brick has, of
// paths that try to leave the brick, and of a brick it cannot read.
func TestHealExplainErrors(t *testing.T) {
	g := glusterScenario(t, "data-split-brain")
	for _, c := range []struct {
		file string
		code ExitCode
		msg  string
	}{
		{"/no-such-file", ExitError, "heal fxdsb explain /no-such-file: no brick that afrkit can read has it"},
		{"gfid:00000000-0000-0000-0000-00000000abcd", ExitError, "no brick that afrkit can read has it"},
		{"/../../etc/passwd", ExitUsage, "path leaves the brick"},
		{"/.glusterfs/indices", ExitUsage, ".glusterfs is the bricks' internal directory"},
		{"relative/path", ExitUsage, "give a path from the volume's root"},
		{"gfid:nonsense", ExitUsage, "gfid"},
	} {
		code, out, errOut := run(t, g.env, "heal", g.vol, "explain", c.file)
		if code != c.code || !strings.Contains(errOut, c.msg) || out != "" {
			t.Errorf("explain %s: exit %d, stderr %q, stdout %q; want exit %d and %q", c.file, code, errOut, out, c.code, c.msg)
		}
	}
}
