package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// parseExplainTarget parses the FILE of `heal VOL explain FILE` and of the
// split-brain commands: a volume path, or gfid:UUID as heal info prints it.
func parseExplainTarget(s string) (heal.Target, error) {
	raw := strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">") // accept heal info's <gfid:…> as printed
	if rest, ok := strings.CutPrefix(raw, "gfid:"); ok {
		g, err := brick.ParseGFID(rest)
		if err != nil {
			return heal.Target{}, usageError{fmt.Errorf("explain %s: %w", s, err)}
		}
		return heal.Target{GFID: g}, nil
	}
	if !strings.HasPrefix(s, "/") {
		return heal.Target{}, usageError{fmt.Errorf("explain %q: give a path from the volume's root (/dir/file) or gfid:UUID", s)}
	}
	p, err := brick.CleanPath(s)
	if err != nil {
		return heal.Target{}, usageError{fmt.Errorf("explain %s: %w", s, err)}
	}
	if p == "/"+brick.GlusterDir || strings.HasPrefix(p, "/"+brick.GlusterDir+"/") {
		return heal.Target{}, usageError{fmt.Errorf("explain %s: %s is the bricks' internal directory, not part of the volume", s, brick.GlusterDir)}
	}
	return heal.Target{Path: p}, nil
}

// healExplainRun prints, for every replica set that holds the target, what
// each brick has, the changelogs decoded, and afr's verdict.
func healExplainRun(f *Factory, volName, file string) error {
	target, err := parseExplainTarget(file)
	if err != nil {
		return err
	}
	v, err := f.Catalog().Lookup(volName)
	if err != nil {
		return err
	}
	opts, err := heal.Options(v)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f.IO.Out)
	found := 0
	for _, rs := range heal.ReplicaSets(v) {
		var replies []afr.Reply
		var errs []error
		if target.Path != "" {
			replies, errs = rs.GatherPath(target.Path)
		} else {
			replies, errs = rs.Gather(target.GFID)
		}
		if !anyExists(replies) {
			continue
		}
		if found > 0 {
			fmt.Fprintln(w)
		}
		found++
		ex := explanation{w: w, v: v, rs: rs, target: target, replies: replies, errs: errs, opts: opts}
		ex.print()
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("heal %s explain: writing: %w", volName, err)
	}
	if found == 0 {
		return fmt.Errorf("heal %s explain %s: no brick that afrkit can read has it", volName, target)
	}
	return nil
}

func anyExists(replies []afr.Reply) bool {
	for _, r := range replies {
		if r.Answered && r.Exists {
			return true
		}
	}
	return false
}

// explanation is one replica set's account of the target.
type explanation struct {
	w       io.Writer
	v       *volume.Volume
	rs      *heal.ReplicaSet
	target  heal.Target
	replies []afr.Reply
	errs    []error
	opts    afr.Options
}

func (ex *explanation) print() {
	verdict := afr.Decide(ex.replies, ex.opts)
	gfids := ex.gfids()
	path := ex.target.Path
	if path == "" {
		path = ex.rs.PathOf(ex.target.GFID)
	}
	title := path
	if title == "" {
		title = "<gfid:" + ex.target.GFID.String() + "> (no brick can resolve its path)"
	}
	fmt.Fprintf(ex.w, "%s\n", esc(title))
	fmt.Fprintf(ex.w, "  %s, replica set %d of %s:", verdict.Type, ex.rs.Index, ex.v.Name)
	for i, b := range ex.rs.Bricks {
		fmt.Fprintf(ex.w, " %s=%s", ex.rs.Labels[i], b)
	}
	fmt.Fprintln(ex.w)
	fmt.Fprintf(ex.w, "  heal info: %s\n", ex.healInfoLine(gfids))

	fmt.Fprintln(ex.w, "\nCopies")
	ex.copies()
	fmt.Fprintln(ex.w, "\nChangelogs: row blames column, counters data/metadata/entry")
	ex.matrix()
	fmt.Fprintln(ex.w, "\nWhat AFR decides")
	for _, line := range strings.Split(verdict.String(), "\n") {
		fmt.Fprintf(ex.w, "  %s\n", esc(line))
	}
	if next := ex.next(verdict, path); next != "" {
		fmt.Fprintf(ex.w, "\n%s", next)
	}
}

