package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/heal"
)

// healAll heals every entry of volume name the bricks' indexes list, or
// plans it (dryRun), in a heal session: what `afrkit heal VOL` does, with
// split-brains left to a choice (or the volume's favorite-child-policy).
func (s Source) healAll(ctx context.Context, name string, dryRun bool) (*heal.Result, error) {
	eng, err := s.session(name, dryRun, false)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return eng.Heal(ctx, false)
}

// healEntry heals the one entry e of volume name as AFR decides, or plans
// it (dryRun), in a heal session (heal.Engine.HealEntry).
func (s Source) healEntry(ctx context.Context, name string, e Entry, dryRun bool) (*heal.Result, error) {
	eng, err := s.session(name, dryRun, false)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return eng.HealEntry(ctx, e.target())
}

// healAllAction heals every entry the bricks' indexes list.
func (m Model) healAllAction() action {
	src, name := m.src, m.vol.Name
	return action{
		header: name + ": heal every entry",
		do: func(ctx context.Context, dryRun bool) (outcome, error) {
			res, err := src.healAll(ctx, name, dryRun)
			if err != nil && (res == nil || len(res.Actions) == 0) {
				return nil, err // refused, or failed before any change
			}
			return healed{res}, err
		},
		back:    toList,
		done:    relist,
		doneTo:  "the entries",
		gluster: glusterHeal(name),
	}
}

// healEntryAction heals the entry shown.
func (m Model) healEntryAction() action {
	src, name, e := m.src, m.vol.Name, m.ent.entry
	return action{
		header: fmt.Sprintf("%s: heal %s", name, brick.EscapeName(e.target().String())),
		do: func(ctx context.Context, dryRun bool) (outcome, error) {
			res, err := src.healEntry(ctx, name, e, dryRun)
			if err != nil && (res == nil || len(res.Actions) == 0) {
				return nil, err // refused, or failed before any change
			}
			return healed{res}, err
		},
		back:    toEntry,
		done:    relist,
		doneTo:  "the entries",
		gluster: glusterHeal(name),
	}
}

// healed is a heal's plan, or what it did.
type healed struct{ res *heal.Result }

func (h healed) runnable() bool { return len(h.res.Actions) > 0 }

func (h healed) text(st styles, ran bool) string {
	res := h.res
	var b strings.Builder
	if !ran {
		fmt.Fprintf(&b, "%s: %d change(s).\n", st.title.Render("The plan"), len(res.Actions))
		b.WriteString("(The content of the files it creates is copied by the run's next pass.)\n\n")
		writeActions(&b, res.Actions)
	} else {
		fmt.Fprintf(&b, "%s: healed %d data, %d metadata, %d entry in %d pass(es).\n", st.title.Render("Done"),
			res.Healed["data"], res.Healed["metadata"], res.Healed["entry"], res.Passes)
		for _, r := range res.Resolved {
			fmt.Fprintf(&b, "  resolved %s (%s, %s): kept %s's copy\n", brick.EscapeName(r.Path), r.Kind, r.How, r.Source)
		}
		b.WriteString("\n")
		writeActions(&b, res.Actions)
	}
	left := res.Left
	if !ran {
		// What the plan creates is filled in by the run's next pass.
		planned := map[string]bool{}
		for _, a := range res.Actions {
			planned[a.Path] = true
		}
		left = slices.DeleteFunc(slices.Clone(left), func(l heal.Left) bool { return planned[l.Path] })
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "\n%s (%d)\n", st.title.Render("Left for a choice"), len(left))
		for _, l := range left {
			fmt.Fprintf(&b, "  %s: %s\n", brick.EscapeName(l.Path), brick.EscapeName(l.Reason))
		}
	}
	return b.String()
}
