package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
	"github.com/afrkit/afrkit/progress"
)

// HealStatusOptions are the inputs of `heal VOL status` and `heal VOL wait`.
type HealStatusOptions struct {
	F      *Factory
	Volume string
	JSON   bool
	// Timeout ends a wait with ExitTimedOut; 0 waits for ever.
	Timeout time.Duration
	// Interval is the time between two looks of a wait.
	Interval time.Duration
	// DaemonSocket is where a heal daemon is asked what it does.
	DaemonSocket string
}

// statusBudget is how long one `heal status` looks, listing the indexes
// and then classifying entries it does not know yet; statusMinClassify
// how long it classifies at least when the listing alone took longer.
// The answer comes in about a second and a half however long the
// backlog, and each look classifies more of it.
const (
	statusBudget      = 1200 * time.Millisecond
	statusMinClassify = 250 * time.Millisecond
)

// statusRefresh is how old a classified entry's status may grow before a
// look with time to spare classifies it again.
const statusRefresh = time.Minute

// statusLook is one look at a volume's backlog, with what earlier looks
// left in the state directory.
type statusLook struct {
	v       *volume.Volume
	state   *heal.StatusState
	path    string
	quorum  int
	backlog heal.Backlog
	est     progress.Estimate
	// first: no earlier look was kept.
	first bool
	// daemon is what a running heal daemon says of the volume (nil: none
	// answers, or it does not heal the volume); daemonPID its pid.
	daemon    *heald.VolumeStats
	daemonPID int
	// socket is where the daemon is asked.
	socket string
	// reach reads the bricks on other hosts (Factory.reach), each opened
	// once for all the looks; release lets them go.
	reach   heal.OpenOptions
	release func()
}

// openStatus loads the volume and the state of its earlier looks. A state
// that cannot be read is reported on stderr and started afresh: it only
// saves work.
func openStatus(f *Factory, name, socket string) (*statusLook, error) {
	v, err := f.lookupBricks(name)
	if err != nil {
		return nil, err
	}
	return openStatusOf(f, v, socket)
}

// openStatusOf is openStatus of a volume already loaded.
func openStatusOf(f *Factory, v *volume.Volume, socket string) (*statusLook, error) {
	afrOpts, err := heal.Options(v)
	if err != nil {
		return nil, err
	}
	l := &statusLook{v: v, quorum: afrOpts.QuorumCount, path: heal.StatusStatePath(f.StateDir, v.Name), socket: socket}
	l.reach, l.release = heal.ReuseRemote(f.reach(v))
	l.state, err = heal.LoadStatusState(l.path)
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "afrkit: heal %s status: the kept state is not readable, starting afresh: %v\n", esc(v.Name), err)
	}
	l.first = len(l.state.Series.Samples()) == 0
	return l, nil
}

// askDaemon learns what a running heal daemon does for the volume.
func (l *statusLook) askDaemon(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l.daemon, l.daemonPID = nil, 0
	vols, pid, err := heald.Client{Path: l.socket}.Status(ctx)
	if err != nil {
		return
	}
	for i := range vols {
		if vols[i].Name == l.v.Name && vols[i].HealedHere {
			l.daemon, l.daemonPID = &vols[i], pid
		}
	}
}

// look scans the backlog within budget (the bricks are opened for the
// look and let go after it: a wait holds no failed disk) and adds it to
// the series, and asks a running heal daemon what it does.
func (l *statusLook) look(ctx context.Context, budget time.Duration) error {
	b, err := heal.ScanVolume(ctx, l.v, l.state.Cache, heal.BacklogOptions{QuorumCount: l.quorum, Open: l.reach, Budget: budget, MinClassify: min(budget, statusMinClassify), Refresh: statusRefresh})
	if err != nil {
		return fmt.Errorf("heal %s status: %w", l.v.Name, err)
	}
	l.backlog = b
	l.state.Series.Add(b.Sample())
	l.est = l.state.Series.Estimate()
	if l.v.Source == volume.SourceAfrkit {
		l.askDaemon(ctx)
	}
	return nil
}

