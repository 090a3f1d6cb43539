package tui

import (
	"fmt"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// The commands that do through GlusterFS what an action would do, for a
// started GlusterFS volume: afrkit writes no brick that GlusterFS serves.

// mountHint names the mount point the rename commands assume.
const mountHint = "(MNT: where the volume is mounted with mount -t glusterfs)"

func glusterHeal(vol string) []string {
	return []string{"gluster volume heal " + vol + "   (its self-heal daemon heals every entry listed)"}
}

// glusterResolve is GlusterFS's split-brain command for op on each of
// targets, in a volume of replica bricks a set named bricks.
func glusterResolve(vol string, replica int, bricks []string, op heal.SplitBrainOp, targets []Entry) []string {
	if op.Op == afr.OpMajority {
		// GlusterFS's CLI has no majority; its policy does it in a heal.
		return []string{"gluster volume set " + vol + " cluster.favorite-child-policy majority", "gluster volume heal " + vol}
	}
	var out []string
	if len(op.Kinds) > 0 {
		out = append(out, "(GlusterFS's commands take data and metadata from the same brick)")
	}
	for _, e := range targets {
		file := shellQuote(brick.EscapeName(e.Path))
		if e.Path == "" {
			file = "gfid:" + e.GFID.String()
		}
		switch op.Op {
		case afr.OpSourceBrick:
			b := "?"
			if k := e.Set*replica + op.Brick; k < len(bricks) {
				b = bricks[k]
			}
			out = append(out, fmt.Sprintf("gluster volume heal %s split-brain source-brick %s %s", vol, b, file))
		default:
			out = append(out, fmt.Sprintf("gluster volume heal %s split-brain %s %s", vol, op.Op, file))
		}
	}
	return out
}

// glusterRename is the rename of a stale temp file through a mount, with
// a clash's version not chosen moved out of the volume, never removed.
func glusterRename(f *fsck.Finding, keep fsck.ClashKeep) []string {
	dir, name := brick.SplitPath(f.Path)
	final, _ := fsck.StaleTempFinal(name)
	tp := shellQuote("MNT" + brick.EscapeName(f.Path))
	fp := shellQuote("MNT" + brick.EscapeName(brick.Join(dir, final)))
	switch keep {
	case fsck.ClashKeepTemp:
		return []string{"mv " + fp + " /somewhere/safe/ && mv " + tp + " " + fp, mountHint}
	case fsck.ClashKeepFinal:
		return []string{"mv " + tp + " /somewhere/safe/", mountHint}
	}
	return []string{"mv -n " + tp + " " + fp, mountHint}
}

func glusterUndo(vol string) []string {
	return []string{"gluster volume stop " + vol + "   (then undo here: afrkit writes a stopped volume's bricks)"}
}

// shellQuote is s quoted for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
