package tui

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/heal"
)

// choice is one way to resolve an entry's split-brain: a copy to keep,
// or a policy that picks it.
type choice struct {
	label string
	op    heal.SplitBrainOp
}

// choicesFor are the ways to resolve the split-brains ex shows: keep one
// brick's copy (source-brick), or let a policy choose (bigger-file,
// latest-mtime: data and gfid split-brains only, as GlusterFS; majority
// with three bricks or more). None when nothing is in split-brain.
func choicesFor(ex heal.Explanation) []choice {
	v := ex.Verdict
	gfid := v.GFIDMismatch && !v.TypeMismatch && v.GFIDSource < 0
	if !gfid && !v.Data.Unresolved && !v.Metadata.Unresolved {
		return nil
	}
	var out []choice
	for i, r := range ex.Replies {
		if r.Answered && r.Exists {
			out = append(out, choice{fmt.Sprintf("keep %s's copy (source-brick)", ex.Labels[i]), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i}})
		}
	}
	if gfid || v.Data.Unresolved {
		out = append(out,
			choice{"keep the bigger copy (bigger-file)", heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}},
			choice{"keep the copy modified last (latest-mtime)", heal.SplitBrainOp{Op: afr.OpLatestMtime, Brick: -1}})
	}
	if len(ex.Replies) >= 3 {
		out = append(out, choice{"keep the version most bricks hold (majority)", heal.SplitBrainOp{Op: afr.OpMajority, Brick: -1}})
	}
	return out
}

// Plan is what a split-brain command did to an entry, or with a dry run
// would do: its outcome in GlusterFS's words, and the changes.
type Plan struct {
	Outcome heal.Outcome
	Actions []heal.Action
}

// resolve runs op on the entry of volume name, or plans it (dryRun), in a
// heal session of its own: refused while GlusterFS serves the volume or
// another afrkit process heals it, and recorded in the volume's history,
// the losing copies kept, as the CLI's split-brain commands.
func (s Source) resolve(ctx context.Context, name string, e Entry, op heal.SplitBrainOp, dryRun bool) (Plan, error) {
	v, err := s.Open(name)
	if err != nil {
		return Plan{}, err
	}
	eng, err := heal.Open(v, heal.SessionOptions{Engine: heal.EngineOptions{DryRun: dryRun}, StateDir: s.StateDir, ProcDir: s.ProcDir})
	if err != nil {
		return Plan{}, err
	}
	defer eng.Close()
	o, err := eng.SplitBrain(ctx, e.target(), op)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Outcome: o}
	if res := eng.Result(); res != nil {
		p.Actions = res.Actions
	}
	return p, nil
}

// target names the entry for heal: by path where one is known.
func (e Entry) target() heal.Target {
	if e.Path != "" {
		return heal.Target{Path: e.Path}
	}
	return heal.Target{GFID: e.GFID}
}

type planMsg struct {
	choice choice
	plan   Plan
	ran    bool
	err    error
}

// runChoice resolves (or plans) the entry shown, or every entry marked,
// one after the other; the plan of several is their plans together, and
// fails if one would.
func (m Model) runChoice(c choice, dryRun bool) tea.Cmd {
	src, name := m.src, m.vol.Name
	targets := m.targets
	if len(targets) == 0 {
		targets = []Entry{m.entry}
	}
	return func() tea.Msg {
		all := Plan{Outcome: heal.Outcome{Healed: true}}
		for _, e := range targets {
			p, err := src.resolve(context.Background(), name, e, c.op, dryRun)
			if err != nil {
				return planMsg{choice: c, plan: all, ran: !dryRun, err: fmt.Errorf("%s: %w", e.target(), err)}
			}
			all.Outcome.Healed = all.Outcome.Healed && p.Outcome.Healed
			all.Outcome.Lines = append(all.Outcome.Lines, p.Outcome.Lines...)
			all.Actions = append(all.Actions, p.Actions...)
		}
		return planMsg{choice: c, plan: all, ran: !dryRun}
	}
}

// batchChoices are the ways to resolve several entries at once: a brick
// position of the replica set kept for each, or a policy.
func batchChoices(replica int) []choice {
	var out []choice
	for i := range replica {
		out = append(out, choice{fmt.Sprintf("keep b%d's copy of each (source-brick)", i), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i}})
	}
	out = append(out,
		choice{"keep the bigger copy of each (bigger-file)", heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}},
		choice{"keep the copy of each modified last (latest-mtime)", heal.SplitBrainOp{Op: afr.OpLatestMtime, Brick: -1}})
	if replica >= 3 {
		out = append(out, choice{"keep the version most bricks hold (majority)", heal.SplitBrainOp{Op: afr.OpMajority, Brick: -1}})
	}
	return out
}

// planText is a plan, or what the run did, as the screen shows it.
func (m Model) planText() string {
	var b strings.Builder
	p := m.plan
	if m.planErr != nil {
		return m.styles.err.Render("refused: "+brick.EscapeName(m.planErr.Error())) + "\n\nNothing was changed."
	}
	if !m.ran {
		fmt.Fprintf(&b, "%s: %s\n\n", m.styles.title.Render("The plan"), m.choice.label)
		if !p.Outcome.Healed {
			b.WriteString("It would fail, and change nothing:\n")
			for _, l := range p.Outcome.Lines {
				b.WriteString("  " + brick.EscapeName(l) + "\n")
			}
			return b.String()
		}
		for _, a := range p.Actions {
			fmt.Fprintf(&b, "  %s: %s%s: %s\n", brick.EscapeName(a.Path), a.What, direction(a), brick.EscapeName(a.Detail))
		}
		b.WriteString("\nThe copies it replaces are kept on their bricks, and the choice is recorded\nin the volume's history (afrkit heal VOL undo ID puts them back).\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %s\n\n", m.styles.title.Render("Done"), m.choice.label)
	for _, l := range p.Outcome.Lines {
		b.WriteString("  " + brick.EscapeName(l) + "\n")
	}
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "  %s: %s%s: %s\n", brick.EscapeName(a.Path), a.What, direction(a), brick.EscapeName(a.Detail))
	}
	return b.String()
}

// direction is " from SOURCE to SINKS" of an action.
func direction(a heal.Action) string {
	d := ""
	if a.Source != "" {
		d = " from " + a.Source
	}
	if len(a.Sinks) > 0 {
		d += " to " + strings.Join(a.Sinks, ", ")
	}
	return d
}