// save keeps the state for the next look; a failure is only a warning.
func (l *statusLook) save(errOut io.Writer) {
	if err := l.state.Save(l.path); err != nil {
		fmt.Fprintf(errOut, "afrkit: heal %s status: %v\n", esc(l.v.Name), err)
	}
}

// stateWord is the volume's state in one word, as zpool status gives it.
type stateWord string

const (
	stateHealthy    stateWord = "HEALTHY"
	stateHealing    stateWord = "HEALING"
	statePending    stateWord = "PENDING"
	stateSplitBrain stateWord = "SPLIT-BRAIN"
	// stateDegraded: nothing is left on the bricks that can be read, but
	// a brick of this host cannot be: what it missed shows once it is back.
	stateDegraded stateWord = "DEGRADED"
)

// word says where the volume stands: nothing left; only split-brains,
// which wait for a person; entries whose number falls; entries that do
// not fall (yet).
func (l *statusLook) word() stateWord {
	pending, sb, unclassified := l.backlog.Sum()
	switch {
	case pending+sb+unclassified == 0 && l.downBricks() > 0:
		return stateDegraded
	case pending+sb+unclassified == 0:
		return stateHealthy
	case pending+unclassified == 0:
		return stateSplitBrain
	case l.rate() > 0, l.daemon != nil && l.daemon.Healing:
		return stateHealing
	}
	return statePending
}

func healStatusRun(opts *HealStatusOptions) error {
	l, err := openStatus(opts.F, opts.Volume, opts.DaemonSocket)
	if err != nil {
		return err
	}
	defer l.release()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := l.look(ctx, statusBudget); err != nil {
		return err
	}
	l.save(opts.F.IO.ErrOut)
	w := bufio.NewWriter(opts.F.IO.Out)
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(l.json()); err != nil {
			return err
		}
	} else {
		l.text(w)
	}
	return w.Flush()
}

