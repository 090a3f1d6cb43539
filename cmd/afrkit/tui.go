package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
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
commands that would resolve it.

Every action shows its plan (a dry run) first, and y runs it:
  s      resolve the entry's split-brain: keep one brick's copy, or let
         bigger-file, latest-mtime or majority choose; the copies it
         replaces are kept on their bricks and the choice is recorded in
         the history, as the split-brain commands do
  space  mark split-brains in the list; s there resolves them all by one
         choice
  r      rename a stale rsync temp file (listed after heal info's entries,
         from fsck's crawl) to its final name; where the final name holds
         other content both versions are shown instead
  H      heal every entry the indexes list, as afrkit heal VOL does
  h      the history, where enter undoes a record (refused while the
         volume is mounted, as heal VOL undo is)

Browsing reads the bricks as heal info does, without locks. NO_COLOR turns
colors off.`,
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
	// The TUI looks again every few seconds: other hosts' bricks are
	// opened once for all its looks.
	reused, release := heal.ReuseRemote(heal.OpenOptions{Remote: f.remoteBrick})
	defer release()
	reach := func(v *volume.Volume) heal.OpenOptions {
		if f.reach(v).Remote == nil {
			return heal.OpenOptions{}
		}
		return reused
	}
	src := tui.Source{Catalog: f.Catalog(), Open: f.lookupBricks, Reach: reach, ProcDir: procDir, StateDir: f.StateDir, LookBudget: 300 * time.Millisecond, Refresh: 5 * time.Second}
	m := tui.New(src, start, lipgloss.NewRenderer(f.IO.Out))
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(in), tea.WithOutput(f.IO.Out))
	if _, err := p.Run(); err != nil {
		return fmt.Errorf("afrkit tui: %w", err)
	}
	return nil
}
