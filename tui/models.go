package tui

import (
	"github.com/charmbracelet/bubbles/viewport"

	"github.com/afrkit/afrkit/heal"
)

// pickerModel is the volume picker.
type pickerModel struct {
	rows   []VolumeRow
	loaded bool
	cursor int
}

// entryModel is an entry's view: every brick's copy side by side.
type entryModel struct {
	entry  Entry
	exs    []heal.Explanation
	err    error
	view   viewport.Model
	notice string
}

// contentModel is the content view: every brick's copy, read, the two
// compared (pair) and whether their blake3 was asked for.
type contentModel struct {
	copies []heal.Copy
	err    error
	pair   [2]int
	hashed bool
	view   viewport.Model
}

// chooseModel is a choice asked (how to resolve the entry's split-brain,
// which version keeps a name): the question and the ways offered.
type chooseModel struct {
	question string
	choices  []choice
	cursor   int
}

// historyModel is the volume's history, newest first.
type historyModel struct {
	recs   []heal.Record
	undone map[string]string
	err    error
	cursor int
}

// actionModel is the action shown: its plan (a dry run) or, once ran,
// what the run did; working while either is under way.
type actionModel struct {
	action  action
	out     outcome
	err     error
	ran     bool
	working bool
}
