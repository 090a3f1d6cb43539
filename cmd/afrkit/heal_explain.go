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
func healExplainRun(f *Factory, volName, file string, asJSON bool) error {
	target, err := parseExplainTarget(file)
	if err != nil {
		return err
	}
	v, err := f.lookupBricks(volName)
	if err != nil {
		return err
	}
	exs, err := heal.Explain(v, target, f.reach(v))
	if errors.Is(err, heal.ErrNowhere) {
		return fmt.Errorf("heal %s explain %s: %w", volName, target, heal.ErrNowhere)
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f.IO.Out)
	doc := explainJSON{Volume: v.Name, Target: target.String(), Sets: []explainSetJSON{}}
	for k, e := range exs {
		ex := explanation{w: w, v: v, Explanation: e}
		if asJSON {
			doc.Sets = append(doc.Sets, ex.json())
			continue
		}
		if k > 0 {
			fmt.Fprintln(w)
		}
		ex.print()
	}
	if asJSON {
		return writeJSON(f.IO.Out, doc)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("heal %s explain: writing: %w", volName, err)
	}
	return nil
}

// explanation prints one replica set's account of the target
// (heal.Explanation).
type explanation struct {
	w io.Writer
	v *volume.Volume
	heal.Explanation
}

func (ex *explanation) print() {
	verdict, path := ex.Verdict, ex.Path
	title := path
	if title == "" {
		title = "<gfid:" + ex.Target.GFID.String() + "> (no brick can resolve its path)"
	}
	fmt.Fprintf(ex.w, "%s\n", esc(title))
	fmt.Fprintf(ex.w, "  %s, replica set %d of %s:", verdict.Type, ex.Set, ex.v.Name)
	for i, b := range ex.Bricks {
		fmt.Fprintf(ex.w, " %s=%s", ex.Labels[i], b)
		if i < len(ex.Replies) && ex.Replies[i].Arbiter {
			fmt.Fprint(ex.w, " (arbiter: names and metadata, no data)")
		}
	}
	fmt.Fprintln(ex.w)
	fmt.Fprintf(ex.w, "  heal info: %s\n", ex.healInfoLine())

	fmt.Fprintln(ex.w, "\nCopies")
	ex.copies()
	fmt.Fprintln(ex.w, "\nChangelogs: row blames column, counters data/metadata/entry")
	ex.matrix()
	fmt.Fprintln(ex.w, "\nWhat AFR decides")
	for _, line := range strings.Split(verdict.String(), "\n") {
		fmt.Fprintf(ex.w, "  %s\n", esc(line))
	}
	if next := ex.next(); next != "" {
		fmt.Fprintf(ex.w, "\n%s", next)
	}
}

