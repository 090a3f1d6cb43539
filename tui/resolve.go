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

// choice is one way to settle what the chosen screen asks: a copy to
// keep, or a policy that picks it.
type choice struct {
	label string
	// act is the action the choice takes, its plan shown first.
	act func(m Model) action
}

// resolveBy is the choice to resolve by op.
func resolveBy(label string, op heal.SplitBrainOp) choice {
	return choice{label, func(m Model) action { return m.resolveAction(label, op) }}
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
			out = append(out, resolveBy(fmt.Sprintf("keep %s's copy (source-brick)", ex.Labels[i]), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i}))
		}
	}
	if gfid || v.Data.Unresolved {
		out = append(out,
			resolveBy("keep the bigger copy (bigger-file)", heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}),
			resolveBy("keep the copy modified last (latest-mtime)", heal.SplitBrainOp{Op: afr.OpLatestMtime, Brick: -1}))
	}
	if len(ex.Replies) >= 3 {
		out = append(out, resolveBy("keep the version most bricks hold (majority)", heal.SplitBrainOp{Op: afr.OpMajority, Brick: -1}))
	}
	if v.Data.Unresolved && v.Metadata.Unresolved {
		// Content from one brick, owner and mode from another: each kind
		// on its own, the other left for its own choice.
		for _, kind := range []afr.Kind{afr.Data, afr.Metadata} {
			for i, r := range ex.Replies {
				if r.Answered && r.Exists {
					out = append(out, resolveBy(fmt.Sprintf("keep %s's %s only (source-brick)", ex.Labels[i], kind), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i, Kinds: []afr.Kind{kind}}))
				}
			}
		}
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
	eng, err := s.session(name, dryRun, false)
	if err != nil {
		return Plan{}, err
	}
	defer eng.Close()
	o, err := eng.SplitBrain(ctx, e.target(), op)
	p := Plan{Outcome: o}
	if res := eng.Result(); res != nil {
		// With an error too: what it did before failing is real.
		p.Actions = res.Actions
	}
	return p, err
}

// target names the entry for heal: by path where one is known.
func (e Entry) target() heal.Target {
	if e.Path != "" {
		return heal.Target{Path: e.Path}
	}
	return heal.Target{GFID: e.GFID}
}

// resolveAction resolves the entry shown, or every entry marked, by op,
// one after the other; the plan of several is their plans together, and
// is refused if one would be.
func (m Model) resolveAction(label string, op heal.SplitBrainOp) action {
	src, name := m.src, m.vol.Name
	targets := m.targets
	if len(targets) == 0 {
		targets = []Entry{m.ent.entry}
	}
	return action{
		header: m.resolveHeader(),
		do: func(ctx context.Context, dryRun bool) (outcome, error) {
			all := resolved{label: label, Plan: Plan{Outcome: heal.Outcome{Healed: true}}}
			for _, e := range targets {
				p, err := src.resolve(ctx, name, e, op, dryRun)
				all.Actions = append(all.Actions, p.Actions...)
				if err != nil && len(all.Actions) == 0 {
					return nil, fmt.Errorf("%s: %w", e.target(), err) // refused: nothing done
				}
				if err != nil {
					all.Outcome.Healed = false
					return all, fmt.Errorf("%s: %w", e.target(), err)
				}
				all.Outcome.Healed = all.Outcome.Healed && p.Outcome.Healed
				all.Outcome.Lines = append(all.Outcome.Lines, p.Outcome.Lines...)
			}
			return all, nil
		},
		back: func(m Model) (Model, tea.Cmd) {
			if len(m.targets) > 0 {
				return toList(m)
			}
			return toEntry(m)
		},
		done: func(m Model) (Model, tea.Cmd) {
			m.lst.marked = nil // resolved: nothing marked
			return relist(m)
		},
		doneTo:  "the entries",
		gluster: glusterResolve(name, m.vol.Replica, m.vol.BrickNames, op, targets),
	}
}

// unexplainedChoices are the ways to settle copies that differ with no
// counter to say why: keep one brick's copy (source-brick, which afrkit
// takes as naming the source where GlusterFS finds no split-brain).
func unexplainedChoices(ex heal.Explanation) []choice {
	var out []choice
	for i, r := range ex.Replies {
		if r.Answered && r.Exists {
			out = append(out, resolveBy(fmt.Sprintf("keep %s's copy (source-brick)", ex.Labels[i]), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i}))
		}
	}
	return out
}

// batchChoices are the ways to resolve several entries at once: a brick
// position of the replica set kept for each, or a policy.
func batchChoices(replica int) []choice {
	var out []choice
	for i := range replica {
		out = append(out, resolveBy(fmt.Sprintf("keep b%d's copy of each (source-brick)", i), heal.SplitBrainOp{Op: afr.OpSourceBrick, Brick: i}))
	}
	out = append(out,
		resolveBy("keep the bigger copy of each (bigger-file)", heal.SplitBrainOp{Op: afr.OpBiggerFile, Brick: -1}),
		resolveBy("keep the copy of each modified last (latest-mtime)", heal.SplitBrainOp{Op: afr.OpLatestMtime, Brick: -1}))
	if replica >= 3 {
		out = append(out, resolveBy("keep the version most bricks hold (majority)", heal.SplitBrainOp{Op: afr.OpMajority, Brick: -1}))
	}
	return out
}

// resolved is a choice's plan, or what its run did.
type resolved struct {
	label string
	Plan
}

func (r resolved) runnable() bool { return r.Outcome.Healed }

func (r resolved) text(st styles, ran bool) string {
	var b strings.Builder
	if !ran {
		fmt.Fprintf(&b, "%s: %s\n\n", st.title.Render("The plan"), r.label)
		if !r.Outcome.Healed {
			b.WriteString("It would fail, and change nothing:\n")
			for _, l := range r.Outcome.Lines {
				b.WriteString("  " + brick.EscapeName(l) + "\n")
			}
			return b.String()
		}
		writeActions(&b, r.Actions)
		b.WriteString("\nThe copies it replaces are kept on their bricks, and the choice is recorded\nin the volume's history (afrkit heal VOL undo ID puts them back).\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %s\n\n", st.title.Render("Done"), r.label)
	for _, l := range r.Outcome.Lines {
		b.WriteString("  " + brick.EscapeName(l) + "\n")
	}
	writeActions(&b, r.Actions)
	return b.String()
}

// writeActions lists a heal's actions, one a line.
func writeActions(b *strings.Builder, actions []heal.Action) {
	for _, a := range actions {
		fmt.Fprintf(b, "  %s: %s%s: %s\n", brick.EscapeName(a.Path), a.What, direction(a), brick.EscapeName(a.Detail))
	}
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
