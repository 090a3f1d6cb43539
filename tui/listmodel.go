package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/brick"
)

// listModel is a volume's entry list: how it is read (streamed from the
// indexes, then fsck's crawl, then again now and then) and where the
// person is in it (group, search, cursor, marks).
type listModel struct {
	list     *entryList // nil until listed
	loading  bool
	crawling bool         // fsck crawls the volume (stale temp files, unexplained differences)
	stream   *entryStream // the walk whose entries the list shows
	ctx      context.Context
	cancel   context.CancelFunc

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

	listCursor, listTop int
	// rows is how many entries the screen shows at once.
	rows int
	// marked are the entries space marked, for one choice to resolve.
	marked map[entryKey]bool
}

// opened starts showing the listing msg opened: a new list, or, for a
// refresh, one that replaces it once whole. It returns the command that
// reads the first batch.
func (l *listModel) opened(msg openedMsg) (tea.Cmd, error) {
	if msg.refresh && msg.err != nil {
		return nil, msg.err // the list shown stays, and its walk's context
	}
	if l.cancel != nil {
		l.cancel()
	}
	l.ctx, l.cancel = msg.ctx, msg.cancel
	l.listStarted = time.Now()
	if msg.refresh {
		pending, err := newEntryList()
		if err != nil {
			return nil, err
		}
		l.pending.close() // a refresh cut short
		l.refreshing, l.pending, l.stream = true, pending, msg.stream
		return msg.stream.next(), nil
	}
	l.refreshing = false
	l.setList(nil)
	l.listCursor, l.listTop = 0, 0
	l.stream = msg.stream // nil with an error: the old walk's messages are let go
	if msg.err != nil {
		return nil, nil // the root shows it
	}
	list, err := newEntryList()
	if err != nil {
		return nil, err
	}
	l.setList(list)
	l.loading, l.stream = true, msg.stream
	return msg.stream.next(), nil
}

// entries takes a batch of the listing; once it is whole, crawl is the
// command that looks for what no index lists.
func (l *listModel) entries(msg entriesMsg, crawl tea.Cmd) (tea.Cmd, error) {
	if l.list == nil {
		return nil, nil
	}
	if l.refreshing {
		if !msg.done {
			l.pending.add(msg.batch)
			return msg.stream.next(), nil
		}
		l.refreshing = false
		if msg.err != nil {
			l.pending.close()
			l.pending = nil
			return nil, nil // the list shown stays
		}
		// The new list, with what the crawl found last time until the
		// crawl says again.
		l.pending.add(l.list.found())
		l.replace(l.pending)
		l.pending = nil
		l.crawling = true
		return crawl, nil
	}
	if msg.done {
		l.loading = false
		if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
			return nil, msg.err
		}
		l.sortByPath()
		l.crawling = true
		return crawl, nil
	}
	l.add(msg.batch)
	return msg.stream.next(), nil
}

// crawled takes what the crawl found, in place of what it found before
// (a refresh's).
func (l *listModel) crawled(msg staleMsg) error {
	l.crawling = false
	if l.list == nil {
		return nil
	}
	l.listEnded = time.Now()
	l.listTook = l.listEnded.Sub(l.listStarted)
	l.keepCursor(func() { l.list.replaceFound(msg.entries) })
	if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
		return fmt.Errorf("crawling the volume: %w", msg.err)
	}
	return nil
}

// key handles the keys that move about the list: the cursor, the group
// shown, the search (its typing too, while searching) and the marks. It
// reports whether k was one of them.
func (l *listModel) key(k tea.KeyMsg) (bool, tea.Cmd) {
	if l.searching {
		switch k.String() {
		case "enter", "esc":
			l.searching = false
			l.search.Blur()
			if k.String() == "esc" {
				l.search.SetValue("")
				l.refilter()
			}
			return true, nil
		}
		var cmd tea.Cmd
		l.search, cmd = l.search.Update(k)
		l.refilter()
		return true, cmd
	}
	page := max(l.rows, 1)
	switch k.String() {
	case "up", "k", "down", "j":
		l.moveList(upDown(k))
	case "pgup":
		l.moveList(-page)
	case "pgdown", "f":
		l.moveList(page)
	case "home", "g":
		l.moveList(-l.shownLen())
	case "end", "G":
		l.moveList(l.shownLen())
	case "tab":
		l.filter = (l.filter + 1) % (groups + 1)
		l.refilter()
	case "/":
		l.searching = true
		return true, l.search.Focus()
	case " ":
		// Mark a split-brain, for one choice to resolve them all.
		if l.listCursor < l.shownLen() {
			e := l.entryAt(l.listCursor)
			if group(e) == GroupSplitBrain {
				if l.marked == nil {
					l.marked = map[entryKey]bool{}
				}
				if k := e.key(); l.marked[k] {
					delete(l.marked, k)
				} else {
					l.marked[k] = true
				}
			}
			l.moveList(1)
		}
	case "esc":
		// A search is cleared first; without one, esc leaves the list.
		if l.search.Value() == "" {
			return false, nil
		}
		l.search.SetValue("")
		l.refilter()
	default:
		return false, nil
	}
	return true, nil
}

// setList shows l (nil: none), closing the list shown before.
func (l *listModel) setList(list *entryList) {
	if l.list != list {
		l.list.close()
	}
	l.list = list
	l.hits.close()
	l.hits = nil
}

// add appends entries to the list.
func (l *listModel) add(entries []Entry) {
	// A search's hits are found again once the listing is whole
	// (sortByPath), not at every batch: that would read the whole list
	// back a batch at a time.
	l.list.add(entries)
	l.keepCursorShown()
}

