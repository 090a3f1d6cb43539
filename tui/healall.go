package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/heal"
)

// healAll heals every entry of volume name the bricks' indexes list, or
// plans it (dryRun), in a heal session: what `afrkit heal VOL` does, with
// split-brains left to a choice (or the volume's favorite-child-policy).
func (s Source) healAll(ctx context.Context, name string, dryRun bool) (*heal.Result, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	eng, err := heal.Open(v, heal.SessionOptions{Engine: heal.EngineOptions{DryRun: dryRun}, StateDir: s.StateDir, ProcDir: s.ProcDir})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return eng.Heal(ctx, false)
}

type healAllMsg struct {
	res *heal.Result
	ran bool
	err error
}

func (m Model) runHealAll(dryRun bool) tea.Cmd {
	src, name := m.src, m.vol.Name
	return func() tea.Msg {
		res, err := src.healAll(context.Background(), name, dryRun)
		return healAllMsg{res, !dryRun, err}
	}
}

// healAllText is the heal's plan, or what it did.
func (m Model) healAllText() string {
	if m.healErr != nil {
		return m.styles.err.Render("refused: "+brick.EscapeName(m.healErr.Error())) + "\n\nNothing was changed."
	}
	res := m.healRes
	var b strings.Builder
	if !m.healRan {
		fmt.Fprintf(&b, "%s: %d change(s); those they lead to (the content of files it creates) are planned by the next pass.\n\n", m.styles.title.Render("The plan"), len(res.Actions))
		for _, a := range res.Actions {
			fmt.Fprintf(&b, "  %s: %s%s: %s\n", brick.EscapeName(a.Path), a.What, direction(a), brick.EscapeName(a.Detail))
		}
	} else {
		fmt.Fprintf(&b, "%s: healed %d data, %d metadata, %d entry in %d pass(es).\n", m.styles.title.Render("Done"),
			res.Healed["data"], res.Healed["metadata"], res.Healed["entry"], res.Passes)
		for _, r := range res.Resolved {
			fmt.Fprintf(&b, "  resolved %s (%s, %s): kept %s's copy\n", brick.EscapeName(r.Path), r.Kind, r.How, r.Source)
		}
	}
	left := res.Left
	if !m.healRan {
		// What the plan creates is filled in by the run's next pass.
		planned := map[string]bool{}
		for _, a := range res.Actions {
			planned[a.Path] = true
		}
		left = slices.DeleteFunc(slices.Clone(left), func(l heal.Left) bool { return planned[l.Path] })
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "\n%s (%d)\n", m.styles.title.Render("Left for a choice"), len(left))
		for _, l := range left {
			fmt.Fprintf(&b, "  %s: %s\n", brick.EscapeName(l.Path), brick.EscapeName(l.Reason))
		}
	}
	return b.String()
}
