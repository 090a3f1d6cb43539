package heal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// ErrGFIDSplitBrain is an entry whose copies are different files (they
// disagree on its gfid): a split-brain command resolves it, not a heal.
var ErrGFIDSplitBrain = errors.New("its copies disagree on its gfid (a gfid split-brain): resolve it first")

// HealEntry heals one entry as AFR decides, as a heal of the volume would
// heal it: its data, its metadata and, for a directory, its names. What
// that creates on a sink (a file the sink missed) is filled in by the
// passes that follow, as the volume's heal fills it in (they follow the
// pass's create and link actions: with ForgetActions there is one pass);
// a dry run plans the first pass only, as Heal's does. A split-brain is left (Result.Left)
// for a choice. Whatever it replaces is kept as the volume's heal keeps
// it.
func (e *Engine) HealEntry(ctx context.Context, t Target) (*Result, error) {
	e.result = &Result{Healed: map[string]int{}}
	e.start = time.Now()
	if err := e.checkBricks(); err != nil {
		return e.result, err
	}
	rs, g, err := e.locate(t)
	if err != nil {
		return e.result, fmt.Errorf("%s: %w (%v)", t, ErrNowhere, err)
	}
	var left []Left
	if parent, name := brick.SplitPath(t.Path); t.Path != "" && t.Path != "/" {
		// A named lookup first, as GlusterFS's: it creates the copies
		// the sinks miss (the parent's entry heal, of this name alone).
		if pg := e.gfidOfPath(rs, parent); !pg.IsZero() {
			e.result.Passes = 1
			_, l, _, err := e.healBatch(ctx, rs, []afr.GFID{pg}, false, &SplitBrainOp{Op: afr.OpNone, Brick: -1, only: name})
			left = append(left, l...)
			if err != nil {
				return e.result, fmt.Errorf("looking up %s: %w", t, err)
			}
		}
	}
	if g.IsZero() && t.Path != "" && !e.opts.DryRun {
		// The lookup gives a name made on a brick with no gfid one.
		g = e.gfidOfPath(rs, t.Path)
	}
	if g.IsZero() {
		if e.opts.DryRun && len(e.result.Actions) > 0 {
			return e.result, nil // the lookup's plan gives it a gfid
		}
		return e.result, fmt.Errorf("%s: %w", t, ErrGFIDSplitBrain)
	}
	gfids := []afr.GFID{g}
	for pass := e.result.Passes + 1; pass <= maxPasses && len(gfids) > 0; pass++ {
		e.result.Passes = pass
		before := len(e.result.Actions)
		_, l, _, err := e.healBatch(ctx, rs, gfids, false, nil)
		left = append(left, l...)
		if err != nil {
			return e.result, fmt.Errorf("healing %s: %w", t, err)
		}
		if e.opts.DryRun {
			break
		}
		// The next pass fills in what this one created.
		gfids = nil
		for _, a := range e.result.Actions[before:] {
			if (a.What == "create" || a.What == "link") && !a.Target.IsZero() && !slices.Contains(gfids, a.Target) {
				gfids = append(gfids, a.Target)
			}
		}
	}
	sortLeft(left)
	e.result.Left = left
	for _, l := range left {
		e.emit(l)
	}
	e.result.Bytes = e.bytes.Load()
	return e.result, nil
}
