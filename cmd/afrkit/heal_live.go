package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/glustercli"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/live"
)

// liveSplitBrainRun is `afrkit heal VOL split-brain OP ... FILE` on a
// started GlusterFS volume: afrkit picks the source as it would offline,
// keeps the other copies in its state directory, and has GlusterFS's AFR
// heal the file from the source through the volume's client graph
// (heal.ResolveLive); source-brick and majority without a file resolve
// every split-brain entry the indexes list, each so (liveSplitBrainAll).
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
	all := len(rest) == 0 && (sbop.Op == afr.OpSourceBrick || sbop.Op == afr.OpMajority)
	if len(rest) != 1 && !all {
		return usage
	}
	lopts, closeLive := liveResolveOptions(opts, v)
	defer closeLive()
	lopts.SourceSet = set
	if all {
		return liveSplitBrainAll(opts, v, sbop, set, lopts)
	}
	t, err := parseExplainTarget(rest[0])
	if err != nil {
		return err
	}
	o, err := heal.ResolveLive(v, t, sbop, lopts)
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
			fmt.Fprintln(out, "  "+esc(l))
		}
		return nil
	}
	for _, l := range o.Lines {
		fmt.Fprintln(out, esc(l))
	}
	return nil
}

// liveResolveOptions are the options of a live resolution on v: its AFR
// reached through libgfapi once first needed (closed by the func
// returned), gfid split-brains resolved by GlusterFS's glfsheal.
func liveResolveOptions(opts *HealRunOptions, v *volume.Volume) (heal.LiveOptions, func()) {
	var lv *live.Volume
	closeLive := func() {
		if lv != nil {
			lv.Close()
		}
	}
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
	// A gfid split-brain is GlusterFS's glfsheal's to resolve (a client's
	// finalize cannot), run against the glusterd afrkit was given.
	resolveGFID := func(path string, source volume.Brick) error {
		out, err := glustercli.Glfsheal{Socket: opts.F.GlusterdSocket}.SourceBrick(context.Background(), v.Name, source.String(), path)
		if err != nil {
			return fmt.Errorf("GlusterFS did not resolve it: %w", err)
		}
		if !strings.Contains(out, "GFID split-brain resolved") && !strings.HasPrefix(out, "Healed ") {
			return fmt.Errorf("GlusterFS did not resolve it: glfsheal said %q", out)
		}
		return nil
	}
	lopts := heal.LiveOptions{Open: opts.F.reach(v), StateDir: opts.F.StateDir, DryRun: opts.DryRun, Connect: connect, ResolveGFID: resolveGFID}
	return lopts, closeLive
}

// liveSplitBrainAll is `afrkit heal VOL split-brain source-brick BRICK`
// and `... majority` without a file on a started GlusterFS volume: every
// entry in split-brain that the indexes list (BRICK's,
// or every brick's), each resolved as one file would be
// (heal.ResolveLiveAll). An entry refused is said and the others go on;
// the exit status is then 1.
func liveSplitBrainAll(opts *HealRunOptions, v *volume.Volume, sbop heal.SplitBrainOp, set int, lopts heal.LiveOptions) error {
	out := opts.F.IO.Out
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	doc := splitBrainJSON{Volume: v.Name, Command: sbop.Op.String(), DryRun: opts.DryRun, Outcomes: []outcomeJSON{}}
	if sbop.Op == afr.OpSourceBrick {
		doc.Brick = v.Bricks[set*max(v.Replica, 1)+sbop.Brick].String()
	}
	if opts.DryRun && !opts.JSON {
		fmt.Fprintf(out, "Dry run: nothing was changed. GlusterFS serves %s; afrkit would:\n", esc(v.Name))
	}
	failed := 0
	n, err := heal.ResolveLiveAll(ctx, v, sbop, lopts, func(t heal.Target, o heal.LiveOutcome, err error) {
		file := o.Path
		if file == "" {
			file = t.String()
		}
		lines := o.Lines
		if err != nil {
			failed++
			lines = []string{fmt.Sprintf("%s: not resolved: %v", file, err)}
		}
		if opts.JSON {
			doc.Outcomes = append(doc.Outcomes, outcomeJSON{File: file, Healed: err == nil, Lines: lines})
			return
		}
		for _, l := range lines {
			if opts.DryRun {
				l = "  " + l
			}
			fmt.Fprintln(out, esc(l))
		}
	})
	interrupted := err != nil && ctx.Err() != nil
	if err != nil && !interrupted {
		return fmt.Errorf("heal %s split-brain %s: %w", v.Name, sbop.Op, err)
	}
	if opts.JSON {
		doc.Healed, doc.Interrupted = n, interrupted
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	} else if opts.DryRun {
		fmt.Fprintf(out, "Number of entries that would be healed: %d\n", n)
	} else {
		fmt.Fprintf(out, "Number of healed entries: %d\n", n)
	}
	if interrupted {
		return exitStatus{ExitInterrupted, fmt.Errorf("heal %s split-brain: interrupted; what was resolved is recorded (see 'afrkit heal %s history'), and running it again finishes it", v.Name, v.Name)}
	}
	if failed > 0 {
		return errReported
	}
	return nil
}

