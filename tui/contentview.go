package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/content"
	"github.com/afrkit/afrkit/heal"
)

// diffContext is the unchanged lines a diff shows around each change.
const diffContext = 3

// hexRows is the rows of a hex dump shown of each binary copy.
const hexRows = 8

// copies reads every brick's copy of e (heal.ReadCopies), the blake3 of
// each when hash is set. For a stale temp file whose final name holds
// other content, the two versions instead: the temp file's and the final
// name's, each as the first brick that has it holds it. Only bricks on
// this host are read: content is not read over the network.
func (s Source) copies(name string, e Entry, hash bool) ([]heal.Copy, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	opts := heal.CopyOptions{Hash: hash}
	if f := e.stale(); f != nil {
		var out []heal.Copy
		for _, ver := range f.Versions {
			exs, err := heal.Explain(v, heal.Target{Path: ver.Path}, heal.OpenOptions{})
			if err != nil {
				return nil, err
			}
			c := heal.Copy{Label: ver.Path}
			for _, x := range heal.ReadCopies(v, exs[0], opts) {
				if x.Exists {
					c, c.Label = x, ver.Path+" ("+x.Label+")"
					break
				}
			}
			out = append(out, c)
		}
		return out, nil
	}
	exs, err := heal.Explain(v, e.target(), heal.OpenOptions{})
	if errors.Is(err, heal.ErrNowhere) {
		return nil, fmt.Errorf("%s is gone from every brick (healed, or removed)", e.target())
	}
	if err != nil {
		return nil, err
	}
	return heal.ReadCopies(v, exs[0], opts), nil
}

type copiesMsg struct {
	entry  Entry
	copies []heal.Copy
	hashed bool
	err    error
}

func (m Model) loadCopies(hash bool) tea.Cmd {
	src, name, e := m.src, m.vol.Name, m.ent.entry
	return func() tea.Msg {
		cs, err := src.copies(name, e, hash)
		return copiesMsg{e, cs, hash, err}
	}
}

// openContent shows the entry's content, read anew.
func (m Model) openContent() (Model, tea.Cmd) {
	m.screen, m.cont.copies, m.cont.err, m.cont.hashed = screenContent, nil, nil, false
	m.cont.view = viewport.New(m.width, m.bodyHeight())
	m.cont.view.SetHorizontalStep(8)
	m.cont.view.SetContent("reading every brick's copy…")
	return m, m.loadCopies(false)
}

