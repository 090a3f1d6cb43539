package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/tui"
)

// NewCmdTui is `afrkit tui [VOL]`.
func NewCmdTui(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "tui [VOL]",
		Short: "Browse a volume's entries, every brick's copy side by side, and resolve split-brains",
		Long: `tui opens the volumes of this host in a terminal UI: each volume with its
entries and split-brains, a volume's entries grouped as heal info reads them
(split-brain, pending, possibly healing; tab picks one kind, / searches the
paths), and an entry's copies side by side with AFR's verdict and the
commands that would resolve it. There, s resolves a split-brain: keep one
brick's copy, or let bigger-file or latest-mtime choose; the plan (a dry
run) shows first, y runs it, the copies it replaces are kept on their
bricks and the choice is recorded in the history, as the split-brain
commands do; space marks split-brains in the list, and s there resolves
them all by one choice. h shows the history, where enter undoes a record (its plan
first; refused while the volume is mounted, as heal VOL undo is). After
heal info's entries, fsck's crawl lists the rsync temp files left behind;
r renames one to its final name (the plan first), and where the final
name holds other content both versions are shown. H heals every entry the
indexes list, as afrkit heal VOL does (the plan first).
Browsing reads the bricks as heal info does, without locks. NO_COLOR
turns colors off.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := ""
			if len(args) == 1 {
				start = args[0]
			}
			return tuiRun(f, start)
		},
	}
}

// errNoTerminal is a tui started with no terminal to draw on.
var errNoTerminal = errors.New("afrkit tui needs a terminal: its output is not one (heal VOL info and heal VOL explain FILE print the same for a pipe)")

func tuiRun(f *Factory, start string) error {
	in, ok := f.IO.In.(*os.File)
	if !f.IO.StdoutTTY || !ok {
		return exitStatus{ExitUsage, errNoTerminal}
	}
	if start != "" {
		if _, err := f.lookupBricks(start); err != nil {
			return err
		}
	}
	src := tui.Source{Catalog: f.Catalog(), Open: f.lookupBricks, ProcDir: procDir, StateDir: f.StateDir, LookBudget: 300 * time.Millisecond, Refresh: 5 * time.Second}
	m := tui.New(src, start, lipgloss.NewRenderer(f.IO.Out))
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(in), tea.WithOutput(f.IO.Out))
	if _, err := p.Run(); err != nil {
		return fmt.Errorf("afrkit tui: %w", err)
	}
	return nil
}