// liveHealRun is `afrkit heal VOL [full]` on a started GlusterFS volume.
// Its bricks are GlusterFS's while it runs: afrkit heals nothing itself
// but has glusterd start GlusterFS's own self-heal daemons, on every
// server, as `gluster volume heal VOL [full]` does, and then follows them
// through the bricks' indexes until nothing healable is left (heal VOL
// wait). A full heal is a crawl that the indexes do not show: afrkit
// starts it and returns.
func liveHealRun(opts *HealRunOptions, v *volume.Volume) error {
	switch {
	case opts.JSON:
		return usageError{fmt.Errorf("heal %s --json: GlusterFS serves %s and its self-heal daemon heals it; afrkit heal %s status --json follows it", v.Name, v.Name, v.Name)}
	case opts.Algorithm != "":
		return usageError{fmt.Errorf("heal %s --algorithm: GlusterFS serves %s and its self-heal daemon heals it with the volume's cluster.data-self-heal-algorithm (gluster volume set %s cluster.data-self-heal-algorithm %s)", v.Name, v.Name, v.Name, opts.Algorithm)}
	case opts.Jobs > 0:
		return usageError{fmt.Errorf("heal %s --jobs: GlusterFS serves %s and its self-heal daemon heals it with the volume's cluster.shd-max-threads", v.Name, v.Name)}
	}
	sweep := glustercli.Index
	if opts.Full {
		sweep = glustercli.Full
	}
	gluster := "gluster volume heal " + strings.Join(sweep.Args(v.Name)[2:], " ")
	if on, err := v.BoolOption("cluster.self-heal-daemon", true); err != nil {
		return err
	} else if !on {
		return fmt.Errorf("heal %s: GlusterFS serves %s and its self-heal daemon is off (cluster.self-heal-daemon): afrkit heals a started GlusterFS volume only through that daemon, never behind GlusterFS's back; turn it on (gluster volume set %s cluster.self-heal-daemon on), or stop the volume for afrkit heal to heal its bricks itself; nothing was changed", v.Name, v.Name, v.Name)
	}
	wait := HealStatusOptions{F: opts.F, Interval: 2 * time.Second}
	if opts.Wait != nil {
		wait = *opts.Wait
	}
	l, err := openStatusOf(opts.F, v, "")
	if err != nil {
		return err
	}
	defer l.release()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := l.look(ctx, statusBudget); err != nil {
		return err
	}
	noteUnreachable(opts.F.IO.ErrOut, l.brickErrs())
	out := opts.F.IO.Out
	left := l.backlog.Left()
	_, sb, _ := l.backlog.Sum()
	// GlusterFS's self-heal daemon resolves some split-brains without a
	// person and replaces the other copies without keeping them: afrkit
	// resolves those first, as the daemon would, keeping the losers.
	// Not only when split-brains were counted: the count is a quick
	// look, and resolveUnattended reads every entry the indexes list.
	resolved, err := resolveUnattended(ctx, opts, v)
	if !opts.DryRun {
		for _, line := range resolved {
			fmt.Fprintln(out, esc(line))
		}
	}
	if err != nil {
		return err
	}
	if len(resolved) > 0 && !opts.DryRun {
		if err := l.look(ctx, statusBudget); err != nil {
			return err
		}
		left = l.backlog.Left()
		_, sb, _ = l.backlog.Sum()
	}
	if sweep == glustercli.Index && left == 0 && l.downBricks() == 0 {
		l.save(opts.F.IO.ErrOut)
		fmt.Fprintf(out, "heal %s: nothing left to heal\n", esc(v.Name))
		return nil
	}
	socket := opts.F.GlusterdSocket
	down := liveDownBricks(v, l)
	if opts.DryRun {
		fmt.Fprintf(out, "Dry run: nothing was changed. GlusterFS serves %s; afrkit would:\n", esc(v.Name))
		for _, line := range resolved {
			fmt.Fprintln(out, "  "+esc(line))
		}
		if sweep == glustercli.Full {
			fmt.Fprintf(out, "  ask glusterd (%s) to have GlusterFS's self-heal daemons crawl every brick and heal what differs (%s)\n", socket, gluster)
		} else {
			fmt.Fprintf(out, "  ask glusterd (%s) to have GlusterFS's self-heal daemons heal what the bricks' indexes list (%s)\n", socket, gluster)
			waits := "which wait for a person"
			if len(resolved) > 0 {
				waits = "those above resolved first, the others waiting for a person"
			}
			fmt.Fprintf(out, "  wait until nothing healable is left: %d entries listed, %d of them in split-brain, %s\n", left, sb, waits)
		}
		if down != "" {
			fmt.Fprintf(out, "  (%s: glusterd refuses to heal until it is back)\n", down)
		}
		return nil
	}
	cli := glustercli.CLI{Socket: socket, BusyFor: 30 * time.Second}
	// A brick known to be down stays down for the retries.
	if err := startHeal(ctx, cli, v.Name, sweep, down == ""); err != nil {
		if down != "" {
			down = " (" + down + ")"
		}
		return fmt.Errorf("heal %s: GlusterFS did not start its heal%s: %w", v.Name, down, err)
	}
	if sweep == glustercli.Full {
		fmt.Fprintf(out, "GlusterFS's self-heal daemons crawl every brick of %s (%s); afrkit heal %s wait follows what they find\n", esc(v.Name), gluster, esc(v.Name))
		return nil
	}
	fmt.Fprintf(out, "GlusterFS's self-heal daemons heal %s (%s): %d entries listed\n", esc(v.Name), gluster, left)
	return l.wait(&wait, "heal "+v.Name, "; GlusterFS's self-heal daemons go on healing, and afrkit heal "+v.Name+" wait follows them")
}

