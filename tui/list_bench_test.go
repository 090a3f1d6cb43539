package tui

import (
	"fmt"
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/afrkit/afrkit/afr"
)

// BenchmarkListOfAMillion: a million entries arrive in the list batch by
// batch, and the screen is drawn: the list's own cost, without the
// bricks (bench/tui.sh times the whole on a real volume). Each batch must
// cost its own size, not the list's.
func BenchmarkListOfAMillion(b *testing.B) {
	const n = 1_000_000
	batches := make([][]Entry, 0, n/entryBatch+1)
	for i := 0; i < n; i += entryBatch {
		batch := make([]Entry, 0, entryBatch)
		for j := i; j < min(i+entryBatch, n); j++ {
			st := afr.HealPending
			if j%1000 == 0 {
				st = afr.SplitBrain
			}
			batch = append(batch, Entry{Path: fmt.Sprintf("/d%d/f%d", j/1000, j), Status: st})
		}
		batches = append(batches, batch)
	}
	for b.Loop() {
		m := New(Source{}, "", lipgloss.NewRenderer(io.Discard))
		m.screen = screenList
		st := &entryStream{}
		m.lst.stream = st
		list, err := newEntryList()
		if err != nil {
			b.Fatal(err)
		}
		m.lst.setList(list)
		for _, batch := range batches {
			next, _ := m.Update(entriesMsg{stream: st, batch: batch})
			m = next.(Model)
		}
		_ = m.View()
		m.lst.setList(nil)
	}
}