func (m Model) contentKey(k tea.KeyMsg) (Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		m.screen = screenEntry
		return m, nil
	case "c":
		m.cont.pair = nextPair(m.cont.pair, len(m.cont.copies))
		m.cont.view.SetContent(m.cont.text(m.styles))
		m.cont.view.GotoTop()
		return m, nil
	case "b":
		if !m.cont.hashed {
			m.cont.view.SetContent("hashing every brick's copy (blake3)…")
			return m, m.loadCopies(true)
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.cont.view, cmd = m.cont.view.Update(k)
	return m, cmd
}

// firstPair is the two copies compared first: the first two that are
// regular files (an arbiter's, which holds no data, last), or the first
// two copies.
func firstPair(cs []heal.Copy) [2]int {
	var regular []int
	for i, c := range cs {
		if c.Exists && c.Type == afr.TypeRegular && !c.Arbiter {
			regular = append(regular, i)
		}
	}
	for i, c := range cs {
		if c.Exists && c.Type == afr.TypeRegular && c.Arbiter {
			regular = append(regular, i)
		}
	}
	if len(regular) >= 2 {
		return [2]int{regular[0], regular[1]}
	}
	if len(regular) == 1 {
		return [2]int{regular[0], regular[0]}
	}
	return [2]int{0, min(1, max(len(cs)-1, 0))}
}

// nextPair is the pair after p of n copies: (0,1), (0,2), ... (1,2), ...
func nextPair(p [2]int, n int) [2]int {
	if n < 2 {
		return p
	}
	a, b := p[0], p[1]+1
	if b >= n {
		a++
		b = a + 1
	}
	if b >= n {
		a, b = 0, 1
	}
	return [2]int{a, b}
}

// contentText is the content view: every copy in a line, then the two
// chosen compared: a line diff of text, hex around the first difference
// of binary content, or a preview of a lone copy.
func (c contentModel) text(st styles) string {
	if c.err != nil {
		return st.err.Render("error: " + brick.EscapeName(c.err.Error()))
	}
	cs := c.copies
	var b strings.Builder
	b.WriteString(st.title.Render("Copies") + "\n")
	var regular int
	for _, x := range cs {
		fmt.Fprintf(&b, "  %s  %s\n", brick.EscapeName(x.Label), copyLine(x, c.hashed))
		if x.Exists && x.Type == afr.TypeRegular {
			regular++
		}
	}
	if !c.hashed {
		b.WriteString("  (b: blake3 of each, read whole)\n")
	}
	b.WriteString("\n")
	if regular == 0 {
		b.WriteString("No copy is a regular file: there is no content to show.\n")
		return b.String()
	}
	x, y := cs[c.pair[0]], cs[c.pair[1]]
	if regular == 1 || c.pair[0] == c.pair[1] {
		lone := x
		if !(lone.Exists && lone.Type == afr.TypeRegular) {
			lone = y
		}
		fmt.Fprintf(&b, "%s\n", st.title.Render("The one copy that is a file: "+brick.EscapeName(lone.Label)))
		writeLone(&b, lone)
		return b.String()
	}
	title := fmt.Sprintf("%s against %s", brick.EscapeName(x.Label), brick.EscapeName(y.Label))
	if len(cs) > 2 {
		title += " (c: the next two)"
	}
	b.WriteString(st.title.Render(title) + "\n")
	switch {
	case !(x.Exists && x.Type == afr.TypeRegular) || !(y.Exists && y.Type == afr.TypeRegular):
		b.WriteString("  One of the two is not a file: c compares the next two.\n")
	case content.KindOf(x.Data) == content.Binary || content.KindOf(y.Data) == content.Binary:
		c.writeHex(st, &b, x, y)
	default:
		c.writeDiff(st, &b, x, y)
	}
	if x.Truncated || y.Truncated {
		fmt.Fprintf(&b, "\n(Only the first %d bytes of each were read: compare the sizes and, with b, the blake3 of the whole.)\n", heal.DefaultCopyLimit)
	}
	return b.String()
}

// copyLine is one copy described: its type, size, and hash when read.
func copyLine(c heal.Copy, hashed bool) string {
	var s string
	switch {
	case !c.Exists && c.Err == nil:
		s = "missing"
	case !c.Exists:
		s = "unreadable"
	case c.Type == afr.TypeRegular && c.Arbiter:
		s = fmt.Sprintf("the arbiter's file, %d bytes: it holds names and metadata, not data", c.Size)
	case c.Type == afr.TypeRegular:
		s = fmt.Sprintf("file, %d bytes", c.Size)
		if hashed && c.Hash != "" {
			s += ", blake3 " + c.Hash
		}
	case c.Type == afr.TypeSymlink:
		s = "symlink to " + content.Escape(c.Target)
	default:
		s = c.Type.String()
	}
	if c.Err != nil {
		s += ": " + brick.EscapeName(c.Err.Error())
	}
	return s
}

// writeLone shows a lone copy: its first lines, or hex.
func writeLone(b *strings.Builder, c heal.Copy) {
	if content.KindOf(c.Data) == content.Binary {
		for _, row := range content.Hex(c.Data, 0, hexRows) {
			b.WriteString("  " + row + "\n")
		}
		return
	}
	for _, l := range content.Preview(c.Data, 200) {
		b.WriteString("  " + l + "\n")
	}
}

func (c contentModel) writeDiff(st styles, b *strings.Builder, x, y heal.Copy) {
	hunks := content.Diff(x.Data, y.Data, diffContext)
	if len(hunks) == 0 {
		b.WriteString("  The same text.\n")
		return
	}
	fmt.Fprintf(b, "--- %s\n+++ %s\n", brick.EscapeName(x.Label), brick.EscapeName(y.Label))
	for _, h := range hunks {
		b.WriteString(st.help.Render(h.Header()) + "\n")
		for _, l := range h.Lines {
			line := l.Op.Prefix() + l.Text
			switch l.Op {
			case content.Delete:
				line = st.deleted.Render(line)
			case content.Insert:
				line = st.inserted.Render(line)
			}
			b.WriteString(line + "\n")
			if l.NoNewline {
				b.WriteString(`\ No newline at end of file` + "\n")
			}
		}
	}
}

func (c contentModel) writeHex(st styles, b *strings.Builder, x, y heal.Copy) {
	d := content.FirstDifference(x.Data, y.Data)
	switch {
	case d.Same:
		b.WriteString("  The same bytes.\n")
		return
	case d.Prefix:
		fmt.Fprintf(b, "  Binary: the same first %d bytes, then only one goes on.\n", d.Offset)
	default:
		fmt.Fprintf(b, "  Binary: they differ first at byte %d.\n", d.Offset)
	}
	// A row before the difference, for context.
	start := max(d.Offset-content.HexRow, 0)
	for _, c := range []heal.Copy{x, y} {
		fmt.Fprintf(b, "\n  %s\n", brick.EscapeName(c.Label))
		rows := content.Hex(c.Data, start, hexRows)
		if len(rows) == 0 {
			b.WriteString("  (ends before)\n")
		}
		for _, row := range rows {
			b.WriteString("  " + row + "\n")
		}
	}
}