// resolveUnattended resolves, through GlusterFS and keeping the losers,
// the split-brains that the volume's cluster.favorite-child-policy or
// cluster.metadata-splitbrain-forced-heal has GlusterFS's self-heal
// daemon resolve without a person (heal.ResolveLiveAll under OpNone), and
// returns the lines that say what was done (for a dry run: what would
// be). They are all planned first: one whose losers afrkit could not keep
// refuses the heal, changing nothing, since the daemon would replace them
// unkept.
func resolveUnattended(ctx context.Context, opts *HealRunOptions, v *volume.Volume) ([]string, error) {
	afrOpts, err := heal.Options(v)
	if err != nil {
		return nil, err
	}
	if afrOpts.FavoriteChild == afr.PolicyNone && !afrOpts.MetadataSplitBrainForcedHeal {
		return nil, nil
	}
	lopts, closeLive := liveResolveOptions(opts, v)
	defer closeLive()
	op := heal.SplitBrainOp{Op: afr.OpNone, Brick: -1}
	var lines, refused []string
	// Each error names its entry.
	collect := func(_ heal.Target, o heal.LiveOutcome, err error) {
		if err != nil {
			refused = append(refused, err.Error())
			return
		}
		lines = append(lines, o.Lines...)
	}
	plan := lopts
	plan.DryRun = true
	planned, err := heal.ResolveLiveAll(ctx, v, op, plan, collect)
	if err != nil {
		return nil, fmt.Errorf("heal %s: plan the split-brains GlusterFS resolves without a person: %w; nothing was changed", v.Name, err)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("heal %s: GlusterFS's self-heal daemon would resolve these split-brains by the volume's %s and replace the other copies without keeping them, and afrkit cannot keep them first:\n  %s\nresolve them with afrkit heal %s split-brain, which keeps what it replaces; nothing was changed (the daemon's own crawl, every cluster.heal-timeout seconds and when a brick reconnects, still resolves them unkept)",
			v.Name, unattendedOptions(afrOpts), strings.Join(refused, "\n  "), v.Name)
	}
	if opts.DryRun || planned == 0 {
		return lines, nil
	}
	lines, refused = nil, nil
	done, err := heal.ResolveLiveAll(ctx, v, op, lopts, collect)
	if err != nil {
		return lines, fmt.Errorf("heal %s: %w (what was resolved is recorded: afrkit heal %s history); GlusterFS's heal was not started", v.Name, err, v.Name)
	}
	if len(refused) > 0 {
		return lines, fmt.Errorf("heal %s: these split-brains were not resolved, so GlusterFS's heal was not started (its self-heal daemon would replace copies that are not kept):\n  %s", v.Name, strings.Join(refused, "\n  "))
	}
	if done < planned {
		return lines, fmt.Errorf("heal %s: %d of the %d split-brains planned were gone when afrkit came to them (GlusterFS's self-heal daemon or a client resolved them meanwhile, and afrkit did not keep their copies); GlusterFS's heal was not started: run afrkit heal %s again", v.Name, planned-done, planned, v.Name)
	}
	return lines, nil
}