// keepCursor runs change, which reorders the list, with the cursor kept
// on the entry it was moved to. A cursor still on the first row stays
// there: the person has not chosen an entry yet.
func (l *listModel) keepCursor(change func()) {
	var at Entry
	had := l.listCursor > 0 && l.listCursor < l.shownLen()
	if had {
		at = l.entryAt(l.listCursor)
	}
	change()
	l.refilter()
	if had {
		l.cursorTo(at)
	}
	l.keepCursorShown()
}

// sortByPath orders each group by path once the listing is whole (the
// indexes list gfids in no order a person reads), the cursor kept on the
// entry it was moved to.
func (l *listModel) sortByPath() { l.keepCursor(l.list.sortByPath) }

// cursorTo puts the cursor on e, when one of the first rows the list
// shows is e (it reads them back: a list longer than sortMax is left as
// it is, in the indexes' order).
func (l *listModel) cursorTo(e Entry) {
	for k := range min(l.shownLen(), 2*sortMax) {
		if l.entryAt(k).key() == e.key() {
			l.listCursor = k
			break
		}
	}
	l.keepCursorShown()
}

// replace shows l in place of the list, the cursor on the entry it was on
// when that is still listed.
func (l *listModel) replace(list *entryList) {
	var at Entry
	had := l.listCursor < l.shownLen()
	if had {
		at = l.entryAt(l.listCursor)
	}
	l.setList(list)
	l.list.sortByPath()
	l.refilter()
	l.listCursor = min(l.listCursor, max(l.shownLen()-1, 0))
	if had {
		l.cursorTo(at)
	}
	l.keepCursorShown()
}

// refilter lists again, after the search changed, the entries of the
// group chosen whose path holds the search, split-brains first: the order
// heal info's groups are read in.
func (l *listModel) refilter() {
	l.hits.close()
	l.hits = nil
	if q := l.search.Value(); q != "" && l.list != nil {
		l.hits = l.list.search(q, l.filter)
	}
	l.listCursor = min(l.listCursor, max(l.shownLen()-1, 0))
	l.keepCursorShown()
}

// shownLen is how many entries the list shows.
func (l *listModel) shownLen() int {
	if l.search.Value() != "" {
		return l.hits.len()
	}
	n := 0
	for g := Group(0); g < groups; g++ {
		if l.filter == groups || l.filter == g {
			n += l.list.len(g)
		}
	}
	return n
}

// entryAt is the list's k-th row.
func (l *listModel) entryAt(k int) Entry {
	if l.search.Value() != "" {
		rec, err := l.hits.at(k)
		if err != nil {
			l.list.fail(err)
			return Entry{Path: "?"}
		}
		return l.list.entry(rec)
	}
	for g := Group(0); g < groups; g++ {
		if l.filter != groups && l.filter != g {
			continue
		}
		if k < l.list.len(g) {
			return l.list.at(g, k)
		}
		k -= l.list.len(g)
	}
	return Entry{}
}

func (l *listModel) moveList(d int) {
	l.listCursor = moved(l.listCursor, d, l.shownLen())
	l.keepCursorShown()
}

// keepCursorShown scrolls the list so that the cursor's row is on screen.
func (l *listModel) keepCursorShown() {
	rows := max(l.rows, 1)
	if l.listCursor < l.listTop {
		l.listTop = l.listCursor
	}
	if l.listCursor >= l.listTop+rows {
		l.listTop = l.listCursor - rows + 1
	}
}

func (l *listModel) header(vol VolumeRow) string {
	h := fmt.Sprintf("%s (%s, %d bricks)", vol.Name, vol.Source, vol.Bricks)
	if l.filter != groups {
		h += " · showing " + l.filter.String()
	}
	if len(l.marked) > 0 {
		h += fmt.Sprintf(" · %d marked (s resolves them)", len(l.marked))
	}
	if q := l.search.Value(); q != "" || l.searching {
		h += " · " + l.search.View()
	}
	return h
}

func (l *listModel) view(st styles, width int, vol VolumeRow) string {
	if l.list.total() == 0 {
		if l.loading {
			return "listing the bricks' indexes…"
		}
		return "Nothing to heal: no brick's index lists an entry."
	}
	var b strings.Builder
	// A distributed volume lists a directory once per replica set: the
	// set tells them apart.
	sets := vol.Bricks / max(vol.Replica, 1)
	if sets > 1 {
		fmt.Fprintf(&b, "  %-24s %-3s %s\n", "STATUS", "SET", "PATH")
	} else {
		fmt.Fprintf(&b, "  %-24s %s\n", "STATUS", "PATH")
	}
	rows := max(l.rows, 1)
	for k := l.listTop; k < l.shownLen() && k < l.listTop+rows; k++ {
		e := l.entryAt(k)
		path := brick.EscapeName(e.Path)
		if path == "" {
			path = "<gfid:" + e.GFID.String() + ">"
		}
		cursor := "  "
		switch {
		case k == l.listCursor && l.marked[e.key()]:
			cursor = ">*"
		case k == l.listCursor:
			cursor = "> "
		case l.marked[e.key()]:
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
		case k == l.listCursor:
			line = st.cursor.Render(fit(line, width))
		case group(e) == GroupSplitBrain:
			line = st.splitBrain.Render(line)
		}
		b.WriteString(line + "\n")
	}
	if l.shownLen() == 0 {
		b.WriteString("  (none of this kind matches)\n")
	}
	return b.String()
}