// healInfoLine is what heal info says of the entry and which brick indexes
// list it, since an entry no index lists is one the self-heal daemon's
// index crawl never finds.
func (ex *explanation) healInfoLine() string {
	status, listed := ex.Status, ex.IndexedIn
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
		for i, r := range ex.Replies {
			c := "-"
			switch {
			case !r.Answered:
				if i < len(ex.Errs) && ex.Errs[i] != nil && label == "state" {
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
	for _, l := range ex.Labels {
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
	for i, err := range ex.Errs {
		if err != nil {
			fmt.Fprintf(ex.w, "  %s: %s\n", ex.Labels[i], esc(err.Error()))
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
	for _, l := range ex.Labels {
		fmt.Fprintf(tw, "\t%s", l)
	}
	fmt.Fprintln(tw)
	for i, r := range ex.Replies {
		fmt.Fprintf(tw, "  %s", ex.Labels[i])
		for j := range ex.Replies {
			c := "-"
			if r.Answered && r.Exists && j < len(r.Pending) {
				c = changelogCell(r.Pending[j])
			}
			fmt.Fprintf(tw, "\t%s", c)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	if len(afr.Blames(ex.Replies)) == 0 {
		fmt.Fprintln(ex.w, "  no brick blames any brick")
	}
}

// next says what to do: heal, or which split-brain commands would resolve
// the entry and what each would keep.
func (ex *explanation) next() string {
	v, path := ex.Verdict, ex.Path
	var b strings.Builder
	choices := ex.Choices
	group := func(kind string) {
		fmt.Fprintf(&b, "To resolve the %s split-brain, keep one copy with one of:\n", kind)
		for _, c := range choices {
			if c.Kind != kind {
				continue
			}
			if c.Fails != "" {
				fmt.Fprintf(&b, "  %s\n      fails: %s\n", esc(c.Command), esc(c.Fails))
			} else {
				fmt.Fprintf(&b, "  %s\n      keeps %s's copy\n", esc(c.Command), c.Keeps)
			}
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
		group("gfid")
	}
	if blocked := v.Entry.BlockedBy; len(blocked) > 0 {
		b.WriteString("The merge goes on once each of these names holds one file; explain shows each one's copies and the commands that resolve it:\n")
		for _, p := range blocked {
			fmt.Fprintf(&b, "  afrkit heal %s explain %s\n", ex.v.Name, esc(p))
		}
		fmt.Fprintf(&b, "or keep one brick's copy of every such name at once (GlusterFS needs one command per file):\n  afrkit heal %s split-brain source-brick BRICK\n", ex.v.Name)
	}
	for _, kind := range []afr.Kind{afr.Data, afr.Metadata} {
		if v.Kind(kind).Unresolved {
			group(kind.String())
		}
	}
	if v.Data.BlockedBecause == afr.BlockArbiterOnlySource {
		b.WriteString("Neither GlusterFS nor afrkit heals its data from the arbiter: it heals once a data brick that holds the data is back and trusted.\n")
	} else if b.Len() == 0 && v.NeedsHeal() {
		if ex.v.Source == volume.SourceGlusterd {
			fmt.Fprintf(&b, "GlusterFS's self-heal daemon heals this as decided above; 'gluster volume heal %s' starts a crawl now.\n", ex.v.Name)
		} else {
			fmt.Fprintf(&b, "A heal of %s heals this as decided above.\n", ex.v.Name)
		}
	}
	return b.String()
}

// explainJSON is `heal VOL explain FILE --json` (docs/heal-json.md).
type explainJSON struct {
	Volume string           `json:"volume"`
	Target string           `json:"target"`
	Sets   []explainSetJSON `json:"replica_sets"`
}

type explainSetJSON struct {
	ReplicaSet int    `json:"replica_set"`
	Path       string `json:"path"`
	// GFIDs are the distinct gfids the bricks hold (several in a gfid
	// split-brain).
	GFIDs    []string `json:"gfids"`
	Type     string   `json:"type"`
	HealInfo string   `json:"heal_info"`
	// IndexedIn are the brick indexes that list it ("b1's xattrop").
	IndexedIn []string             `json:"indexed_in"`
	Copies    []copyJSON           `json:"copies"`
	Verdict   verdictJSON          `json:"verdict"`
	Resolve   []heal.ResolveChoice `json:"resolve"`
	// Next is the advice the text ends with.
	Next string `json:"next"`
}

type copyJSON struct {
	Brick    string `json:"brick"`
	Label    string `json:"label"`
	Answered bool   `json:"answered"`
	Present  bool   `json:"present"`
	Error    string `json:"error,omitempty"`
	GFID     string `json:"gfid,omitempty"`
	Type     string `json:"type,omitempty"`
	Size     int64  `json:"size"`
	// Mtime is RFC 3339 with nanoseconds, UTC.
	Mtime          string `json:"mtime,omitempty"`
	Mode           string `json:"mode,omitempty"`
	UID            uint32 `json:"uid"`
	GID            uint32 `json:"gid"`
	Xattrs         int    `json:"xattrs"`
	XattrsUnlisted bool   `json:"xattrs_unlisted,omitempty"`
	// Arbiter marks the arbiter brick of replica 3 arbiter 1, which holds
	// no data.
	Arbiter bool `json:"arbiter,omitempty"`
	// Dirty and Blames are data, metadata and entry counters; Blames is
	// keyed by the label of the brick blamed.
	Dirty  [3]int32            `json:"dirty"`
	Blames map[string][3]int32 `json:"blames"`
}

type verdictJSON struct {
	GFIDMismatch bool     `json:"gfid_mismatch"`
	TypeMismatch bool     `json:"type_mismatch"`
	GFIDSource   string   `json:"gfid_source,omitempty"`
	GFIDReason   string   `json:"gfid_reason,omitempty"`
	Data         kindJSON `json:"data"`
	Metadata     kindJSON `json:"metadata"`
	Entry        kindJSON `json:"entry"`
}

type kindJSON struct {
	// Outcome is the one-line verdict explain prints ("heal b1 -> b2").
	Outcome    string   `json:"outcome"`
	Reason     string   `json:"reason,omitempty"`
	Source     string   `json:"source,omitempty"`
	Sinks      []string `json:"sinks"`
	NeedsHeal  bool     `json:"needs_heal"`
	SplitBrain bool     `json:"split_brain"`
	Unresolved bool     `json:"unresolved"`
	Merge      bool     `json:"merge"`
	BlockedBy  []string `json:"blocked_by,omitempty"`
}

// json is the explanation as data: what print shows, field by field.
func (ex *explanation) json() explainSetJSON {
	verdict, path := ex.Verdict, ex.Path
	out := explainSetJSON{ReplicaSet: ex.Set, Path: path, GFIDs: []string{}, Type: verdict.Type.String(),
		HealInfo: ex.Status.String(), IndexedIn: ex.IndexedIn, Resolve: ex.Choices, Next: ex.next()}
	for _, g := range ex.GFIDs {
		out.GFIDs = append(out.GFIDs, g.String())
	}
	for i, r := range ex.Replies {
		c := copyJSON{Brick: ex.Bricks[i].String(), Label: ex.Labels[i], Answered: r.Answered, Present: r.Answered && r.Exists, Arbiter: r.Arbiter, Blames: map[string][3]int32{}}
		if i < len(ex.Errs) && ex.Errs[i] != nil {
			c.Error = ex.Errs[i].Error()
		}
		if c.Present {
			if !r.GFID.IsZero() {
				c.GFID = r.GFID.String()
			}
			c.Type, c.Size = r.Type.String(), r.Size
			c.Mtime = time.Unix(r.Mtime.Sec, r.Mtime.Nsec).UTC().Format(time.RFC3339Nano)
			c.Mode, c.UID, c.GID = fmt.Sprintf("%04o", r.Mode), r.UID, r.GID
			c.Xattrs, c.XattrsUnlisted = len(r.Xattrs), r.XattrsUnlisted
			c.Dirty = r.Dirty
			for j, p := range r.Pending {
				if j < len(ex.Labels) && !p.IsZero() {
					c.Blames[ex.Labels[j]] = p
				}
			}
		}
		out.Copies = append(out.Copies, c)
	}
	v := verdictJSON{GFIDMismatch: verdict.GFIDMismatch, TypeMismatch: verdict.TypeMismatch, GFIDReason: verdict.GFIDReason}
	if verdict.GFIDSource >= 0 && verdict.GFIDSource < len(ex.Labels) {
		v.GFIDSource = ex.Labels[verdict.GFIDSource]
	}
	kind := func(kv afr.KindVerdict) kindJSON {
		k := kindJSON{Outcome: kv.Summary(verdict.Names), Reason: kv.Reason, Sinks: []string{}, NeedsHeal: kv.NeedsHeal,
			SplitBrain: kv.SplitBrain, Unresolved: kv.Unresolved, Merge: kv.Merge, BlockedBy: kv.BlockedBy}
		if kv.Source >= 0 && kv.Source < len(ex.Labels) {
			k.Source = ex.Labels[kv.Source]
		}
		for j, sink := range kv.Sinks {
			if sink && j < len(ex.Labels) {
				k.Sinks = append(k.Sinks, ex.Labels[j])
			}
		}
		return k
	}
	v.Data, v.Metadata, v.Entry = kind(verdict.Data), kind(verdict.Metadata), kind(verdict.Entry)
	out.Verdict = v
	return out
}
