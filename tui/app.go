package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// screen is what the TUI shows.
type screen int

const (
	screenPicker screen = iota
	screenList
	screenEntry
	screenChoose // how to resolve the entry's split-brain
	screenHistory
	screenAction  // an action's plan, then what its run did
	screenContent // the entry's copies' content compared
)

// Model is the TUI's root model: one screen at a time (the volume picker,
// a volume's entry list, an entry's copies, their content, a choice, the
// history, an action), with the header and the help bar around it. Each
// screen's state and drawing is a sub-model's; the root routes messages
// and keys and goes from screen to screen. It changes a brick only
// through an action, whose plan it shows first.
type Model struct {
	src    Source
	styles styles
	width  int
	height int
	screen screen
	err    error

	// The volume open, and the entries it lists to be healed.
	vol VolumeRow
	// targets are, while a choice resolves the entries marked, those.
	targets []Entry

	// The sub-models, one a screen: each keeps its screen's state and
	// draws it; the root routes messages and keys, and goes from one
	// screen to another.
	pick pickerModel
	lst  listModel
	ent  entryModel
	cont contentModel
	cho  chooseModel
	hist historyModel
	act  actionModel
}

// New is the TUI over src, opening the volume named start when it is not
// "". r renders its styles: a renderer of the terminal, whose color
// profile says whether to color (NO_COLOR, a pipe).
func New(src Source, start string, r *lipgloss.Renderer) Model {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "path"
	// A cursor that does not blink: no timer redraws the screen.
	ti.Cursor.SetMode(cursor.CursorStatic)
	m := Model{src: src, styles: newStyles(r), width: 80, height: 24, lst: listModel{search: ti, filter: groups, rows: 19}}
	if start != "" {
		m.screen = screenList
		m.vol = VolumeRow{Name: start}
	}
	return m
}

// Init loads the picker's volumes, or the entries of the volume asked for,
// and starts the refresh's clock.
func (m Model) Init() tea.Cmd {
	load := m.loadVolumes()
	if m.screen == screenList {
		load = m.openVolume(m.vol.Name)
	}
	return tea.Batch(load, m.tick())
}

type refreshMsg struct{}

// tick is the next refresh, when the source asks for them.
func (m Model) tick() tea.Cmd {
	if m.src.Refresh <= 0 {
		return nil
	}
	return tea.Tick(m.src.Refresh, func(time.Time) tea.Msg { return refreshMsg{} })
}

// Messages of the loads the model starts.
type (
	volumesMsg struct {
		rows []VolumeRow
		err  error
	}
	openedMsg struct {
		row     VolumeRow
		stream  *entryStream
		ctx     context.Context
		cancel  context.CancelFunc
		refresh bool
		err     error
	}
	entriesMsg struct {
		stream *entryStream
		batch  []Entry
		done   bool
		err    error
	}
	explainedMsg struct {
		entry Entry
		exs   []heal.Explanation
		err   error
	}
)

// entryStream carries a volume's entries from the walk to the screen.
type entryStream struct {
	batches chan []Entry
	errc    chan error
}

func (m Model) loadVolumes() tea.Cmd {
	return func() tea.Msg {
		rows, err := m.src.volumes(context.Background())
		return volumesMsg{rows, err}
	}
}

// openVolume finds the volume's row and starts the walk of its entries,
// which the model cancels (openedMsg) when it leaves the list or lists
// again.
func (m Model) openVolume(name string) tea.Cmd { return m.listVolume(name, false) }