// unattendedOptions names the volume options that resolve split-brains
// without a person.
func unattendedOptions(o afr.Options) string {
	var on []string
	if o.FavoriteChild != afr.PolicyNone {
		on = append(on, "cluster.favorite-child-policy "+o.FavoriteChild.String())
	}
	if o.MetadataSplitBrainForcedHeal {
		on = append(on, "cluster.metadata-splitbrain-forced-heal")
	}
	return strings.Join(on, " and ")
}

// healRetryFor is how long a heal that glusterd refused because a self-heal
// daemon's brick op failed is asked again: that is its answer while a
// daemon has not reconnected to a brick that just came back (gluster
// volume start VOL force), which takes it a few seconds.
const healRetryFor = 20 * time.Second

// startHeal asks glusterd to start the sweep; with retry, again for
// healRetryFor while a self-heal daemon refuses it.
func startHeal(ctx context.Context, cli glustercli.CLI, vol string, sweep glustercli.Sweep, retry bool) error {
	deadline := time.Now()
	if retry {
		deadline = deadline.Add(healRetryFor)
	}
	for {
		_, err := cli.Heal(ctx, vol, sweep)
		var gerr *glustercli.Error
		if err == nil || !errors.As(err, &gerr) || !strings.Contains(gerr.Message, "brick op 'Heal' failed") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// liveDownBricks names the bricks of a started volume that are down: the
// ones on this host that no brick process serves (afrkit reads their
// directories all the same, but GlusterFS cannot), and the others whose
// server did not answer. "" when none is.
func liveDownBricks(v *volume.Volume, l *statusLook) string {
	served := map[string]bool{}
	if procs, err := v.BrickProcesses(procDir); err == nil {
		for _, p := range procs {
			served[p.Brick.String()] = true
		}
	}
	var down []string
	for _, b := range l.backlog.Bricks {
		if b.Brick.Local && !served[b.Brick.String()] || !b.Brick.Local && !b.Connected() && !errors.Is(b.Err, heal.ErrOnAnotherHost) {
			down = append(down, b.Brick.String())
		}
	}
	switch len(down) {
	case 0:
		return ""
	case 1:
		return "brick " + down[0] + " is down"
	}
	return "bricks " + strings.Join(down, ", ") + " are down"
}
