package tui

import (
	"context"
	"errors"
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

// Model is the TUI's root model: the volume picker, a volume's entry list
// and an entry's explanation, one screen at a time, with the header and
// the help bar around them. It reads and changes nothing on a brick.
type Model struct {
	src    Source
	styles styles
	width  int
	height int
	screen screen
	err    error

	// The picker.
	vols       []VolumeRow
	volsLoaded bool
	volCursor  int

	// The entry list of the volume open.
	vol       VolumeRow
	list      *entryList // nil until listed
	loading   bool
	crawling  bool         // fsck crawls the volume (stale temp files, unexplained differences)
	stream    *entryStream // the walk whose entries the list shows
	ctx       context.Context
	cancel    context.CancelFunc
	filter    Group // groups: all
	search    textinput.Model
	searching bool
	// hits are, while a search narrows the list, the entries it shows
	// (without one, the list reads its groups in place: a batch costs its
	// own size, not the list's).
	hits *rowFile
	// refreshing: a refresh lists into pending, which replaces list once
	// whole.
	refreshing bool
	pending    *entryList
	// listStarted is when the last listing began, listTook how long it and
	// its crawl took, listEnded when they ended.
	listStarted, listEnded time.Time
	listTook               time.Duration
	listCursor             int
	listTop                int

	// The entry view.
	entry     Entry
	exs       []heal.Explanation
	entryErr  error
	entryView viewport.Model

	// The content view: every brick's copy, read, the two compared (pair)
	// and whether their blake3 was asked for.
	copies      []heal.Copy
	copiesErr   error
	pair        [2]int
	hashed      bool
	contentView viewport.Model

	// A choice asked (how to resolve the entry's split-brain, which
	// version keeps a name): the question and the ways offered.
	question     string
	choices      []choice
	choiceCursor int
	// marked are the entries space marked, for one choice to resolve;
	// targets, while it runs, those it resolves.
	marked  map[entryKey]bool
	targets []Entry
	notice  string

	// The volume's history, newest first.
	recs       []heal.Record
	undone     map[string]string
	histErr    error
	histCursor int

	// The action shown: its plan (a dry run) or, once ran, what the run
	// did; working while either is under way.
	act     action
	actOut  outcome
	actErr  error
	actRan  bool
	working bool
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
	m := Model{src: src, styles: newStyles(r), search: ti, filter: groups, width: 80, height: 24}
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
	if m.cancel != nil {
		m.cancel()
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
		m.entryView.Width, m.entryView.Height = m.width, m.bodyHeight()
		m.contentView.Width, m.contentView.Height = m.width, m.bodyHeight()
		m.keepCursorShown()
		return m, nil
	case volumesMsg:
		m.vols, m.volsLoaded, m.err = msg.rows, true, msg.err
		m.volCursor = min(m.volCursor, max(len(m.vols)-1, 0))
		return m, nil
	case openedMsg:
		if m.cancel != nil {
			m.cancel()
		}
		m.ctx, m.cancel = msg.ctx, msg.cancel
		m.listStarted = time.Now()
		if msg.refresh && msg.err == nil {
			pending, err := newEntryList()
			if err != nil {
				m.err = err
				return m, nil
			}
			m.pending.close() // a refresh cut short
			m.refreshing, m.pending, m.stream = true, pending, msg.stream
			return m, msg.stream.next()
		}
		m.refreshing = false
		m.vol, m.err = msg.row, msg.err
		m.setList(nil)
		m.listCursor, m.listTop = 0, 0
		if msg.err != nil {
			return m, nil
		}
		list, err := newEntryList()
		if err != nil {
			m.err = err
			return m, nil
		}
		m.setList(list)
		m.loading, m.stream = true, msg.stream
		return m, msg.stream.next()
	case entriesMsg:
		if m.screen == screenPicker || msg.stream != m.stream {
			return m, nil // the list was left, or listed again since
		}
		if m.refreshing {
			if !msg.done {
				m.pending.add(msg.batch)
				return m, msg.stream.next()
			}
			m.refreshing = false
			if msg.err != nil {
				m.pending.close()
				m.pending = nil
				return m, nil // the list shown stays
			}
			// The new list, with what the crawl found last time
			// until the crawl says again.
			m.pending.add(m.list.found())
			m.replace(m.pending)
			m.pending = nil
			m.crawling = true
			return m, m.loadStale(msg.stream)
		}
		if msg.done {
			m.loading = false
			if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
				m.err = msg.err
				return m, nil
			}
			m.sortByPath()
			m.crawling = true
			return m, m.loadStale(msg.stream)
		}
		m.add(msg.batch)
		return m, msg.stream.next()
	case staleMsg:
		if msg.stream != m.stream {
			return m, nil
		}
		m.crawling = false
		m.listEnded = time.Now()
		m.listTook = m.listEnded.Sub(m.listStarted)
		if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
			m.err = fmt.Errorf("crawling the volume: %w", msg.err)
		}
		// What the crawl found now replaces what it found before (a
		// refresh's).
		m.keepCursor(func() { m.list.replaceFound(msg.entries) })
		return m, nil
	case actionMsg:
		// A run refused (no outcome) changed nothing: it is shown as
		// a refused plan is.
		m.actOut, m.actErr, m.actRan, m.working = msg.out, msg.err, msg.ran && msg.out != nil, false
		return m, nil
	case historyMsg:
		m.recs, m.undone, m.histErr = msg.recs, msg.undone, msg.err
		m.histCursor = min(m.histCursor, max(len(m.recs)-1, 0))
		return m, nil
	case copiesMsg:
		if m.screen != screenContent || msg.entry.key() != m.entry.key() {
			return m, nil // left since
		}
		m.copies, m.copiesErr, m.hashed = msg.copies, msg.err, msg.hashed
		if !msg.hashed {
			m.pair = firstPair(m.copies)
		}
		m.contentView.SetContent(m.contentText())
		return m, nil
	case explainedMsg:
		m.entry, m.exs, m.entryErr = msg.entry, msg.exs, msg.err
		m.entryView = viewport.New(m.width, m.bodyHeight())
		// Three bricks' copies side by side are wider than 80 columns:
		// ←/→ scroll them.
		m.entryView.SetHorizontalStep(8)
		m.entryView.SetContent(m.renderExplanations())
		return m, nil
	case refreshMsg:
		// The list, read again where it is idle and small; the cursor
		// stays on its entry.
		if m.screen != screenList || m.loading || m.crawling || m.refreshing || m.searching || time.Since(m.listEnded) < refreshShare*m.listTook {
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
	if m.searching {
		switch k.String() {
		case "enter", "esc":
			m.searching = false
			m.search.Blur()
			if k.String() == "esc" {
				m.search.SetValue("")
				m.refilter()
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.search, cmd = m.search.Update(k)
		m.refilter()
		return m, cmd
	}
	if k.String() == "q" {
		return m, tea.Quit
	}
	switch m.screen {
	case screenPicker:
		switch k.String() {
		case "up", "k", "down", "j":
			m.volCursor = moved(m.volCursor, upDown(k), len(m.vols))
		case "r":
			return m, m.loadVolumes()
		case "enter":
			if m.volCursor < len(m.vols) {
				m.screen = screenList
				return m, m.openVolume(m.vols[m.volCursor].Name)
			}
		}
	case screenList:
		page := max(m.bodyHeight()-1, 1)
		switch k.String() {
		case "up", "k", "down", "j":
			m.moveList(upDown(k))
		case "pgup":
			m.moveList(-page)
		case "pgdown", "f":
			m.moveList(page)
		case "home", "g":
			m.moveList(-m.shownLen())
		case "end", "G":
			m.moveList(m.shownLen())
		case "tab":
			m.filter = (m.filter + 1) % (groups + 1)
			m.refilter()
		case "/":
			m.searching = true
			return m, m.search.Focus()
		case "r":
			return m, m.openVolume(m.vol.Name)
		case " ":
			// Mark a split-brain, for one choice to resolve them all.
			if m.listCursor < m.shownLen() {
				e := m.entryAt(m.listCursor)
				if group(e) == GroupSplitBrain {
					if m.marked == nil {
						m.marked = map[entryKey]bool{}
					}
					if k := e.key(); m.marked[k] {
						delete(m.marked, k)
					} else {
						m.marked[k] = true
					}
				}
				m.moveList(1)
			}
		case "s":
			if len(m.marked) > 0 {
				m.targets = nil
				for k := range m.list.len(GroupSplitBrain) {
					if e := m.list.at(GroupSplitBrain, k); m.marked[e.key()] {
						m.targets = append(m.targets, e)
					}
				}
				m.choices, m.choiceCursor, m.screen, m.question = batchChoices(m.vol.Replica), 0, screenChoose, whichCopy
			}
		case "h":
			m.screen, m.histCursor = screenHistory, 0
			return m, m.loadHistory()
		case "H":
			return m.startAction(m.healAllAction())
		case "esc":
			if m.search.Value() != "" {
				m.search.SetValue("")
				m.refilter()
				break
			}
			if m.cancel != nil {
				m.cancel()
			}
			m.screen, m.err = screenPicker, nil
			return m, m.loadVolumes()
		case "enter":
			if m.listCursor < m.shownLen() {
				m.screen = screenEntry
				e := m.entryAt(m.listCursor)
				m.entry, m.exs, m.entryErr = e, nil, nil
				m.entryView = viewport.New(m.width, m.bodyHeight())
				if e.stale() != nil {
					// fsck's finding is the whole story.
					m.entryView.SetContent(m.staleText())
					return m, nil
				}
				m.entryView.SetContent("reading every brick's copy…")
				return m, m.explain(e)
			}
		}
	case screenEntry:
		m.notice = ""
		switch k.String() {
		case "esc":
			m.screen, m.exs, m.entryErr = screenList, nil, nil
			return m, nil
		case "r":
			switch f := m.entry.stale(); {
			case f == nil:
			case f.Repair != "":
				return m.startAction(m.renameAction(fsck.ClashUnchosen))
			case len(f.Versions) == 2:
				// The final name holds other content: a person
				// chooses the version that keeps it.
				m.choices, m.choiceCursor, m.screen = clashChoices(f), 0, screenChoose
				m.question = fmt.Sprintf("Which version keeps the name %s? The other is moved to the quarantine,\nnever deleted, and undo puts both back.", brick.EscapeName(f.Versions[1].Path))
			}
			return m, nil
		case "s":
			for _, ex := range m.exs {
				m.choices = choicesFor(ex)
				if len(m.choices) == 0 && m.entry.Found != nil {
					m.choices = unexplainedChoices(ex)
				}
				if len(m.choices) > 0 {
					m.screen, m.choiceCursor, m.question = screenChoose, 0, whichCopy
					return m, nil
				}
			}
			m.notice = "Nothing here is in split-brain: H heals it as AFR decides."
			return m, nil
		case "d":
			if m.entry.stale() == nil || len(m.entry.stale().Versions) == 2 {
				return m.openContent()
			}
			return m, nil
		case "H":
			if m.entry.stale() == nil {
				return m.startAction(m.healEntryAction())
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.entryView, cmd = m.entryView.Update(k)
		return m, cmd
	case screenChoose:
		switch k.String() {
		case "up", "k", "down", "j":
			m.choiceCursor = moved(m.choiceCursor, upDown(k), len(m.choices))
		case "esc":
			m.screen = screenEntry
			if len(m.targets) > 0 {
				m.screen, m.targets = screenList, nil
			}
		case "enter":
			return m.startAction(m.choices[m.choiceCursor].act(m))
		}
	case screenHistory:
		switch k.String() {
		case "up", "k", "down", "j":
			m.histCursor = moved(m.histCursor, upDown(k), len(m.recs))
		case "esc":
			// What an undo changed shows in the list, read again.
			m.screen = screenList
			return m, m.openVolume(m.vol.Name)
		case "enter", "u":
			if m.histCursor < len(m.recs) {
				return m.startAction(m.undoAction(m.recs[m.histCursor].ID))
			}
		}
	case screenAction:
		return m.actionKey(k)
	case screenContent:
		return m.contentKey(k)
	}
	return m, nil
}

// setList shows l (nil: none), closing the list shown before.
func (m *Model) setList(l *entryList) {
	if m.list != l {
		m.list.close()
	}
	m.list = l
	m.hits.close()
	m.hits = nil
}

// add appends entries to the list.
func (m *Model) add(entries []Entry) {
	m.list.add(entries)
	if m.search.Value() != "" {
		// A search's hits come in group order: list them again.
		m.refilter()
	}
	m.keepCursorShown()
}

// keepCursor runs change, which reorders the list, with the cursor kept
// on the entry it was moved to. A cursor still on the first row stays
// there: the person has not chosen an entry yet.
func (m *Model) keepCursor(change func()) {
	var at Entry
	had := m.listCursor > 0 && m.listCursor < m.shownLen()
	if had {
		at = m.entryAt(m.listCursor)
	}
	change()
	m.refilter()
	if had {
		m.cursorTo(at)
	}
	m.keepCursorShown()
}

// sortByPath orders each group by path once the listing is whole (the
// indexes list gfids in no order a person reads), the cursor kept on the
// entry it was moved to.
func (m *Model) sortByPath() { m.keepCursor(m.list.sortByPath) }

// cursorTo puts the cursor on e, when one of the first rows the list
// shows is e (it reads them back: a list longer than sortMax is left as
// it is, in the indexes' order).
func (m *Model) cursorTo(e Entry) {
	for k := range min(m.shownLen(), 2*sortMax) {
		if m.entryAt(k).key() == e.key() {
			m.listCursor = k
			break
		}
	}
	m.keepCursorShown()
}

// replace shows l in place of the list, the cursor on the entry it was on
// when that is still listed.
func (m *Model) replace(l *entryList) {
	var at Entry
	had := m.listCursor < m.shownLen()
	if had {
		at = m.entryAt(m.listCursor)
	}
	m.setList(l)
	m.list.sortByPath()
	m.refilter()
	m.listCursor = min(m.listCursor, max(m.shownLen()-1, 0))
	if had {
		m.cursorTo(at)
	}
	m.keepCursorShown()
}

// refilter lists again, after the search changed, the entries of the
// group chosen whose path holds the search, split-brains first: the order
// heal info's groups are read in.
func (m *Model) refilter() {
	m.hits.close()
	m.hits = nil
	if q := m.search.Value(); q != "" && m.list != nil {
		m.hits = m.list.search(q, m.filter)
	}
	m.listCursor = min(m.listCursor, max(m.shownLen()-1, 0))
	m.keepCursorShown()
}

// shownLen is how many entries the list shows.
func (m *Model) shownLen() int {
	if m.search.Value() != "" {
		return m.hits.len()
	}
	n := 0
	for g := Group(0); g < groups; g++ {
		if m.filter == groups || m.filter == g {
			n += m.list.len(g)
		}
	}
	return n
}

// entryAt is the list's k-th row.
func (m *Model) entryAt(k int) Entry {
	if m.search.Value() != "" {
		rec, err := m.hits.at(k)
		if err != nil {
			m.list.fail(err)
			return Entry{Path: "?"}
		}
		return m.list.entry(rec)
	}
	for g := Group(0); g < groups; g++ {
		if m.filter != groups && m.filter != g {
			continue
		}
		if k < m.list.len(g) {
			return m.list.at(g, k)
		}
		k -= m.list.len(g)
	}
	return Entry{}
}

func (m *Model) moveList(d int) {
	m.listCursor = moved(m.listCursor, d, m.shownLen())
	m.keepCursorShown()
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

// keepCursorShown scrolls the list so that the cursor's row is on screen.
func (m *Model) keepCursorShown() {
	rows := max(m.bodyHeight()-1, 1) // less the column heading
	if m.listCursor < m.listTop {
		m.listTop = m.listCursor
	}
	if m.listCursor >= m.listTop+rows {
		m.listTop = m.listCursor - rows + 1
	}
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
		body = m.pickerBody()
		help = "↑/↓ move · enter open · r refresh · q quit"
	case screenList:
		header = m.listHeader()
		body = m.listBody()
		help = "enter explain · space mark · tab kind · / search · H heal · h history · q quit"
		if m.width >= 120 {
			help = "↑/↓ move · enter explain · space mark · tab kind · / search · H heal all · h history · r refresh · esc volumes · q quit"
		}
		if m.searching {
			help = "type a part of the path · enter keep · esc clear"
		}
	case screenEntry:
		header = fmt.Sprintf("%s: %s", m.vol.Name, brick.EscapeName(m.entry.Path))
		if m.entry.Path == "" {
			header = fmt.Sprintf("%s: gfid:%s", m.vol.Name, m.entry.GFID)
		}
		body = m.entryView.View()
		help = "↑/↓ ←/→ scroll · d content · s resolve · H heal it · esc back · q quit"
		if m.entry.stale() != nil {
			help = "↑/↓ ←/→ scroll · esc back · q quit"
			switch {
			case m.entry.stale().Repair != "":
				help = "↑/↓ ←/→ scroll · r rename (the plan first) · esc back · q quit"
			case len(m.entry.stale().Versions) == 2:
				help = "↑/↓ ←/→ scroll · d content · r choose the version that keeps the name · esc back"
			}
		}
		if m.notice != "" {
			help = m.notice
		}
	case screenChoose:
		header = m.resolveHeader()
		if m.entry.stale() != nil {
			header = fmt.Sprintf("%s: rename %s", m.vol.Name, brick.EscapeName(m.entry.Path))
		}
		body = m.chooseBody()
		help = "↑/↓ move · enter show the plan · esc back · q quit"
	case screenHistory:
		header = m.vol.Name + ": history (newest first)"
		body = m.historyBody()
		help = "↑/↓ move · enter undo (the plan first) · esc entries · q quit"
	case screenContent:
		header = fmt.Sprintf("%s: the content of %s", m.vol.Name, brick.EscapeName(m.entry.target().String()))
		body = m.contentView.View()
		help = "↑/↓ ←/→ scroll · c next two · b blake3 · esc back · q quit"
	case screenAction:
		header = m.act.header
		body, help = m.actionView()
	}
	if err := m.listErr(); err != nil {
		body = m.styles.err.Render("error: "+err.Error()) + "\n" + body
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
	if m.err == nil && m.list != nil && m.screen != screenPicker {
		return m.list.err
	}
	return m.err
}

// subheader is the line under the header: where the volume stands.
func (m Model) subheader() string {
	switch m.screen {
	case screenList, screenEntry, screenChoose, screenHistory, screenAction, screenContent:
		noun := "entries"
		if m.list.total() == 1 {
			noun = "entry"
		}
		// The groups that hold entries, in the list's order.
		var counts []string
		for g := Group(0); g < groups; g++ {
			if n := m.list.len(g); n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, g))
			}
		}
		s := fmt.Sprintf("%d %s", m.list.total(), noun)
		if len(counts) > 0 {
			s += ": " + strings.Join(counts, ", ")
		}
		switch {
		case m.loading:
			s += " (listing…)"
		case m.crawling:
			s += " (crawling the bricks…)"
		}
		return fit(s, m.width)
	}
	return ""
}

func (m Model) pickerBody() string {
	if !m.volsLoaded {
		return "looking at the volumes…"
	}
	if len(m.vols) == 0 {
		return "No volume here: afrkit volume create makes one, afrkit demo shows one."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %-16s %-9s %6s %8s %12s  %s\n", "VOLUME", "SOURCE", "BRICKS", "ENTRIES*", "SPLIT-BRAIN", "STATE")
	for i, v := range m.vols {
		cursor := "  "
		if i == m.volCursor {
			cursor = "> "
		}
		state := "stopped"
		switch {
		case v.Err != nil:
			state = v.Err.Error()
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
		if i == m.volCursor {
			line = m.styles.cursor.Render(line)
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
	return fmt.Sprintf("%s: resolve %s", m.vol.Name, brick.EscapeName(m.entry.target().String()))
}

// whichCopy is the question of a split-brain's resolution.
const whichCopy = "Which copy is right? The others are kept on their bricks, never deleted."

func (m Model) chooseBody() string {
	var b strings.Builder
	b.WriteString(m.question + "\n\n")
	for i, c := range m.choices {
		line := "  " + c.label
		if i == m.choiceCursor {
			line = m.styles.cursor.Render("> " + c.label)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func (m Model) listHeader() string {
	h := fmt.Sprintf("%s (%s, %d bricks)", m.vol.Name, m.vol.Source, m.vol.Bricks)
	if m.filter != groups {
		h += " · showing " + m.filter.String()
	}
	if len(m.marked) > 0 {
		h += fmt.Sprintf(" · %d marked (s resolves them)", len(m.marked))
	}
	if q := m.search.Value(); q != "" || m.searching {
		h += " · " + m.search.View()
	}
	return h
}

func (m Model) listBody() string {
	if m.list.total() == 0 {
		if m.loading {
			return "listing the bricks' indexes…"
		}
		return "Nothing to heal: no brick's index lists an entry."
	}
	var b strings.Builder
	// A distributed volume lists a directory once per replica set: the
	// set tells them apart.
	sets := m.vol.Bricks / max(m.vol.Replica, 1)
	if sets > 1 {
		fmt.Fprintf(&b, "  %-24s %-3s %s\n", "STATUS", "SET", "PATH")
	} else {
		fmt.Fprintf(&b, "  %-24s %s\n", "STATUS", "PATH")
	}
	rows := max(m.bodyHeight()-1, 1)
	for k := m.listTop; k < m.shownLen() && k < m.listTop+rows; k++ {
		e := m.entryAt(k)
		path := brick.EscapeName(e.Path)
		if path == "" {
			path = "<gfid:" + e.GFID.String() + ">"
		}
		cursor := "  "
		switch {
		case k == m.listCursor && m.marked[e.key()]:
			cursor = ">*"
		case k == m.listCursor:
			cursor = "> "
		case m.marked[e.key()]:
			cursor = " *"
		}
		status := e.Status.String()
		switch f := e.Found; {
		case f == nil:
		case e.stale() == nil:
			status = "unexplained"
		case f.Candidate:
			status = "stale-temp?"
		default:
			status = "stale-temp"
		}
		line := fmt.Sprintf("%s%-24s %s", cursor, status, path)
		if sets > 1 {
			set := "-" // fsck's finding names the bricks
			if e.Found == nil {
				set = fmt.Sprint(e.Set)
			}
			line = fmt.Sprintf("%s%-24s %-3s %s", cursor, status, set, path)
		}
		switch {
		case k == m.listCursor:
			line = m.styles.cursor.Render(fit(line, m.width))
		case group(e) == GroupSplitBrain:
			line = m.styles.splitBrain.Render(line)
		}
		b.WriteString(line + "\n")
	}
	if m.shownLen() == 0 {
		b.WriteString("  (none of this kind matches)\n")
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
