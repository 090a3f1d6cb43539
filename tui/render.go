package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/heal"
)

// styles are the TUI's looks, from one renderer: with NO_COLOR or on a
// terminal without colors they draw plain text.
type styles struct {
	header, help, cursor, splitBrain, err, title lipgloss.Style
	// deleted and inserted are a diff's lines.
	deleted, inserted lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	return styles{
		header:     r.NewStyle().Bold(true),
		help:       r.NewStyle().Faint(true),
		cursor:     r.NewStyle().Reverse(true),
		splitBrain: r.NewStyle().Foreground(lipgloss.Color("1")),
		err:        r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		title:      r.NewStyle().Bold(true),
		deleted:    r.NewStyle().Foreground(lipgloss.Color("1")),
		inserted:   r.NewStyle().Foreground(lipgloss.Color("2")),
	}
}

// renderExplanations is the entry view's text: for each replica set that
// holds the entry, every brick's copy side by side, the changelogs, AFR's
// verdict in explain's words, and the commands that would resolve it.
func (e entryModel) text(st styles) string {
	if e.err != nil {
		return st.err.Render("error: " + brick.EscapeName(e.err.Error()))
	}
	var b strings.Builder
	if f := e.entry.Found; f != nil {
		// An unexplained difference: what fsck found, before the copies.
		b.WriteString(st.title.Render("What fsck found") + "\n")
		fmt.Fprintf(&b, "  %s\n", brick.EscapeName(f.Detail))
		if f.Manual != "" {
			fmt.Fprintf(&b, "  %s\n", brick.EscapeName(f.Manual))
		}
		b.WriteString("\n")
	}
	for k, ex := range e.exs {
		if k > 0 {
			b.WriteString("\n")
		}
		e.renderExplanation(st, &b, ex)
	}
	return b.String()
}

func (e entryModel) renderExplanation(st styles, b *strings.Builder, ex heal.Explanation) {
	fmt.Fprintf(b, "%s, replica set %d · heal info: %s", ex.Verdict.Type, ex.Set, ex.Status)
	if len(ex.IndexedIn) > 0 {
		fmt.Fprintf(b, " (in %s)", strings.Join(ex.IndexedIn, ", "))
	}
	b.WriteString("\n\n")
	b.WriteString(st.title.Render("Copies") + "\n")
	b.WriteString(copiesTable(ex))
	b.WriteString("\n" + st.title.Render("Changelogs (row blames column: data/metadata/entry)") + "\n")
	b.WriteString(matrixTable(ex))
	b.WriteString("\n" + st.title.Render("What AFR decides") + "\n")
	for _, line := range strings.Split(ex.Verdict.String(), "\n") {
		b.WriteString("  " + brick.EscapeName(line) + "\n")
	}
	if len(ex.Choices) > 0 {
		b.WriteString("\n" + st.title.Render("Commands that would resolve it") + "\n")
		for _, c := range ex.Choices {
			outcome := "keeps " + c.Keeps + "'s copy"
			if c.Fails != "" {
				outcome = "fails: " + c.Fails
			}
			fmt.Fprintf(b, "  %s\n      %s\n", brick.EscapeName(c.Command), brick.EscapeName(outcome))
		}
	}
}

// copiesTable has a column per brick and a row per fact of its copy.
func copiesTable(ex heal.Explanation) string {
	rows := [][]string{append([]string{""}, ex.Labels...)}
	fact := func(name string, cell func(r afr.Reply) string) {
		row := []string{name}
		for i, r := range ex.Replies {
			switch {
			case !r.Answered && name == "state" && i < len(ex.Errs) && ex.Errs[i] != nil:
				row = append(row, "unreadable")
			case !r.Answered:
				row = append(row, "-")
			case !r.Exists && name == "state":
				row = append(row, "missing")
			case !r.Exists:
				row = append(row, "-")
			default:
				row = append(row, cell(r))
			}
		}
		rows = append(rows, row)
	}
	fact("state", func(afr.Reply) string { return "present" })
	fact("gfid", func(r afr.Reply) string {
		if r.GFID.IsZero() {
			return "none"
		}
		return r.GFID.String()
	})
	fact("type", func(r afr.Reply) string { return r.Type.String() })
	fact("size", func(r afr.Reply) string {
		if r.Type != afr.TypeRegular {
			return "-"
		}
		return fmt.Sprint(r.Size)
	})
	fact("mtime", func(r afr.Reply) string {
		return time.Unix(r.Mtime.Sec, r.Mtime.Nsec).UTC().Format("2006-01-02 15:04:05.000000000")
	})
	fact("mode", func(r afr.Reply) string { return fmt.Sprintf("%04o", r.Mode) })
	fact("owner", func(r afr.Reply) string { return fmt.Sprintf("%d:%d", r.UID, r.GID) })
	fact("xattrs", func(r afr.Reply) string { return fmt.Sprint(len(r.Xattrs)) })
	fact("dirty", func(r afr.Reply) string { return changelog(r.Dirty) })
	return table(rows)
}

// matrixTable is row i blaming column j: brick i's counters for brick j.
func matrixTable(ex heal.Explanation) string {
	rows := [][]string{append([]string{""}, ex.Labels...)}
	for i, r := range ex.Replies {
		row := []string{ex.Labels[i]}
		for j := range ex.Replies {
			c := "-"
			if r.Answered && r.Exists && j < len(r.Pending) {
				c = changelog(r.Pending[j])
			}
			row = append(row, c)
		}
		rows = append(rows, row)
	}
	return table(rows)
}

func changelog(c afr.Changelog) string {
	return fmt.Sprintf("%d/%d/%d", c[afr.Data], c[afr.Metadata], c[afr.Entry])
}

// table aligns rows in columns two spaces apart, indented by two.
func table(rows [][]string) string {
	var widths []int
	for _, row := range rows {
		for c, cell := range row {
			if c == len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], lipgloss.Width(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		line := " "
		for c, cell := range row {
			line += " " + cell + strings.Repeat(" ", widths[c]-lipgloss.Width(cell)) + " "
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}
