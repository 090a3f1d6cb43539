package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

// HealRunOptions are the inputs of `heal VOL [full]` and the split-brain
// commands.
type HealRunOptions struct {
	F         *Factory
	Volume    string
	Full      bool
	DryRun    bool
	Jobs      int
	Algorithm string
	// Kind is "data" or "metadata": a split-brain command resolves that
	// kind alone.
	Kind string
	// Force lets undo overwrite content that changed since the
	// resolution, keeping it first.
	Force bool
	// JSON prints afrkit's JSON document instead of the text.
	JSON bool
	// Step is the engine's hook before every change (crash tests).
	Step func(string)
	// DaemonSocket is where a running heal daemon is asked to heal
	// instead; NoDaemon heals in this process all the same.
	DaemonSocket string
	NoDaemon     bool
	// Wait is how a heal of a started GlusterFS volume waits for
	// GlusterFS's self-heal daemon (--timeout, --interval).
	Wait *HealStatusOptions
}

// errReported is a failure whose message has been printed already: the
// exit status is 1 and nothing more is said.
var errReported = errors.New("reported")

// procDir is where brick processes are looked for.
const procDir = "/proc"

// lookupServed loads the volume and says whether GlusterFS serves it, so
// that afrkit changes it only through GlusterFS (servedByGlusterFS).
func lookupServed(opts *HealRunOptions) (*volume.Volume, bool, error) {
	v, err := opts.F.lookupBricks(opts.Volume)
	if err != nil {
		return nil, false, err
	}
	served, err := servedByGlusterFS(v)
	return v, served, err
}

// openEngine opens a heal session on v (heal.Open): a heal and a
// split-brain resolution run while the volume is mounted; a writer that
// takes no AFR locks (undo) passes unmounted, and is refused while it is.
// release closes the session.
func openEngine(opts *HealRunOptions, v *volume.Volume, unmounted bool) (*heal.Engine, func(), error) {
	e, err := heal.Open(v, heal.SessionOptions{
		Engine: heal.EngineOptions{
			Jobs:      opts.Jobs,
			DryRun:    opts.DryRun,
			Algorithm: opts.Algorithm,
			Step:      opts.Step,
			Events:    progressPrinter(opts.F.IO),
		},
		StateDir:  opts.F.StateDir,
		ProcDir:   procDir,
		Unmounted: unmounted,
	})
	if err != nil {
		return nil, nil, err
	}
	return e, e.Close, nil
}

