package tui

import (
	"fmt"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/rsynctemp"
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
		file := shellQuote(e.Path)
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
	final, _ := rsynctemp.Final(name)
	tp := shellQuote("MNT" + f.Path)
	fp := shellQuote("MNT" + brick.Join(dir, final))
	switch keep {
	case fsck.ClashKeepTemp:
		return []string{"mv -n " + fp + " /somewhere/safe/ && mv -n " + tp + " " + fp, mountHint}
	case fsck.ClashKeepFinal:
		return []string{"mv -n " + tp + " /somewhere/safe/", mountHint}
	}
	return []string{"mv -n " + tp + " " + fp, mountHint}
}

func glusterUndo(vol string) []string {
	return []string{"gluster volume stop " + vol + "   (then undo here: afrkit writes a stopped volume's bricks)"}
}

// shellQuote is s quoted for bash, to be pasted: as it is when plain,
// in single quotes when printable, and otherwise as $'...' with every
// byte that is not printable ASCII spelt \xHH, so that the command names
// the very name, and no byte a client put in it drives the terminal.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:") == "" {
		return s
	}
	printable := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			printable = false
			break
		}
	}
	if printable {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("'")
	return b.String()
}
