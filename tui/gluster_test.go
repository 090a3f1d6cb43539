package tui

import (
	"slices"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// TestGlusterCommands: what the TUI offers to run through GlusterFS on a
// started volume: the split-brain command naming the brick of the
// entry's own replica set, paths quoted for a shell, majority as the
// volume's policy, and renames through a mount that move the version not
// chosen out of the volume rather than remove it.
func TestGlusterCommands(t *testing.T) {
	bricks := []string{"h:/b1", "h:/b2", "h:/b3", "h:/b4"}
	targets := []Entry{{Set: 1, Path: "/it's here.txt"}, {Set: 0, GFID: afr.GFID{1}}}
	got := glusterResolve("gv", 2, bricks, heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: 1}, targets)
	want := []string{
		`gluster volume heal gv split-brain source-brick h:/b4 '/it'\''s here.txt'`,
		"gluster volume heal gv split-brain source-brick h:/b2 gfid:01000000-0000-0000-0000-000000000000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("source-brick:\n%q\nwant\n%q", got, want)
	}
	if got := glusterResolve("gv", 2, bricks, heal.SplitBrainOp{Op: afr.OpMajority, Brick: -1}, targets); !slices.Contains(got, "gluster volume set gv cluster.favorite-child-policy majority") {
		t.Errorf("majority: %q", got)
	}
	// A name a client put escape sequences and a quote in: the command
	// names it byte for byte, and shows no control byte.
	hostile := []Entry{{Path: "/a\x1b]0;x\x07'b\\c\xff"}}
	if got := glusterResolve("gv", 2, bricks, heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}, hostile)[0]; got != `gluster volume heal gv split-brain bigger-file $'/a\x1b]0;x\x07\'b\\c\xff'` {
		t.Errorf("a hostile name: %s", got)
	}
	f := &fsck.Finding{Path: "/d/.player.json.AbvgGY"}
	for keep, want := range map[fsck.ClashKeep]string{
		fsck.ClashUnchosen:  "mv -n MNT/d/.player.json.AbvgGY MNT/d/player.json",
		fsck.ClashKeepTemp:  "mv -n MNT/d/player.json /somewhere/safe/ && mv -n MNT/d/.player.json.AbvgGY MNT/d/player.json",
		fsck.ClashKeepFinal: "mv -n MNT/d/.player.json.AbvgGY /somewhere/safe/",
	} {
		if got := glusterRename(f, keep); got[0] != want {
			t.Errorf("rename keeping %d: %q, want %q", keep, got[0], want)
		}
	}
}