// progressPrinter draws one progress line on a terminal's stderr, at most
// a few times a second; on a pipe it prints nothing. The engine's calls
// come one at a time (heal.EngineOptions.Events).
func progressPrinter(streams *IOStreams) func(heal.Event) {
	if !streams.StderrTTY {
		return nil
	}
	var last time.Time
	return func(ev heal.Event) {
		p, ok := ev.(heal.Progress)
		if !ok || time.Since(last) < 200*time.Millisecond && p.Done < p.Total {
			return
		}
		last = time.Now()
		rate := float64(p.Done) / max(p.Elapsed.Seconds(), 1e-3)
		eta := "?"
		if rate > 0 && p.Total >= p.Done {
			eta = (time.Duration(float64(p.Total-p.Done)/rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(streams.ErrOut, "\r\033[Kpass %d: %d/%d entries, %s written, %.0f entries/s, %s/s, ETA %s",
			p.Pass, p.Done, p.Total, sizeString(p.Bytes), rate, sizeString(int64(float64(p.Bytes)/max(p.Elapsed.Seconds(), 1e-3))), eta)
	}
}

// healRun is `afrkit heal VOL [full]`.
func healRun(opts *HealRunOptions) error {
	v, served, err := lookupServed(opts)
	if err != nil {
		return err
	}
	if served {
		return liveHealRun(opts, v)
	}
	// A running daemon heals the volume: it is asked, as gluster volume
	// heal asks GlusterFS's, rather than raced for the heal lock. A dry
	// run, heal full and --json run here.
	if !opts.DryRun && !opts.Full && !opts.JSON && !opts.NoDaemon && opts.Step == nil {
		if handled, err := healByDaemon(opts); handled {
			return err
		}
	}
	e, release, err := openEngine(opts, v, false)
	if err != nil {
		return err
	}
	defer release()
	// SIGINT and SIGTERM stop the heal between batches: what was healed is
	// committed (each entry's counters are cleared only once its sinks
	// are durable), so the next run goes on from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := e.Heal(ctx, opts.Full)
	if opts.F.IO.StderrTTY && e.Opts().Events != nil {
		fmt.Fprint(opts.F.IO.ErrOut, "\r\033[K")
	}
	interrupted := err != nil && ctx.Err() != nil
	switch {
	case opts.JSON && (err == nil || interrupted):
		if jerr := writeJSON(opts.F.IO.Out, newHealRunJSON(opts, res, interrupted)); jerr != nil {
			return jerr
		}
	case res != nil && res.Passes > 0: // a heal refused before its first pass did nothing to report
		printResult(opts.F.IO.Out, opts, res)
	}
	if interrupted {
		return exitStatus{ExitInterrupted, fmt.Errorf("heal %s: interrupted; what was healed so far is committed, and running it again finishes it", opts.Volume)}
	}
	if err != nil {
		return fmt.Errorf("heal %s: %w", opts.Volume, err)
	}
	if len(res.Left) > 0 && !opts.DryRun {
		return errReported
	}
	return nil
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// printResult prints what a heal did: the plan for a dry run, a summary
// otherwise, then the resolutions and what is left.
func printResult(w io.Writer, opts *HealRunOptions, res *heal.Result) {
	if opts.DryRun {
		printPlan(w, res.Actions)
		res.Left = notPlanned(res.Left, res.Actions)
	} else {
		total := 0
		var kinds []string
		for _, k := range []string{"data", "metadata", "entry"} {
			if n := res.Healed[k]; n > 0 {
				total += n
				kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
			}
		}
		switch {
		case total == 0 && len(res.Left) == 0 && len(res.Resolved) == 0:
			fmt.Fprintf(w, "Nothing to heal.\n")
		case total == 0:
			fmt.Fprintf(w, "Nothing was healed.\n")
		default:
			fmt.Fprintf(w, "Healed %s; wrote %s of data in %d pass(es).\n", strings.Join(kinds, ", "), sizeString(res.Bytes), res.Passes)
		}
	}
	if len(res.Resolved) > 0 {
		fmt.Fprintf(w, "\nResolved (see 'afrkit heal %s history'):\n", opts.Volume)
		for _, r := range res.Resolved {
			fmt.Fprintf(w, "  %s  %s %s, %s: kept %s's version\n", r.ID, esc(r.Path), r.Kind, r.How, r.Source)
			for _, k := range r.Kept {
				if k.Source {
					continue // the winner's counters, kept for undo
				}
				where := k.Meta
				if k.Path != "" {
					where = k.Path
				}
				fmt.Fprintf(w, "      %s's copy is kept at %s\n", k.Brick, where)
			}
		}
	}
	if len(res.Left) > 0 {
		fmt.Fprintf(w, "\nNot healed (%d):\n", len(res.Left))
		for _, l := range res.Left {
			fmt.Fprintf(w, "  %s: %s\n", esc(l.Path), esc(l.Reason))
			printResolveHints(w, opts.Volume, l)
		}
	}
}

// printResolveHints says how to resolve what left l in split-brain,
// naming the file each command is given: the names in a directory whose
// copies are different files, else the entry itself.
func printResolveHints(w io.Writer, vol string, l heal.Left) {
	if !l.SplitBrain {
		return
	}
	if len(l.Blockers) == 0 {
		fmt.Fprintf(w, "      resolve: afrkit heal %s split-brain {bigger-file|latest-mtime|majority} %s, or source-brick BRICK %s\n", vol, esc(sbTarget(l)), esc(sbTarget(l)))
		return
	}
	for i, b := range l.Blockers {
		if i == maxHints {
			fmt.Fprintf(w, "      and %d more names; afrkit heal %s split-brain source-brick BRICK (without a file) keeps BRICK's copy of every one\n", len(l.Blockers)-i, vol)
			break
		}
		if b.TypeMismatch {
			fmt.Fprintf(w, "      resolve %s: afrkit heal %s split-brain source-brick BRICK (without a file; it keeps BRICK's copy of every such name), or move the wrong copy aside by hand\n", esc(b.Path), vol)
			continue
		}
		fmt.Fprintf(w, "      resolve: afrkit heal %s split-brain {bigger-file|latest-mtime|majority} %s, or source-brick BRICK %s\n", vol, esc(b.Path), esc(b.Path))
	}
}

// maxHints bounds the resolve hints printed for one entry, as the reasons
// are bounded.
const maxHints = 5

func sbTarget(l heal.Left) string {
	if strings.HasPrefix(l.Path, "/") {
		return l.Path
	}
	return "gfid:" + l.GFID.String()
}

// printPlan prints a dry run's actions, by path.
func printPlan(w io.Writer, actions []heal.Action) {
	sort.SliceStable(actions, func(i, j int) bool { return actions[i].Path < actions[j].Path })
	if len(actions) == 0 {
		fmt.Fprintln(w, "Dry run: nothing to do.")
		return
	}
	fmt.Fprintf(w, "Dry run: %d change(s) planned; nothing was changed. Changes that depend on these (the content of created files and of files given a gfid, the entries of created directories) are planned by the next run.\n", len(actions))
	for _, a := range actions {
		dir := ""
		if a.Source != "" {
			dir = " from " + a.Source
		}
		if len(a.Sinks) > 0 {
			dir += " to " + strings.Join(a.Sinks, ", ")
		}
		fmt.Fprintf(w, "  %s: %s%s: %s\n", esc(a.Path), a.What, dir, esc(a.Detail))
	}
}

// brickIndexOrLabel is the position in v of the brick named HOST:PATH, or
// by its label in afrkit's reports.
func brickIndexOrLabel(v *volume.Volume, name string) (int, error) {
	idx, err := v.BrickIndex(name)
	if err != nil {
		for i, l := range v.BrickLabels() {
			if l == name {
				return i, nil
			}
		}
	}
	return idx, err
}

// healSplitBrainRun is `afrkit heal VOL split-brain OP ...`.
func healSplitBrainRun(opts *HealRunOptions, args []string) error {
	usage := usageError{errors.New("usage: afrkit heal VOL split-brain {bigger-file FILE | latest-mtime FILE | source-brick BRICK [FILE] | majority [FILE]}")}
	if len(args) < 1 {
		return usage
	}
	op, err := afr.ParseHealOp(args[0])
	if err != nil {
		return usageError{err}
	}
	var kinds []afr.Kind
	switch opts.Kind {
	case "":
	case "data":
		kinds = []afr.Kind{afr.Data}
	case "metadata":
		kinds = []afr.Kind{afr.Metadata}
	default:
		return usageError{fmt.Errorf("--kind %q: want data or metadata", opts.Kind)}
	}
	rest := args[1:]
	v, served, err := lookupServed(opts)
	if err != nil {
		return err
	}
	if served {
		return liveSplitBrainRun(opts, v, heal.SplitBrainOp{Op: op, Brick: -1, Kinds: kinds}, rest, usage)
	}
	e, release, err := openEngine(opts, v, false)
	if err != nil {
		return err
	}
	defer release()
	sbop := heal.SplitBrainOp{Op: op, Brick: -1, Kinds: kinds}
	set := 0
	if op == afr.OpSourceBrick {
		if len(rest) < 1 {
			return usage
		}
		idx, err := brickIndexOrLabel(e.Vol, rest[0])
		if err != nil {
			return usageError{err}
		}
		set, sbop.Brick = idx/max(e.Vol.Replica, 1), idx%max(e.Vol.Replica, 1)
		rest = rest[1:]
	}
	out := opts.F.IO.Out
	// SIGINT and SIGTERM stop a command over a whole index between two
	// entries; a command on one file finishes it (one entry's resolution
	// is committed as a whole).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	doc := splitBrainJSON{Volume: opts.Volume, Command: op.String(), DryRun: opts.DryRun, Outcomes: []outcomeJSON{}}
	if op == afr.OpSourceBrick {
		doc.Brick = e.Vol.Bricks[set*max(e.Vol.Replica, 1)+sbop.Brick].String()
	}
	switch {
	case len(rest) == 0 && (op == afr.OpSourceBrick || op == afr.OpMajority):
		n, err := e.SplitBrainAll(ctx, set, sbop, func(o heal.Outcome) {
			if opts.JSON {
				doc.Outcomes = append(doc.Outcomes, outcomeJSON{File: o.File, Healed: o.Healed, Lines: o.Lines})
				return
			}
			for _, l := range o.Lines {
				fmt.Fprintln(out, l)
			}
		})
		interrupted := err != nil && ctx.Err() != nil
		if opts.JSON && (err == nil || interrupted) {
			doc.Healed, doc.Interrupted = n, interrupted
			if jerr := writeJSON(out, doc); jerr != nil {
				return jerr
			}
		}
		if interrupted {
			if !opts.JSON {
				fmt.Fprintf(out, "Number of healed entries: %d\n", n)
			}
			return exitStatus{ExitInterrupted, fmt.Errorf("heal %s split-brain: interrupted; what was resolved is committed (see 'afrkit heal %s history'), and running it again finishes it", opts.Volume, opts.Volume)}
		}
		if err != nil {
			return err
		}
		if opts.JSON {
			return nil
		}
		if opts.DryRun {
			fmt.Fprintf(out, "Dry run: nothing was changed. Number of entries that would be healed: %d\n", n)
			return nil
		}
		fmt.Fprintf(out, "Number of healed entries: %d\n", n)
		return nil
	case len(rest) != 1:
		return usage
	}
	t, err := parseExplainTarget(rest[0])
	if err != nil {
		return err
	}
	if op == afr.OpSourceBrick && t.Path == "" && t.GFID.IsZero() {
		return usage
	}
	o, err := e.SplitBrain(ctx, t, sbop)
	if err != nil {
		return err
	}
	if opts.JSON {
		doc.File = rest[0]
		doc.Outcomes = append(doc.Outcomes, outcomeJSON{File: o.File, Healed: o.Healed, Lines: o.Lines})
		if o.Healed {
			doc.Healed = 1
			if res := e.Result(); res != nil {
				doc.Actions = actionsJSON(res.Actions)
			}
		}
		if err := writeJSON(out, doc); err != nil {
			return err
		}
		if !o.Healed {
			return errReported
		}
		return nil
	}
	if opts.DryRun && !o.Healed {
		// The plan fails as the run would: say so, and how.
		fmt.Fprintln(out, "Dry run: nothing was changed; the command would fail:")
		for _, l := range o.Lines {
			fmt.Fprintln(out, "  "+l)
		}
		return errReported
	}
	if opts.DryRun {
		printPlan(out, e.Result().Actions)
		return nil
	}
	for _, l := range o.Lines {
		fmt.Fprintln(out, l)
	}
	if !o.Healed {
		return errReported
	}
	return nil
}

// healHistoryRun is `afrkit heal VOL history`.
func healHistoryRun(f *Factory, vol string, asJSON bool) error {
	v, err := f.Catalog().Lookup(vol)
	if err != nil {
		return err
	}
	h := &heal.History{Path: heal.HistoryPath(f.StateDir, v.Name)}
	recs, skipped, err := h.ReadAll()
	if err != nil {
		return err
	}
	for _, n := range skipped {
		fmt.Fprintf(f.IO.ErrOut, "afrkit: history: %s line %d is not a record (a torn write?); skipped\n", h.Path, n)
	}
	undone := map[string]string{}
	for _, r := range recs {
		if r.Kind == "undo" {
			undone[r.Undoes] = r.ID
		}
	}
	w := f.IO.Out
	if asJSON {
		return writeJSON(w, historyJSON{Volume: v.Name, Path: h.Path, Records: append([]heal.Record{}, recs...), UndoneBy: undone, TornLines: append([]int{}, skipped...)})
	}
	if len(recs) == 0 {
		fmt.Fprintf(w, "No resolutions recorded for volume %s (%s).\n", v.Name, h.Path)
		return nil
	}
	for _, r := range recs {
		fmt.Fprintf(w, "%s  %s  %s  %s, %s", r.ID, r.Time, esc(firstNonEmpty(r.Path, "-")), r.Kind, r.How)
		if r.Source != "" {
			fmt.Fprintf(w, ": kept %s", r.Source)
		}
		if len(r.Sinks) > 0 {
			fmt.Fprintf(w, " over %s", strings.Join(r.Sinks, ", "))
		}
		if u, ok := undone[r.ID]; ok {
			fmt.Fprintf(w, "  [undone by %s]", u)
		}
		fmt.Fprintln(w)
		if r.SourceBlake3 != "" {
			fmt.Fprintf(w, "    %s's content: blake3 %s\n", r.Source, r.SourceBlake3)
		}
		for _, k := range r.Kept {
			what := "copy"
			switch {
			case k.Moved:
				what = "moved"
			case k.Source:
				what = "counters"
			}
			fmt.Fprintf(w, "    %s %s: %s (%s, %d bytes", k.Brick, what, firstNonEmpty(k.Path, k.Meta), k.Type, k.Size)
			if k.Blake3 != "" {
				fmt.Fprintf(w, ", blake3 %s", k.Blake3)
			}
			fmt.Fprintln(w, ")")
		}
		for _, rn := range r.Renamed {
			fmt.Fprintf(w, "    %s renamed: %s -> %s\n", rn.Brick, esc(rn.From), esc(rn.To))
		}
		for i, rp := range r.Repairs {
			if i == maxHints {
				fmt.Fprintf(w, "    and %d more repairs ('history --json' lists them)\n", len(r.Repairs)-i)
				break
			}
			fmt.Fprintf(w, "    repaired: %s\n", esc(rp))
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// healUndoRun is `afrkit heal VOL undo ID`.
func healUndoRun(opts *HealRunOptions, id string) error {
	v, err := opts.F.lookupBricks(opts.Volume)
	if err != nil {
		return err
	}
	e, release, err := openEngine(opts, v, true)
	if err != nil {
		return err
	}
	defer release()
	lines, err := e.Undo(id, opts.Force)
	for _, l := range lines {
		fmt.Fprintln(opts.F.IO.Out, l)
	}
	return err
}

// notPlanned drops from a dry run's leftovers the entries its plan
// creates: their heal is for the run after.
func notPlanned(left []heal.Left, actions []heal.Action) []heal.Left {
	planned := map[string]bool{}
	for _, a := range actions {
		planned[a.Path] = true
	}
	var out []heal.Left
	for _, l := range left {
		if !planned[l.Path] {
			out = append(out, l)
		}
	}
	return out
}
