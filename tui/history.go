package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/heal"
)

// history is the volume's history, newest first, and which records an
// undo has undone (by the undo's id).
func (s Source) history(name string) ([]heal.Record, map[string]string, error) {
	recs, err := (&heal.History{Path: heal.HistoryPath(s.StateDir, name)}).Read()
	if err != nil {
		return nil, nil, err
	}
	undone := map[string]string{}
	for _, r := range recs {
		if r.Undoes != "" {
			undone[r.Undoes] = r.ID
		}
	}
	slices.Reverse(recs)
	return recs, undone, nil
}

// undo undoes record id of volume name, or plans it (dryRun), in a heal
// session for a writer that takes no AFR locks: refused while the volume
// is mounted, and refused, changing nothing, when a copy changed since
// (the CLI's --force is not offered here).
func (s Source) undo(name, id string, dryRun bool) ([]string, error) {
	eng, err := s.session(name, dryRun, true)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return eng.Undo(id, false)
}

type (
	historyMsg struct {
		recs   []heal.Record
		undone map[string]string
		err    error
	}
)

func (m Model) loadHistory() tea.Cmd {
	src, name := m.src, m.vol.Name
	return func() tea.Msg {
		recs, undone, err := src.history(name)
		return historyMsg{recs, undone, err}
	}
}

// undoAction undoes history record id. Before or after the run, it
// goes back to the history, read again.
func (m Model) undoAction(id string) action {
	src, name := m.src, m.vol.Name
	toHistory := func(m Model) (Model, tea.Cmd) {
		m.screen = screenHistory
		return m, m.loadHistory()
	}
	return action{
		header: name + ": undo " + id,
		do: func(_ context.Context, dryRun bool) (outcome, error) {
			lines, err := src.undo(name, id, dryRun)
			if err != nil && len(lines) == 0 {
				return nil, err // refused before any change
			}
			return undone{id, lines}, err
		},
		back:    toHistory,
		done:    toHistory,
		doneTo:  "the history",
		gluster: glusterUndo(name),
	}
}

// historyBody lists the records, the cursor's first.
func (h historyModel) view(st styles, width, rows int) string {
	if h.err != nil {
		return st.err.Render("error: " + brick.EscapeName(h.err.Error()))
	}
	if len(h.recs) == 0 {
		return "Nothing recorded yet: resolutions, undos and fsck's repairs are listed here."
	}
	var b strings.Builder
	rows = max(rows, 1)
	top := max(h.cursor-rows+1, 0)
	for k := top; k < len(h.recs) && k < top+rows; k++ {
		r := h.recs[k]
		line := fmt.Sprintf("%s  %s %s, %s", r.ID, brick.EscapeName(firstOf(r.Path, "-")), r.Kind, r.How)
		if r.Source != "" {
			line += ": kept " + r.Source
		}
		if u, ok := h.undone[r.ID]; ok {
			line += " [undone by " + u + "]"
		}
		if k == h.cursor {
			line = st.cursor.Render(fit("> "+line, width))
		} else {
			line = "  " + line
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// undone is an undo's plan, or what it did.
type undone struct {
	id    string
	lines []string
}

func (u undone) runnable() bool { return true }

func (u undone) text(st styles, ran bool) string {
	var b strings.Builder
	title := "The plan: undo " + u.id
	if ran {
		title = "Done: undo " + u.id
	}
	b.WriteString(st.title.Render(title) + "\n\n")
	for _, l := range u.lines {
		b.WriteString("  " + brick.EscapeName(l) + "\n")
	}
	return b.String()
}

func firstOf(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