// text prints the status for a person.
func (l *statusLook) text(w io.Writer) {
	pending, sb, unclassified := l.backlog.Sum()
	with := 0
	for _, b := range l.backlog.Bricks {
		if b.Left() > 0 {
			with++
		}
	}
	fmt.Fprintf(w, " volume: %s (%s)\n", esc(l.v.Name), l.kind())
	fmt.Fprintf(w, "  state: %s\n", l.word())
	fmt.Fprintf(w, "pending: %d entries on %d of %d bricks, %d in split-brain", pending+sb+unclassified, with, len(l.backlog.Bricks), sb)
	if unclassified > 0 {
		fmt.Fprintf(w, ", %d not classified yet", unclassified)
	}
	fmt.Fprintln(w)
	if down := l.backlog.Down(); down > 0 {
		fmt.Fprintf(w, "   down: %d of %d bricks cannot be read (down, or on another host): their entries are not counted\n", down, len(l.backlog.Bricks))
	}
	fmt.Fprintf(w, "   rate: %s\n", l.rateText())
	fmt.Fprintf(w, "    eta: %s\n", l.etaText())
	fmt.Fprintf(w, " healed: %s\n", l.healedText())
	if d := l.daemon; d != nil {
		for _, tr := range d.Transfers {
			fmt.Fprintf(w, "    now: %s: %s of %s (%.0f%%)", esc(tr.Path), sizeString(tr.Done), sizeString(tr.Size), 100*float64(tr.Done)/float64(max(tr.Size, 1)))
			if r := d.TransferEstimate.Rate; r > 0 {
				fmt.Fprintf(w, " at %s/s", sizeString(int64(r)))
			}
			fmt.Fprintln(w)
		}
	}
	if d := l.daemon; d != nil && !d.LastRound.IsZero() {
		fmt.Fprintf(w, " daemon: last round %s ago (%s): %d entries left", time.Since(d.LastRound).Round(time.Second), d.LastRoundWhy, d.LastRoundLeft)
		if d.LastRoundErr != "" {
			fmt.Fprintf(w, ", %s", esc(d.LastRoundErr))
		}
		fmt.Fprintf(w, "; healed since it started: %d data, %d metadata, %d entry, %s\n", d.Entries["data"], d.Entries["metadata"], d.Entries["entry"], sizeString(d.Bytes))
	}
	if sb > 0 {
		fmt.Fprintf(w, " action: %d split-brain entries wait for a person: afrkit heal %s info split-brain, then afrkit heal %s split-brain ...\n", sb, esc(l.v.Name), esc(l.v.Name))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// DATA, METADATA and ENTRY count the classified entries pending by
	// what they wait for; TO COPY is the most their data heals copy.
	fmt.Fprintln(tw, "BRICK\tSTATE\tENTRIES\tDATA\tMETADATA\tENTRY\tTO COPY\tSPLIT-BRAIN\tUNCLASSIFIED")
	for _, b := range l.backlog.Bricks {
		if !b.Connected() {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\n", esc(b.Brick.String()), brickState(b))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%d\t%d\n", esc(b.Brick.String()), "Connected", b.Pending+b.SplitBrain,
			b.Kinds[afr.Data], b.Kinds[afr.Metadata], b.Kinds[afr.Entry], sizeString(b.Bytes), b.SplitBrain, b.Unclassified)
	}
	tw.Flush()
	for _, b := range l.backlog.Bricks {
		if !b.Connected() {
			fmt.Fprintf(w, "%s: %s\n", esc(b.Brick.String()), esc(b.Err.Error()))
		}
	}
}

// downBricks is how many bricks could not be read, those out of reach on
// other hosts aside (see brickState).
func (l *statusLook) downBricks() int {
	n := 0
	for _, b := range l.backlog.Bricks {
		if !b.Connected() && !errors.Is(b.Err, heal.ErrOnAnotherHost) {
			n++
		}
	}
	return n
}

// brickErrs are why each brick could not be read (nil for one that could).
func (l *statusLook) brickErrs() []error {
	errs := make([]error, len(l.backlog.Bricks))
	for i, b := range l.backlog.Bricks {
		errs[i] = b.Err
	}
	return errs
}

// downText is ", N of M bricks down" when bricks are down (those out of
// reach on other hosts aside).
func (l *statusLook) downText() string {
	if n := l.downBricks(); n > 0 {
		return fmt.Sprintf(", %d of %d bricks down", n, len(l.backlog.Bricks))
	}
	return ""
}

// brickState is the STATE of a brick that could not be read: one on
// another host that afrkit does not read (of a stopped volume, or without
// libgfapi) is not down, only out of reach; one whose server did not
// answer is down.
func brickState(b heal.BrickBacklog) string {
	if errors.Is(b.Err, heal.ErrOnAnotherHost) {
		return "other host"
	}
	return "down"
}

// kind says whose volume this is and who heals it.
func (l *statusLook) kind() string {
	if l.v.Source == volume.SourceGlusterd {
		if procs, err := l.v.BrickProcesses(procDir); err == nil && len(procs) > 0 {
			return "GlusterFS, started: its self-heal daemon heals it; afrkit reads the bricks' indexes"
		}
		return "GlusterFS, stopped: afrkit heal heals it"
	}
	if d := l.daemon; d != nil {
		now := ""
		if d.Healing {
			now = ", healing now"
		}
		return fmt.Sprintf("afrkit: the heal daemon (pid %d) heals it%s", l.daemonPID, now)
	}
	return "afrkit: no heal daemon heals it; afrkit heal does"
}

func (l *statusLook) rateText() string {
	switch {
	case l.backlog.Left() == 0:
		return "nothing to measure: nothing is left"
	case l.first:
		return "no estimate yet: this is the first look (look again, or use heal " + esc(l.v.Name) + " wait)"
	case l.daemon != nil && l.daemon.Healing && l.daemon.RoundEstimate.Known:
		return fmt.Sprintf("%.1f entries/s, %s/s in the heal daemon's round under way", l.daemon.RoundEstimate.Rate, sizeString(int64(l.daemon.RoundEstimate.BytesRate)))
	}
	text := "no estimate yet: the backlog has not fallen over the last " + l.est.Span.Round(time.Second).String()
	if l.est.Rate > 0 {
		text = fmt.Sprintf("%.1f entries/s over the last %s", l.est.Rate, l.est.Span.Round(time.Second))
	}
	if r, ok := l.bytesRate(); ok {
		// A big file is one entry for most of its heal: its bytes move.
		text += fmt.Sprintf("; the heal daemon writes %s/s", sizeString(int64(r)))
	}
	return text
}

// bytesRate is the data the heal daemon's round under way writes per
// second, when one runs and has written.
func (l *statusLook) bytesRate() (float64, bool) {
	if d := l.daemon; d != nil && d.Healing && d.RoundEstimate.BytesRate > 0 {
		return d.RoundEstimate.BytesRate, true
	}
	return 0, false
}

// eta is the time left: at the rate the entries leave the indexes, or,
// while the heal daemon copies data, at the rate its copies advance. When
// what is left is what the daemon is copying (a big file is one entry for
// most of its heal), the copies' rate says it; otherwise whichever says
// longer.
func (l *statusLook) eta() (time.Duration, bool) {
	eta, known := l.est.ETA, l.est.Known
	d := l.daemon
	if d != nil && d.Healing && d.RoundEstimate.Known {
		// The daemon's own count of its round beats looks from outside.
		eta, known = seconds(d.RoundEstimate.ETASeconds), true
	}
	if d == nil || !d.Healing || len(d.Transfers) == 0 || !d.TransferEstimate.Known {
		return eta, known
	}
	copying := seconds(d.TransferEstimate.ETASeconds)
	most := 0 // the most entries any one brick has left to heal
	for _, b := range l.backlog.Bricks {
		most = max(most, b.Pending+b.Unclassified)
	}
	if !known || most <= len(d.Transfers) || copying > eta {
		return copying, true
	}
	return eta, known
}

// rate is how many entries leave the backlog per second: the heal
// daemon's own count while it heals, else as the looks saw it.
func (l *statusLook) rate() float64 {
	if d := l.daemon; d != nil && d.Healing && d.RoundEstimate.Known {
		return d.RoundEstimate.Rate
	}
	return l.est.Rate
}

// seconds is s seconds, to the second.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

func (l *statusLook) etaText() string {
	switch {
	case l.word() == stateDegraded:
		return "none until the bricks that are down are back"
	case l.backlog.Left() == 0:
		return "done"
	case l.word() == stateSplitBrain:
		return "none: only split-brains are left, and they wait for a person"
	}
	if eta, ok := l.eta(); ok {
		return eta.String()
	}
	return "no estimate yet"
}

func (l *statusLook) healedText() string {
	if l.first {
		return "none seen yet (first look)"
	}
	return fmt.Sprintf("%d entries seen leaving the indexes since %s", l.est.Done, l.est.Since.UTC().Format(time.RFC3339))
}

// statusJSON is `heal VOL status --json` (docs/heal-status-json.md).
type statusJSON struct {
	Volume       string `json:"volume"`
	Source       string `json:"source"`
	State        string `json:"state"`
	At           string `json:"at"`
	Entries      int    `json:"entries"`
	SplitBrain   int    `json:"split_brain"`
	Unclassified int    `json:"unclassified"`
	// Kinds and Bytes sum the bricks'.
	Kinds      kindsJSON `json:"kinds"`
	Bytes      int64     `json:"bytes"`
	BricksDown int       `json:"bricks_down"`
	Rate       float64   `json:"rate_per_second"`
	// BytesRate is the data the heal daemon's round under way writes per
	// second; nil without one (looks from outside see no bytes).
	BytesRate  *float64 `json:"bytes_per_second"`
	ETASeconds *int64   `json:"eta_seconds"`
	Healed     int64    `json:"healed"`
	Since      string   `json:"since"`
	// FirstLook: no earlier look was kept, so there is no rate yet.
	FirstLook bool              `json:"first_look"`
	Bricks    []brickStatusJSON `json:"bricks"`
	// Transfers are the heal daemon's data heals under way.
	Transfers []heal.Transfer `json:"transfers,omitempty"`
}

type brickStatusJSON struct {
	Brick        string `json:"brick"`
	Set          int    `json:"replica_set"`
	Connected    bool   `json:"connected"`
	Error        string `json:"error,omitempty"`
	Indexed      int    `json:"indexed"`
	Entries      int    `json:"entries"`
	SplitBrain   int    `json:"split_brain"`
	Unclassified int    `json:"unclassified"`
	// Kinds count the pending entries (split-brains and unclassified
	// ones aside) by what they wait for; Bytes is the most their data
	// heals copy.
	Kinds kindsJSON `json:"kinds"`
	Bytes int64     `json:"bytes"`
}

type kindsJSON struct {
	Data     int `json:"data"`
	Metadata int `json:"metadata"`
	Entry    int `json:"entry"`
}

func (k *kindsJSON) add(b heal.BrickBacklog) {
	k.Data += b.Kinds[afr.Data]
	k.Metadata += b.Kinds[afr.Metadata]
	k.Entry += b.Kinds[afr.Entry]
}

func (l *statusLook) json() statusJSON {
	pending, sb, unclassified := l.backlog.Sum()
	out := statusJSON{Volume: l.v.Name, Source: string(l.v.Source), State: strings.ToLower(string(l.word())),
		At: l.backlog.At.UTC().Format(time.RFC3339Nano), Entries: pending + sb + unclassified, SplitBrain: sb,
		Unclassified: unclassified, BricksDown: l.backlog.Down(), Rate: l.rate(), Healed: l.est.Done,
		Since: l.est.Since.UTC().Format(time.RFC3339Nano), FirstLook: l.first, Bricks: []brickStatusJSON{}}
	if l.backlog.Left() == 0 {
		zero := int64(0)
		out.ETASeconds = &zero
	} else if eta, ok := l.eta(); ok {
		s := int64(eta / time.Second)
		out.ETASeconds = &s
	}
	if d := l.daemon; d != nil {
		out.Transfers = d.Transfers
		if r, ok := l.bytesRate(); ok {
			out.BytesRate = &r
		}
	}
	for _, b := range l.backlog.Bricks {
		bj := brickStatusJSON{Brick: b.Brick.String(), Set: b.Set, Connected: b.Connected(), Indexed: b.Indexed,
			Entries: b.Pending + b.SplitBrain, SplitBrain: b.SplitBrain, Unclassified: b.Unclassified, Bytes: b.Bytes}
		bj.Kinds.add(b)
		out.Kinds.add(b)
		out.Bytes += b.Bytes
		if b.Err != nil {
			bj.Error = b.Err.Error()
		}
		out.Bricks = append(out.Bricks, bj)
	}
	return out
}

// errTimedOut is a wait whose timeout passed.
var errTimedOut = errors.New("timed out")

// healWaitRun looks at the backlog every interval until nothing healable
// is left (exit 0), only split-brains are (exit 1), or the timeout passes
// (ExitTimedOut). A brick of this host that is down keeps it waiting: it
// will need a heal when it is back. On a terminal it draws a progress bar
// on stderr.
func healWaitRun(opts *HealStatusOptions) error {
	l, err := openStatus(opts.F, opts.Volume, opts.DaemonSocket)
	if err != nil {
		return err
	}
	defer l.release()
	return l.wait(opts, "heal "+opts.Volume+" wait", "")
}

// wait looks at the backlog every opts.Interval until nothing healable is
// left: exit 0 when nothing is, 1 when only split-brains are (they wait
// for a person), ExitTimedOut after opts.Timeout, ExitInterrupted on
// SIGINT or SIGTERM. cmd names the command in its errors; onStop is added
// to the error of a wait cut short (what goes on without it).
func (l *statusLook) wait(opts *HealStatusOptions, cmd, onStop string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	// The wait goes on with the series earlier looks kept: their
	// samples older than the window do not count towards the rate.
	bar := &progressBar{w: opts.F.IO.ErrOut, tty: opts.F.IO.StderrTTY}
	budget := max(opts.Interval/2, 200*time.Millisecond)
	start := -1
	// lastSB is the split-brain count while the looks see nothing but
	// split-brains, -1 otherwise, and sbSince when that count was first
	// seen: the wait ends once it has held splitBrainGrace. A directory
	// listed in split-brain that the daemon merges conservatively (and a
	// file it resolves by policy) leaves the list a moment later; what
	// stays, a person resolves.
	lastSB, sbSince := -1, time.Time{}
	for {
		if err := l.look(ctx, budget); err != nil {
			return err
		}
		left := l.backlog.Left()
		if start < 0 || left > start {
			start = left
		}
		bar.draw(l, start)
		switch l.word() {
		case stateHealthy:
			bar.end()
			l.save(opts.F.IO.ErrOut)
			fmt.Fprintf(opts.F.IO.Out, "heal %s: nothing left to heal\n", esc(l.v.Name))
			return nil
		case stateSplitBrain:
			_, sb, _ := l.backlog.Sum()
			if sb != lastSB {
				lastSB, sbSince = sb, time.Now()
			}
			if time.Since(sbSince) < splitBrainGrace {
				break
			}
			bar.end()
			l.save(opts.F.IO.ErrOut)
			fmt.Fprintf(opts.F.IO.Out, "heal %s: %d split-brain entries left, which wait for a person (afrkit heal %s info split-brain)\n", esc(l.v.Name), sb, esc(l.v.Name))
			return errReported
		default:
			lastSB = -1
		}
		select {
		case <-ctx.Done():
			bar.end()
			l.save(opts.F.IO.ErrOut)
			return exitStatus{code: ExitInterrupted, err: fmt.Errorf("%s: %w%s", cmd, ctx.Err(), onStop)}
		case <-deadline:
			bar.end()
			l.save(opts.F.IO.ErrOut)
			return exitStatus{code: ExitTimedOut, err: fmt.Errorf("%s: %w after %s with %d entries left%s%s", cmd, errTimedOut, opts.Timeout, left, l.downText(), onStop)}
		case <-time.After(opts.Interval):
		}
	}
}

// splitBrainGrace is how long a wait that sees only split-brains left
// waits for their number to change before it says they wait for a person.
const splitBrainGrace = 5 * time.Second

// progressBar shows a wait's progress: one line redrawn on a terminal, a
// line each time the figures change elsewhere.
type progressBar struct {
	w    io.Writer
	tty  bool
	last string
}

const barWidth = 30

func (p *progressBar) draw(l *statusLook, start int) {
	left := l.backlog.Left()
	_, sb, _ := l.backlog.Sum()
	rate := "rate not known yet"
	if l.est.Rate > 0 {
		rate = fmt.Sprintf("%.1f entries/s", l.est.Rate)
	}
	line := fmt.Sprintf("%d entries left, %d in split-brain%s; %s; ETA: %s", left, sb, l.downText(), rate, l.etaText())
	if p.tty {
		done := 1.0
		if start > 0 {
			done = float64(start-left) / float64(start)
		}
		n := int(done * barWidth)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s\x1b[K", strings.Repeat("#", n), strings.Repeat(".", barWidth-n), 100*done, line)
		return
	}
	// Elsewhere (a log, a pipe) a line when the count changes, not one
	// per look.
	if count := fmt.Sprint(left); count != p.last {
		fmt.Fprintln(p.w, line)
		p.last = count
	}
}

func (p *progressBar) end() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