// listVolume is openVolume; a refresh lists into the background and
// replaces the list shown once the new one is whole, so that nothing
// jumps while it comes in.
func (m Model) listVolume(name string, refresh bool) tea.Cmd {
	if m.lst.cancel != nil {
		m.lst.cancel()
	}
	src := m.src
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		v, err := src.Open(name)
		if err != nil {
			cancel()
			return openedMsg{row: VolumeRow{Name: name}, err: err}
		}
		row := VolumeRow{Name: v.Name, Source: v.Source, Bricks: len(v.Bricks), Replica: max(v.Replica, 1), Started: src.started(v)}
		for _, b := range v.Bricks {
			row.BrickNames = append(row.BrickNames, b.String())
		}
		st := &entryStream{batches: make(chan []Entry, 4), errc: make(chan error, 1)}
		go func() {
			defer close(st.batches)
			st.errc <- src.entries(ctx, v, func(b []Entry) error {
				select {
				case st.batches <- b:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}()
		return openedMsg{row: row, stream: st, ctx: ctx, cancel: cancel, refresh: refresh}
	}
}

// next waits for the stream's next batch.
func (st *entryStream) next() tea.Cmd {
	return func() tea.Msg {
		b, ok := <-st.batches
		if !ok {
			return entriesMsg{stream: st, done: true, err: <-st.errc}
		}
		return entriesMsg{stream: st, batch: b}
	}
}

func (m Model) explain(e Entry) tea.Cmd {
	src, name := m.src, m.vol.Name
	return func() tea.Msg {
		exs, err := src.explain(name, e)
		return explainedMsg{e, exs, err}
	}
}

// Update handles keys, the window's size and the loads' results.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.lst.rows = max(m.bodyHeight()-1, 1) // less the column heading
		m.ent.view.Width, m.ent.view.Height = m.width, m.bodyHeight()
		m.cont.view.Width, m.cont.view.Height = m.width, m.bodyHeight()
		m.lst.keepCursorShown()
		return m, nil
	case volumesMsg:
		m.pick.rows, m.pick.loaded, m.err = msg.rows, true, msg.err
		m.pick.cursor = min(m.pick.cursor, max(len(m.pick.rows)-1, 0))
		return m, nil
	case openedMsg:
		if !msg.refresh {
			m.vol, m.err = msg.row, msg.err
		}
		cmd, err := m.lst.opened(msg)
		if err != nil {
			m.err = err
		}
		return m, cmd
	case entriesMsg:
		if m.screen == screenPicker || msg.stream != m.lst.stream {
			return m, nil // the list was left, or listed again since
		}
		crawl := m.crawl(msg.stream)
		cmd, err := m.lst.entries(msg, crawl)
		if err != nil {
			m.err = err
		}
		return m, cmd
	case staleMsg:
		if msg.stream != m.lst.stream {
			return m, nil
		}
		if err := m.lst.crawled(msg); err != nil {
			m.err = err
		}
		return m, nil
	case actionMsg:
		// A run refused (no outcome) changed nothing: it is shown as
		// a refused plan is.
		m.act.out, m.act.err, m.act.ran, m.act.working = msg.out, msg.err, msg.ran && msg.out != nil, false
		return m, nil
	case historyMsg:
		m.hist.recs, m.hist.undone, m.hist.err = msg.recs, msg.undone, msg.err
		m.hist.cursor = min(m.hist.cursor, max(len(m.hist.recs)-1, 0))
		return m, nil
	case copiesMsg:
		if m.screen != screenContent || msg.entry.key() != m.ent.entry.key() {
			return m, nil // left since
		}
		m.cont.copies, m.cont.err, m.cont.hashed = msg.copies, msg.err, msg.hashed
		if !msg.hashed {
			m.cont.pair = firstPair(m.cont.copies)
		}
		m.cont.view.SetContent(m.cont.text(m.styles))
		return m, nil
	case explainedMsg:
		m.ent.entry, m.ent.exs, m.ent.err = msg.entry, msg.exs, msg.err
		m.ent.view = viewport.New(m.width, m.bodyHeight())
		// Three bricks' copies side by side are wider than 80 columns:
		// ←/→ scroll them.
		m.ent.view.SetHorizontalStep(8)
		m.ent.view.SetContent(m.ent.text(m.styles))
		return m, nil
	case refreshMsg:
		// The list, read again where it is idle and small; the cursor
		// stays on its entry.
		if m.screen != screenList || m.lst.loading || m.lst.crawling || m.lst.refreshing || m.lst.searching || time.Since(m.lst.listEnded) < refreshShare*m.lst.listTook {
			return m, m.tick()
		}
		return m, tea.Batch(m.listVolume(m.vol.Name, true), m.tick())
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.lst.searching {
		_, cmd := m.lst.key(k)
		return m, cmd
	}
	if k.String() == "q" {
		return m, tea.Quit
	}
	switch m.screen {
	case screenPicker:
		switch k.String() {
		case "up", "k", "down", "j":
			m.pick.cursor = moved(m.pick.cursor, upDown(k), len(m.pick.rows))
		case "r":
			return m, m.loadVolumes()
		case "enter":
			if m.pick.cursor < len(m.pick.rows) {
				m.screen = screenList
				return m, m.openVolume(m.pick.rows[m.pick.cursor].Name)
			}
		}
	case screenList:
		if handled, cmd := m.lst.key(k); handled {
			return m, cmd
		}
		switch k.String() {
		case "r":
			return m, m.openVolume(m.vol.Name)
		case "s":
			if len(m.lst.marked) > 0 {
				m.targets = nil
				for k := range m.lst.list.len(GroupSplitBrain) {
					if e := m.lst.list.at(GroupSplitBrain, k); m.lst.marked[e.key()] {
						m.targets = append(m.targets, e)
					}
				}
				m.cho.choices, m.cho.cursor, m.screen, m.cho.question = batchChoices(m.vol.Replica), 0, screenChoose, whichCopy
			}
		case "h":
			m.screen, m.hist.cursor = screenHistory, 0
			return m, m.loadHistory()
		case "H":
			return m.startAction(m.healAllAction())
		case "esc":
			if m.lst.cancel != nil {
				m.lst.cancel()
			}
			m.screen, m.err = screenPicker, nil
			return m, m.loadVolumes()
		case "enter":
			if m.lst.listCursor < m.lst.shownLen() {
				m.screen = screenEntry
				e := m.lst.entryAt(m.lst.listCursor)
				m.ent.entry, m.ent.exs, m.ent.err = e, nil, nil
				m.ent.view = viewport.New(m.width, m.bodyHeight())
				if e.stale() != nil {
					// fsck's finding is the whole story.
					m.ent.view.SetContent(m.ent.staleText(m.styles))
					return m, nil
				}
				m.ent.view.SetContent("reading every brick's copy…")
				return m, m.explain(e)
			}
		}
	case screenEntry:
		m.ent.notice = ""
		switch k.String() {
		case "esc":
			m.screen, m.ent.exs, m.ent.err = screenList, nil, nil
			return m, nil
		case "r":
			switch f := m.ent.entry.stale(); {
			case f == nil:
			case f.Repair != "":
				return m.startAction(m.renameAction(fsck.ClashUnchosen))
			case len(f.Versions) == 2:
				// The final name holds other content: a person
				// chooses the version that keeps it.
				m.cho.choices, m.cho.cursor, m.screen = clashChoices(f), 0, screenChoose
				m.cho.question = fmt.Sprintf("Which version keeps the name %s? The other is moved to the quarantine,\nnever deleted, and undo puts both back.", brick.EscapeName(f.Versions[1].Path))
			}
			return m, nil
		case "s":
			for _, ex := range m.ent.exs {
				m.cho.choices = choicesFor(ex)
				if len(m.cho.choices) == 0 && m.ent.entry.Found != nil {
					m.cho.choices = unexplainedChoices(ex)
				}
				if len(m.cho.choices) > 0 {
					m.screen, m.cho.cursor, m.cho.question = screenChoose, 0, whichCopy
					return m, nil
				}
			}
			m.ent.notice = "Nothing here is in split-brain: H heals it as AFR decides."
			return m, nil
		case "d":
			if m.ent.entry.stale() == nil || len(m.ent.entry.stale().Versions) == 2 {
				return m.openContent()
			}
			return m, nil
		case "H":
			if m.ent.entry.stale() == nil {
				return m.startAction(m.healEntryAction())
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.ent.view, cmd = m.ent.view.Update(k)
		return m, cmd
	case screenChoose:
		switch k.String() {
		case "up", "k", "down", "j":
			m.cho.cursor = moved(m.cho.cursor, upDown(k), len(m.cho.choices))
		case "esc":
			m.screen = screenEntry
			if len(m.targets) > 0 {
				m.screen, m.targets = screenList, nil
			}
		case "enter":
			return m.startAction(m.cho.choices[m.cho.cursor].act(m))
		}
	case screenHistory:
		switch k.String() {
		case "up", "k", "down", "j":
			m.hist.cursor = moved(m.hist.cursor, upDown(k), len(m.hist.recs))
		case "esc":
			// What an undo changed shows in the list, read again.
			m.screen = screenList
			return m, m.openVolume(m.vol.Name)
		case "enter", "u":
			if m.hist.cursor < len(m.hist.recs) {
				return m.startAction(m.undoAction(m.hist.recs[m.hist.cursor].ID))
			}
		}
	case screenAction:
		return m.actionKey(k)
	case screenContent:
		return m.contentKey(k)
	}
	return m, nil
}

// moved is a cursor on one of n rows moved by d rows, kept on a row.
func moved(cursor, d, n int) int { return min(max(cursor+d, 0), max(n-1, 0)) }

// upDown is the rows an up or down key moves a cursor by.
func upDown(k tea.KeyMsg) int {
	switch k.String() {
	case "up", "k":
		return -1
	case "down", "j":
		return 1
	}
	return 0
}

// bodyHeight is what the header (two lines) and the help bar (two) leave.
func (m Model) bodyHeight() int { return max(m.height-4, 1) }

// View draws the screen: header, body, help bar, exactly the window's
// height so that nothing scrolls or flickers.
func (m Model) View() string {
	var header, body, help string
	switch m.screen {
	case screenPicker:
		header = "afrkit tui: volumes of this host"
		body = m.pick.view(m.styles)
		help = "↑/↓ move · enter open · r refresh · q quit"
	case screenList:
		header = m.lst.header(m.vol)
		body = m.lst.view(m.styles, m.width, m.vol)
		help = "enter explain · space mark · tab kind · / search · H heal · h history · q quit"
		if m.width >= 120 {
			help = "↑/↓ move · enter explain · space mark · tab kind · / search · H heal all · h history · r refresh · esc volumes · q quit"
		}
		if m.lst.searching {
			help = "type a part of the path · enter keep · esc clear"
		}
	case screenEntry:
		header = fmt.Sprintf("%s: %s", m.vol.Name, brick.EscapeName(m.ent.entry.Path))
		if m.ent.entry.Path == "" {
			header = fmt.Sprintf("%s: gfid:%s", m.vol.Name, m.ent.entry.GFID)
		}
		body = m.ent.view.View()
		help = "↑/↓ ←/→ scroll · d content · s resolve · H heal it · esc back · q quit"
		if m.ent.entry.stale() != nil {
			help = "↑/↓ ←/→ scroll · esc back · q quit"
			switch {
			case m.ent.entry.stale().Repair != "":
				help = "↑/↓ ←/→ scroll · r rename (the plan first) · esc back · q quit"
			case len(m.ent.entry.stale().Versions) == 2:
				help = "↑/↓ ←/→ scroll · d content · r choose the version that keeps the name · esc back"
			}
		}
		if m.ent.notice != "" {
			help = m.ent.notice
		}
	case screenChoose:
		header = m.resolveHeader()
		if m.ent.entry.stale() != nil {
			header = fmt.Sprintf("%s: rename %s", m.vol.Name, brick.EscapeName(m.ent.entry.Path))
		}
		body = m.cho.view(m.styles)
		help = "↑/↓ move · enter show the plan · esc back · q quit"
	case screenHistory:
		header = m.vol.Name + ": history (newest first)"
		body = m.hist.view(m.styles, m.width, m.bodyHeight())
		help = "↑/↓ move · enter undo (the plan first) · esc entries · q quit"
	case screenContent:
		header = fmt.Sprintf("%s: the content of %s", m.vol.Name, brick.EscapeName(m.ent.entry.target().String()))
		body = m.cont.view.View()
		help = "↑/↓ ←/→ scroll · c next two · b blake3 · esc back · q quit"
	case screenAction:
		header = m.act.action.header
		body, help = m.actionView()
	}
	if err := m.listErr(); err != nil {
		body = m.styles.err.Render("error: "+brick.EscapeName(err.Error())) + "\n" + body
	}
	if m.vol.Started && m.screen != screenPicker {
		// First on the screen: what afrkit will not do here.
		header = "read-only, GlusterFS serves it · " + header
	}
	lines := []string{m.styles.header.Render(fit(header, m.width)), m.subheader()}
	lines = append(lines, fitLines(body, m.width, m.bodyHeight())...)
	lines = append(lines, "", m.styles.help.Render(fit(help, m.width)))
	return strings.Join(lines, "\n")
}

// listErr is the error to show: the model's, or the list's own.
func (m Model) listErr() error {
	if m.err == nil && m.lst.list != nil && m.screen != screenPicker {
		return m.lst.list.err
	}
	return m.err
}

// subheader is the line under the header: where the volume stands.
func (m Model) subheader() string {
	switch m.screen {
	case screenList, screenEntry, screenChoose, screenHistory, screenAction, screenContent:
		noun := "entries"
		if m.lst.list.total() == 1 {
			noun = "entry"
		}
		// The groups that hold entries, in the list's order.
		var counts []string
		for g := Group(0); g < groups; g++ {
			if n := m.lst.list.len(g); n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, g))
			}
		}
		s := fmt.Sprintf("%d %s", m.lst.list.total(), noun)
		if len(counts) > 0 {
			s += ": " + strings.Join(counts, ", ")
		}
		switch {
		case m.lst.loading:
			s += " (listing…)"
		case m.lst.crawling:
			s += " (crawling the bricks…)"
		}
		return fit(s, m.width)
	}
	return ""
}

