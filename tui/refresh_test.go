package tui

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
)

// drive hands msg to m and runs what it starts, ticks aside (a refresh is
// sent by hand here).
func drive(m Model, msg tea.Msg) Model {
	next, cmd := m.Update(msg)
	return run(next.(Model), cmd)
}

// run runs cmd and what it leads to.
func run(m Model, cmd tea.Cmd) Model {
	cmds := []tea.Cmd{cmd}
	for len(cmds) > 0 {
		cmd, cmds = cmds[0], cmds[1:]
		if cmd == nil {
			continue
		}
		out := cmd()
		switch out := out.(type) {
		case tea.BatchMsg:
			cmds = append(cmds, out...)
			continue
		case nil, refreshMsg:
			continue
		}
		next, cmd := m.Update(out)
		m = next.(Model)
		cmds = append(cmds, cmd)
	}
	return m
}

// TestRefreshFollowsTheIndexes: the list read again on its own shows what
// a heal took away and what a write added, with the cursor on the entry
// it was on, and never shows a list half read.
func TestRefreshFollowsTheIndexes(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a.txt", "/b.txt"} {
		if err := v.WriteFile(p, []byte("missed by b1\n"), 1); err != nil {
			t.Fatal(err)
		}
	}
	c := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "none")}}
	src := Source{Catalog: c, Open: c.Lookup, ProcDir: "/proc", StateDir: filepath.Join(dir, "state")}
	m := New(src, "fx", lipgloss.NewRenderer(io.Discard))
	m = drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = run(m, m.Init())
	if m.lst.loading || m.lst.crawling {
		t.Fatal("the list is not whole after its loads ran")
	}
	// The cursor on /b.txt.
	for m.lst.listCursor < m.lst.shownLen() && m.lst.entryAt(m.lst.listCursor).Path != "/b.txt" {
		m = drive(m, tea.KeyMsg{Type: tea.KeyDown})
	}
	before := m.lst.shownLen()
	if err := v.WriteFile("/c.txt", []byte("missed by b1 too\n"), 1); err != nil {
		t.Fatal(err)
	}
	// Half way through a refresh the list shown is still the old one.
	m.lst.listEnded = time.Now().Add(-time.Minute) // the clock's refresh, a while later
	next, cmd := m.Update(refreshMsg{})
	opened, ok := cmd().(openedMsg) // the refresh's only load: no clock here
	if !ok {
		t.Fatal("a refresh did not list the volume again")
	}
	next, cmd = next.(Model).Update(opened)
	m = next.(Model)
	next, cmd = m.Update(cmd())
	m = next.(Model)
	if !m.lst.refreshing || m.lst.shownLen() != before {
		t.Fatalf("a refresh with its first batch in: refreshing %v, %d entries shown, want the %d of before", m.lst.refreshing, m.lst.shownLen(), before)
	}
	m = run(m, cmd)
	view := m.View()
	if !strings.Contains(view, "/c.txt") {
		t.Errorf("the refreshed list lacks /c.txt:\n%s", view)
	}
	if got := m.lst.entryAt(m.lst.listCursor).Path; got != "/b.txt" {
		t.Errorf("the cursor moved to %s, want it on /b.txt still:\n%s", got, view)
	}
}

// TestRefreshWaitsForSlowLists: a list whose last listing took long is
// read again only after refreshShare times as long, whatever its size.
func TestRefreshWaitsForSlowLists(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.Build(dir, "data-split-brain", 2); err != nil {
		t.Fatal(err)
	}
	c := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "none")}}
	m := New(Source{Catalog: c, Open: c.Lookup, ProcDir: "/proc", StateDir: filepath.Join(dir, "state")}, "fx", lipgloss.NewRenderer(io.Discard))
	m = drive(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = run(m, m.Init())
	if m.lst.listTook <= 0 || m.lst.listEnded.IsZero() {
		t.Fatalf("the listing's time was not taken: took %v, ended %v", m.lst.listTook, m.lst.listEnded)
	}
	// A minute after a listing that took an hour, as a list of millions
	// of entries takes.
	m.lst.listTook, m.lst.listEnded = time.Hour, time.Now().Add(-time.Minute)
	if _, cmd := m.Update(refreshMsg{}); cmd != nil {
		if _, ok := cmd().(openedMsg); ok {
			t.Error("a list that took an hour to read was read again at once")
		}
	}
	m.lst.listTook = time.Millisecond
	_, cmd := m.Update(refreshMsg{})
	if cmd == nil {
		t.Fatal("a list read in a millisecond was not read again")
	}
	if _, ok := cmd().(openedMsg); !ok {
		t.Error("a list read in a millisecond was not read again")
	}
}

// TestEntryListedByALaterBrick: an entry the first brick's index holds in
// dirty alone (which heal info counts from xattrop, where only the second
// brick has it) is listed once, from the second brick.
func TestEntryListedByALaterBrick(t *testing.T) {
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	// b0 missed the write: b1 blames it, and b1's xattrop lists the file.
	if err := v.WriteFile("/missed.txt", []byte("b0 missed this\n"), 0); err != nil {
		t.Fatal(err)
	}
	g, err := v.Bricks[1].GFIDOf("/missed.txt")
	if err != nil {
		t.Fatal(err)
	}
	// b0's dirty index holds it too, as a write that failed there leaves.
	if err := v.Indexes[0].Add(index.Dirty, g); err != nil {
		t.Fatal(err)
	}
	c := &volume.Catalog{Registry: &volume.Registry{Dir: filepath.Join(dir, "state")}, Glusterd: &volume.Glusterd{Dir: filepath.Join(dir, "none")}}
	src := Source{Catalog: c, Open: c.Lookup, ProcDir: "/proc", StateDir: filepath.Join(dir, "state")}
	vol, err := c.Lookup("fx")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = src.entries(context.Background(), vol, func(b []Entry) error {
		for _, e := range b {
			got = append(got, e.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := slices.Index(got, "/missed.txt"); n < 0 || slices.Index(got[n+1:], "/missed.txt") >= 0 {
		t.Errorf("the entries listed: %q; want /missed.txt once", got)
	}
}
