package tui

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/afrkit/afrkit/brick"
)

// action is a change the TUI makes to a volume as the CLI makes it: first
// its plan, the dry run of the very call that then runs, and on y the
// run. Resolving split-brains, healing, renaming a stale temp file and
// undoing a record are each one.
type action struct {
	header string
	// do plans (dryRun) or runs the change, in a session of its own. It
	// runs in a command's goroutine: it reads nothing of the model, only
	// what it was built with. A run that fails returns what it did before
	// failing with the error; one refused, or failed before it changed
	// anything, a nil outcome.
	do func(ctx context.Context, dryRun bool) (outcome, error)
	// back leaves the plan without running it; done leaves the screen
	// once the run is over (it lists the volume again, as the run changed
	// it). doneTo names where done goes, for the help bar.
	back, done func(m Model) (Model, tea.Cmd)
	doneTo     string
	// gluster is, on a started GlusterFS volume (which afrkit only
	// reads), what a person runs to have GlusterFS do the same.
	gluster []string
}

// outcome is what an action planned or did.
type outcome interface {
	// runnable reports whether the plan has something to run.
	runnable() bool
	// text is the plan (ran false) or what the run did.
	text(st styles, ran bool) string
}

type actionMsg struct {
	out outcome
	ran bool
	err error
}

// startAction shows a's plan, once its dry run is over.
func (m Model) startAction(a action) (Model, tea.Cmd) {
	m.screen, m.act.action, m.act.out, m.act.err, m.act.ran, m.act.working = screenAction, a, nil, nil, false, true
	return m, m.doAction(true)
}

func (m Model) doAction(dryRun bool) tea.Cmd {
	do := m.act.action.do
	return func() tea.Msg {
		out, err := do(context.Background(), dryRun)
		return actionMsg{out, !dryRun, err}
	}
}

func (m Model) actionKey(k tea.KeyMsg) (Model, tea.Cmd) {
	if m.act.working {
		return m, nil // the plan or the run is under way
	}
	switch k.String() {
	case "y":
		if m.act.canRun(m.vol.Started) {
			m.act.working = true
			return m, m.doAction(false)
		}
	case "esc", "n", "enter":
		if m.act.ran {
			return m.act.action.done(m)
		}
		return m.act.action.back(m)
	}
	return m, nil
}

// canRun: the plan is shown, whole, with something to run, on a volume
// afrkit may write (not started: GlusterFS does not serve it).
func (a actionModel) canRun(started bool) bool {
	return !started && !a.ran && a.err == nil && a.out != nil && a.out.runnable()
}

// actionView is the action's screen: its body and help bar.
func (m Model) actionView() (body, help string) {
	switch {
	case m.act.working:
		return "working…", ""
	case m.act.ran:
		help = "enter back to " + m.act.action.doneTo + " · q quit"
	case m.act.canRun(m.vol.Started):
		help = "y run it · esc back · q quit"
	default:
		help = "esc back · q quit"
	}
	switch {
	case m.act.err != nil && !m.act.ran:
		body = m.styles.err.Render("refused: "+brick.EscapeName(m.act.err.Error())) + "\n\nNothing was changed."
	case m.act.err != nil:
		// A run that failed part-way: what it did before is real.
		body = m.styles.err.Render("failed: "+brick.EscapeName(m.act.err.Error())) + "\n\n"
		if m.act.out != nil {
			body += m.act.out.text(m.styles, true) + "\n"
		}
		body += "The entries, listed again, show where the volume stands."
	default:
		body = m.act.out.text(m.styles, m.act.ran)
	}
	if m.vol.Started && !m.act.ran {
		body += "\n" + m.styles.title.Render(fmt.Sprintf("GlusterFS serves %s: afrkit only plans here. Through GlusterFS:", m.vol.Name)) + "\n"
		for _, c := range m.act.action.gluster {
			body += "  " + c + "\n"
		}
	}
	return wrapLines(body, m.width), help
}

// wrapLines wraps each line of text that is wider than width at its
// spaces, each further piece indented four more than the line: a plan is
// read whole, not cut at the screen's edge. It breaks at spaces only
// (ansi.Wrap breaks at hyphens too, which splits gfids and paths); a word
// wider than a line is left whole, for the screen's edge to cut.
func wrapLines(text string, width int) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		rest := strings.TrimLeft(l, " ")
		lead := strings.Repeat(" ", len(l)-len(rest))
		pad := lead + strings.Repeat(" ", 4)
		if len(pad) > width/2 {
			pad = strings.Repeat(" ", width/2)
		}
		cur, curW := lead, len(lead)
		flush := func() {
			out = append(out, strings.TrimRight(cur, " "))
			cur, curW = pad, len(pad)
		}
		for _, word := range strings.Split(rest, " ") {
			w := ansi.StringWidth(word)
			if cur != lead && cur != pad {
				if curW+1+w > width {
					flush()
				} else {
					cur, curW = cur+" ", curW+1
				}
			}
			cur, curW = cur+word, curW+w
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
}

// relist goes back to the entry list, read again.
func relist(m Model) (Model, tea.Cmd) {
	m.screen, m.targets = screenList, nil
	return m, m.openVolume(m.vol.Name)
}

// toList goes back to the entry list as it is.
func toList(m Model) (Model, tea.Cmd) {
	m.screen, m.targets = screenList, nil
	return m, nil
}

// toEntry goes back to the entry view.
func toEntry(m Model) (Model, tea.Cmd) {
	m.screen = screenEntry
	return m, nil
}