// gfids are the distinct gfids the bricks hold for the target, in brick
// order: one normally, several in a gfid split-brain.
func (ex *explanation) gfids() []afr.GFID {
	var out []afr.GFID
	seen := map[afr.GFID]bool{}
	for _, r := range ex.replies {
		if r.Answered && r.Exists && !r.GFID.IsZero() && !seen[r.GFID] {
			seen[r.GFID] = true
			out = append(out, r.GFID)
		}
	}
	if len(out) == 0 && !ex.target.GFID.IsZero() {
		out = append(out, ex.target.GFID)
	}
	return out
}

// healInfoLine is what heal info says of the entry and which brick indexes
// list it, since an entry no index lists is one the self-heal daemon's
// index crawl never finds.
func (ex *explanation) healInfoLine(gfids []afr.GFID) string {
	status := afr.HealInfo(ex.replies, ex.opts.QuorumCount)
	var listed []string
	for i, ix := range ex.rs.Indexes {
		if ix == nil {
			continue
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			for _, g := range gfids {
				if ok, err := ix.Has(sub, g); err == nil && ok {
					listed = append(listed, fmt.Sprintf("%s's %s", ex.rs.Labels[i], sub))
				}
			}
		}
	}
	word := status.String()
	if !status.Listed() {
		word = "not listed (nothing to heal)"
	}
	switch {
	case len(listed) > 0:
		return fmt.Sprintf("%s; in the index of %s", word, strings.Join(listed, ", "))
	case status.Listed():
		return word + "; but no brick's index lists it, so heal info and the index crawl miss it until a lookup or a full heal"
	}
	return word + "; no brick's index lists it"
}

