package main

import (
	"fmt"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/live"
)

// liveSplitBrainRun is `afrkit heal VOL split-brain OP ... FILE` on a
// started GlusterFS volume: afrkit picks the source as it would offline,
// keeps the other copies in its state directory, and has GlusterFS's AFR
// heal the file from the source through the volume's client graph
// (heal.ResolveLive). One file at a time: a started volume's split-brains
// are listed by heal info.
func liveSplitBrainRun(opts *HealRunOptions, v *volume.Volume, sbop heal.SplitBrainOp, rest []string, usage error) error {
	set := 0
	if sbop.Op == afr.OpSourceBrick {
		if len(rest) < 1 {
			return usage
		}
		idx, err := brickIndexOrLabel(v, rest[0])
		if err != nil {
			return usageError{err}
		}
		set, sbop.Brick = idx/max(v.Replica, 1), idx%max(v.Replica, 1)
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return usageError{fmt.Errorf("heal %s split-brain %s: GlusterFS serves %s, whose split-brains afrkit resolves one file at a time, through GlusterFS: name the file (afrkit heal %s info split-brain lists them)", v.Name, sbop.Op, v.Name, v.Name)}
	}
	t, err := parseExplainTarget(rest[0])
	if err != nil {
		return err
	}
	var lv *live.Volume
	defer func() {
		if lv != nil {
			lv.Close()
		}
	}()
	connect := func() (heal.Finalizer, error) {
		lib, err := loadGfapi()
		if err != nil {
			return nil, fmt.Errorf("GlusterFS serves %s, which afrkit changes through libgfapi: %w", v.Name, err)
		}
		if lv, err = live.Open(lib, v, opts.F.GlusterdSocket, live.ForSplitBrainHeal); err != nil {
			return nil, err
		}
		return lv, nil
	}
	o, err := heal.ResolveLive(v, t, sbop, heal.LiveOptions{Open: opts.F.reach(v), StateDir: opts.F.StateDir, DryRun: opts.DryRun, SourceSet: set, Connect: connect})
	if err != nil {
		return fmt.Errorf("heal %s split-brain %s: %w", v.Name, sbop.Op, err)
	}
	out := opts.F.IO.Out
	if opts.JSON {
		doc := splitBrainJSON{Volume: v.Name, Command: sbop.Op.String(), File: rest[0], DryRun: opts.DryRun,
			Outcomes: []outcomeJSON{{File: o.Path, Healed: true, Lines: o.Lines}}, Healed: 1}
		if sbop.Op == afr.OpSourceBrick {
			doc.Brick = v.Bricks[set*max(v.Replica, 1)+sbop.Brick].String()
		}
		return writeJSON(out, doc)
	}
	if opts.DryRun {
		fmt.Fprintf(out, "Dry run: nothing was changed. GlusterFS serves %s; afrkit would:\n", v.Name)
		for _, l := range o.Lines {
			fmt.Fprintln(out, "  "+l)
		}
		return nil
	}
	for _, l := range o.Lines {
		fmt.Fprintln(out, l)
	}
	return nil
}