func (p pickerModel) view(st styles) string {
	if !p.loaded {
		return "looking at the volumes…"
	}
	if len(p.rows) == 0 {
		return "No volume here: afrkit volume create makes one, afrkit demo shows one."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %-16s %-9s %6s %8s %12s  %s\n", "VOLUME", "SOURCE", "BRICKS", "ENTRIES*", "SPLIT-BRAIN", "STATE")
	for i, v := range p.rows {
		cursor := "  "
		if i == p.cursor {
			cursor = "> "
		}
		state := "stopped"
		switch {
		case v.Err != nil:
			state = brick.EscapeName(v.Err.Error())
		case v.Source == volume.SourceAfrkit:
			state = "afrkit's"
		case v.Started:
			state = "started (read-only)"
		}
		if v.Down > 0 {
			state += fmt.Sprintf(", %d bricks down", v.Down)
		}
		entries := fmt.Sprint(v.Entries)
		if v.Unclassified > 0 {
			entries += "+"
		}
		line := fmt.Sprintf("%s%-16s %-9s %6d %8s %12d  %s", cursor, v.Name, v.Source, v.Bricks, entries, v.SplitBrain, state)
		if i == p.cursor {
			line = st.cursor.Render(line)
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n* summed over bricks, as heal info summary counts (+: some not classified)\n")
	return b.String()
}

// resolveHeader names what a choice resolves: the entry shown, or the
// entries marked.
func (m Model) resolveHeader() string {
	if len(m.targets) > 0 {
		return fmt.Sprintf("%s: resolve the %d entries marked", m.vol.Name, len(m.targets))
	}
	return fmt.Sprintf("%s: resolve %s", m.vol.Name, brick.EscapeName(m.ent.entry.target().String()))
}

// whichCopy is the question of a split-brain's resolution.
const whichCopy = "Which copy is right? The others are kept on their bricks, never deleted."

func (c chooseModel) view(st styles) string {
	var b strings.Builder
	b.WriteString(c.question + "\n\n")
	for i, ch := range c.choices {
		line := "  " + ch.label
		if i == c.cursor {
			line = st.cursor.Render("> " + ch.label)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// fit cuts s, styled or not, to width cells.
func fit(s string, width int) string {
	return ansi.Truncate(s, width, "…")
}

// fitLines is text as exactly height lines of at most width cells.
func fitLines(text string, width, height int) []string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = fit(l, width)
		}
	}
	return lines
}