// copies prints one column per brick: what each holds.
func (ex *explanation) copies() {
	tw := tabwriter.NewWriter(ex.w, 0, 4, 2, ' ', 0)
	row := func(label string, cell func(i int, r afr.Reply) string) {
		fmt.Fprintf(tw, "  %s", label)
		for i, r := range ex.replies {
			c := "-"
			switch {
			case !r.Answered:
				if i < len(ex.errs) && ex.errs[i] != nil && label == "state" {
					c = "unreadable"
				}
			case !r.Exists:
				if label == "state" {
					c = "no such entry"
				}
			default:
				c = cell(i, r)
			}
			fmt.Fprintf(tw, "\t%s", c)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "  ")
	for _, l := range ex.rs.Labels {
		fmt.Fprintf(tw, "\t%s", l)
	}
	fmt.Fprintln(tw)
	row("state", func(int, afr.Reply) string { return "present" })
	row("gfid", func(_ int, r afr.Reply) string {
		if r.GFID.IsZero() {
			return "none"
		}
		return r.GFID.String()
	})
	row("type", func(_ int, r afr.Reply) string { return r.Type.String() })
	row("size", func(_ int, r afr.Reply) string {
		if r.Type != afr.TypeRegular {
			return "-"
		}
		return fmt.Sprint(r.Size)
	})
	row("mtime", func(_ int, r afr.Reply) string {
		return time.Unix(r.Mtime.Sec, r.Mtime.Nsec).UTC().Format("2006-01-02 15:04:05.000000000")
	})
	row("mode", func(_ int, r afr.Reply) string { return fmt.Sprintf("%04o", r.Mode) })
	row("owner", func(_ int, r afr.Reply) string { return fmt.Sprintf("%d:%d", r.UID, r.GID) })
	row("xattrs", func(_ int, r afr.Reply) string {
		if r.XattrsUnlisted {
			return "unlisted (E2BIG)"
		}
		return fmt.Sprint(len(r.Xattrs))
	})
	row("dirty", func(_ int, r afr.Reply) string { return changelogCell(r.Dirty) })
	_ = tw.Flush()
	for i, err := range ex.errs {
		if err != nil {
			fmt.Fprintf(ex.w, "  %s: %s\n", ex.rs.Labels[i], esc(err.Error()))
		}
	}
}

func changelogCell(c afr.Changelog) string {
	return fmt.Sprintf("%d/%d/%d", c[afr.Data], c[afr.Metadata], c[afr.Entry])
}

// matrix prints the pending matrix: row i, column j is brick i's
// trusted.afr.VOL-client-j.
func (ex *explanation) matrix() {
	tw := tabwriter.NewWriter(ex.w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "  ")
	for _, l := range ex.rs.Labels {
		fmt.Fprintf(tw, "\t%s", l)
	}
	fmt.Fprintln(tw)
	for i, r := range ex.replies {
		fmt.Fprintf(tw, "  %s", ex.rs.Labels[i])
		for j := range ex.replies {
			c := "-"
			if r.Answered && r.Exists && j < len(r.Pending) {
				c = changelogCell(r.Pending[j])
			}
			fmt.Fprintf(tw, "\t%s", c)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	if len(afr.Blames(ex.replies)) == 0 {
		fmt.Fprintln(ex.w, "  no brick blames any brick")
	}
}

// next says what to do: heal, or which split-brain commands would resolve
// the entry and what each would keep.
func (ex *explanation) next(v afr.Verdict, path string) string {
	var b strings.Builder
	file := path
	if file == "" {
		file = "gfid:" + ex.target.GFID.String()
	}
	cmd := fmt.Sprintf("afrkit heal %s split-brain", ex.v.Name)
	if ex.v.Source == volume.SourceGlusterd {
		cmd = fmt.Sprintf("gluster volume heal %s split-brain", ex.v.Name)
	}
	ops := []afr.HealOp{afr.OpBiggerFile, afr.OpLatestMtime}
	choices := func(what string, resolve func(op afr.HealOp, src int) (int, error)) {
		fmt.Fprintf(&b, "To resolve the %s split-brain, keep one copy with one of:\n", what)
		try := func(args string, op afr.HealOp, src int) {
			keep, err := resolve(op, src)
			var re *afr.ResolveError
			switch {
			case err == nil:
				fmt.Fprintf(&b, "  %s %s\n      keeps %s's copy\n", cmd, esc(args), ex.rs.Labels[keep])
			case errors.As(err, &re):
				fmt.Fprintf(&b, "  %s %s\n      fails: %s\n", cmd, esc(args), esc(re.Message()))
			default:
				fmt.Fprintf(&b, "  %s %s\n      fails: %s\n", cmd, esc(args), esc(err.Error()))
			}
		}
		for _, op := range ops {
			try(op.String()+" "+file, op, -1)
		}
		for i, br := range ex.rs.Bricks {
			try(fmt.Sprintf("source-brick %s %s", br, file), afr.OpSourceBrick, i)
		}
	}
	switch {
	case v.TypeMismatch:
		b.WriteString("Nothing resolves a type mismatch automatically: remove the copy that is wrong from its brick by hand, with its .glusterfs handle.\n")
	case v.GFIDMismatch && v.GFIDSource < 0:
		if path == "" {
			b.WriteString("The gfid split-brain can only be resolved by path, and no brick resolves this gfid to one.\n")
			break
		}
		choices("gfid", func(op afr.HealOp, src int) (int, error) {
			return afr.ResolveGFIDSplitBrain(ex.replies, op, src, afr.PolicyNone)
		})
	}
	for _, kind := range []afr.Kind{afr.Data, afr.Metadata} {
		kv := v.Kind(kind)
		if !kv.Unresolved {
			continue
		}
		if kind == afr.Metadata {
			ops = nil // GlusterFS refuses bigger-file and latest-mtime for metadata
		}
		choices(kind.String(), func(op afr.HealOp, src int) (int, error) {
			return afr.ResolveSplitBrain(ex.replies, kind, op, src, ex.opts.QuorumCount)
		})
	}
	if b.Len() == 0 && v.NeedsHeal() {
		if ex.v.Source == volume.SourceGlusterd {
			fmt.Fprintf(&b, "GlusterFS's self-heal daemon heals this as decided above; 'gluster volume heal %s' starts a crawl now.\n", ex.v.Name)
		} else {
			fmt.Fprintf(&b, "A heal of %s heals this as decided above.\n", ex.v.Name)
		}
	}
	return b.String()
}
