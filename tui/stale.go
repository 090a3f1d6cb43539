package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// found are what fsck's crawl of the volume finds that no index lists
// (it follows the heal info listing): rsync temp files left behind, and
// copies that differ with no counter to say why (missing, size, mode,
// owner: the content is compared by heal info --unexplained, which
// reads every file).
func (s Source) found(ctx context.Context, name string) ([]Entry, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	rep, err := fsck.CheckVolume(ctx, v, fsck.Options{})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range rep.Findings {
		switch f.Class {
		case fsck.ClassStaleTemp, fsck.ClassSilentDifference:
			out = append(out, Entry{Path: f.Path, Found: &f})
		}
	}
	return out, nil
}

// rename renames the stale temp file of e to its final name (or
// quarantines it where the final name holds the same content), or plans
// it (dryRun): fsck's --rename-stale-path, in a repair session recorded in
// the history, refused while GlusterFS serves the volume (beside an
// afrkit mount, under the mount's locks).
func (s Source) rename(ctx context.Context, name string, e Entry, keep fsck.ClashKeep, dryRun bool) ([]fsck.Repaired, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	how := "fsck --rename-stale-path " + e.Path
	switch keep {
	case fsck.ClashKeepTemp:
		how += " --clash-keeps temp"
	case fsck.ClashKeepFinal:
		how += " --clash-keeps final"
	}
	run, err := heal.RunRepair(ctx, v, heal.RepairSession{StateDir: s.StateDir, ProcDir: s.ProcDir, How: how,
		Repair: fsck.RepairOptions{RenamePaths: []string{e.Path}, ClashKeeps: keep, DryRun: dryRun}})
	return run.Done, err
}

type (
	staleMsg struct {
		stream  *entryStream
		entries []Entry
		err     error
	}
)

// crawl looks for what no index lists (fsck: stale temp files,
// unexplained differences) once the listing of st is done.
func (m Model) crawl(st *entryStream) tea.Cmd {
	src, name, ctx := m.src, m.vol.Name, m.lst.ctx
	return func() tea.Msg {
		entries, err := src.found(ctx, name)
		return staleMsg{st, entries, err}
	}
}

// renameAction renames the stale temp file shown to its final name, or
// where that holds other content, keeps the version chosen under it.
func (m Model) renameAction(keep fsck.ClashKeep) action {
	src, name, e := m.src, m.vol.Name, m.ent.entry
	return action{
		header: fmt.Sprintf("%s: rename %s", name, brick.EscapeName(e.Path)),
		do: func(ctx context.Context, dryRun bool) (outcome, error) {
			done, err := src.rename(ctx, name, e, keep, dryRun)
			if err != nil && len(done) == 0 {
				return nil, err // refused before any change
			}
			return renamed(done), err
		},
		back:    toEntry,
		done:    relist,
		doneTo:  "the entries",
		gluster: glusterRename(e.stale(), keep),
	}
}

// clashChoices are the two versions that can keep the final name of the
// stale temp file of f, whose Versions are the temp file's and the final
// name's.
func clashChoices(f *fsck.Finding) []choice {
	tv, fv := f.Versions[0], f.Versions[1]
	keep := func(label string, k fsck.ClashKeep) choice {
		return choice{label, func(m Model) action { return m.renameAction(k) }}
	}
	return []choice{
		keep(fmt.Sprintf("the temp file's version: %d bytes, modified %s", tv.Size, shortTime(tv.Mtime)), fsck.ClashKeepTemp),
		keep(fmt.Sprintf("%s's own: %d bytes, modified %s", brick.EscapeName(fv.Path), fv.Size, shortTime(fv.Mtime)), fsck.ClashKeepFinal),
	}
}

// shortTime is an RFC 3339 time as the screens show it, to the second.
func shortTime(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return s
}

// staleText is the entry view of a stale temp file: what fsck found, and
// the versions when its final name holds other content.
func (e entryModel) staleText(st styles) string {
	f := e.entry.stale()
	var b strings.Builder
	b.WriteString(st.title.Render("A stale rsync temp file") + "\n")
	fmt.Fprintf(&b, "  %s\n", brick.EscapeName(f.Detail))
	fmt.Fprintf(&b, "  on %s\n", f.Brick)
	if len(f.Versions) > 0 {
		b.WriteString("\n" + st.title.Render("The two versions") + "\n")
		rows := [][]string{{"", "path", "size", "mtime", "blake3"}}
		for _, v := range f.Versions {
			mtime := v.Mtime
			if t, err := time.Parse(time.RFC3339Nano, v.Mtime); err == nil {
				mtime = t.UTC().Format("2006-01-02 15:04:05.000000000") // as the copies' table shows it
			}
			rows = append(rows, []string{"", brick.EscapeName(v.Path), fmt.Sprint(v.Size), mtime, v.Blake3})
		}
		b.WriteString(table(rows))
	}
	switch {
	case f.Repair != "":
		fmt.Fprintf(&b, "\n%s\n  %s\n", st.title.Render("r renames it"), brick.EscapeName(f.Repair))
		if f.Candidate {
			fmt.Fprintf(&b, "  (its suffix reads as a word: it may be an ordinary dotfile; r is for when you know it is not)\n")
		}
	case len(f.Versions) == 2:
		fmt.Fprintf(&b, "\n%s\n  which version keeps the name %s; the other is moved to the quarantine\n", st.title.Render("r chooses"), brick.EscapeName(f.Versions[1].Path))
	case f.Manual != "":
		fmt.Fprintf(&b, "\n%s\n  %s\n", st.title.Render("For a person"), brick.EscapeName(f.Manual))
	}
	return b.String()
}

// renamed is a rename's plan, or what it did.
type renamed []fsck.Repaired

// runnable: something in the plan would run (not all of it refused
// beside a mount).
func (r renamed) runnable() bool {
	for _, x := range r {
		if !fsck.Refused(x) {
			return true
		}
	}
	return false
}

func (r renamed) text(st styles, ran bool) string {
	var b strings.Builder
	title := "The plan"
	if ran {
		title = "Done"
	}
	b.WriteString(st.title.Render(title) + "\n\n")
	if len(r) == 0 {
		b.WriteString("  Nothing to do: the temp file is gone, or was renamed already.\n")
	}
	for _, x := range r {
		fmt.Fprintf(&b, "  %s  %s: %s\n", x.Finding.Brick, brick.EscapeName(x.Finding.Path), brick.EscapeName(x.Finding.Repair))
		switch {
		case fsck.Refused(x):
			fmt.Fprintf(&b, "      %s\n", brick.EscapeName(x.Err))
		case x.Err != "":
			fmt.Fprintf(&b, "      failed: %s\n", brick.EscapeName(x.Err))
		}
	}
	if !ran {
		b.WriteString("\nIt is recorded in the volume's history, where undo puts back what it changes.\n")
	}
	return b.String()
}
