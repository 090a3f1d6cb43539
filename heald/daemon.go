// Package heald is afrkit's self-heal daemon: one process per host heals
// every afrkit volume registered there, mounted or not, as soon as
// something needs healing, and reports where each heal stands.
//
// What wakes a volume's heal: a new entry in a brick's xattrop index (a
// brick missed a change: inotify), a brick that comes back (the daemon
// probes the bricks it cannot open), a request (afrkit heal VOL, through
// the control socket), and a periodic sweep as the safety net
// (cluster.heal-timeout, 600 s as GlusterFS). Dirty-only entries, which
// every write in flight makes, are left to the sweep, as GlusterFS's
// self-heal daemon leaves them to its crawl.
//
// A heal round holds the volume's heal lock (so a heal run by hand or an
// fsck --repair waits its turn) and AFR's locks on each entry it heals,
// which the mount's fops take too. Between rounds the daemon holds
// nothing open on a brick, so the operator can unmount a failed disk.
// GlusterFS's volumes are never healed here: their own daemon does that.
package heald

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

// Options tune a Daemon. Zero values pick the defaults.
type Options struct {
	// Catalog is where the volumes are found.
	Catalog *volume.Catalog
	// StateDir is afrkit's state directory (the volumes' histories).
	StateDir string
	// Log receives what the daemon does; nil discards it.
	Log *slog.Logger
	// Probe is how often a brick that cannot be opened is tried again.
	Probe time.Duration
	// Settle is how long the daemon waits after an index change for more
	// before it heals: a client's writes come in bursts.
	Settle time.Duration
	// Rescan is how often the catalog is read again for volumes added,
	// removed or whose options changed.
	Rescan time.Duration
	// Retry is how soon a round that left entries it could heal later (a
	// lock held elsewhere, a brick still down) is tried again.
	Retry time.Duration
	// Sweep overrides every volume's cluster.heal-timeout (tests).
	Sweep time.Duration
	// Jobs overrides every volume's cluster.shd-max-threads.
	Jobs int
	// Sample is how often every volume's backlog is looked at for the
	// status and the metrics.
	Sample time.Duration
	// MaxRate overrides every volume's afrkit.heal-max-rate: bytes per
	// second a round's data heal reads and writes at most.
	MaxRate int64
}

// MaxRateOption is the volume option that caps the daemon's data heal,
// in bytes per second (ParseRate: 50M is 50 MiB/s). GlusterFS has no such
// option; its name says it is afrkit's.
const MaxRateOption = "afrkit.heal-max-rate"

// ParseRate reads a rate in bytes per second: a whole number, with an
// optional K, M or G (powers of 1024), and an optional "/s" or "B/s".
func ParseRate(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "/s"), "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mult, t = 1<<10, t[:n-1]
		case 'M', 'm':
			mult, t = 1<<20, t[:n-1]
		case 'G', 'g':
			mult, t = 1<<30, t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: want a rate in bytes per second, such as 52428800 or 50M", s)
	}
	return n * mult, nil
}

// Defaults.
const (
	DefaultProbe       = 5 * time.Second
	DefaultSettle      = time.Second
	DefaultRescan      = 30 * time.Second
	DefaultRetry       = 30 * time.Second
	DefaultHealTimeout = 600 * time.Second
)

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Probe <= 0 {
		o.Probe = DefaultProbe
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Rescan <= 0 {
		o.Rescan = DefaultRescan
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Sample <= 0 {
		o.Sample = DefaultSample
	}
}

// Daemon heals the volumes of one host. Its methods are safe for
// concurrent use.
type Daemon struct {
	opts Options

	// rescanNow asks Run to read the catalog at once; the channel sent
	// is closed when it has.
	rescanNow chan chan struct{}

	mu   sync.Mutex
	vols map[string]*volLoop
	// stats are what the daemon has done, for Status and the metrics.
	stats *Stats
}

// New is a daemon that does nothing until Run.
func New(opts Options) *Daemon {
	opts.defaults()
	return &Daemon{opts: opts, vols: map[string]*volLoop{}, stats: newStats(), rescanNow: make(chan chan struct{})}
}

// Run heals until ctx ends, then waits for the round under way to stop
// at a safe point (each entry's counters are cleared only once its sinks
// are durable) and returns.
func (d *Daemon) Run(ctx context.Context) error {
	w, err := newWatcher(d.opts.Log)
	if err != nil {
		return err
	}
	defer w.close()
	go w.run(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.sampler(ctx, d.opts.Sample)
	}()
	rescan := time.NewTicker(d.opts.Rescan)
	defer rescan.Stop()
	for {
		d.rescan(ctx, w, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-rescan.C:
		case done := <-d.rescanNow:
			d.rescan(ctx, w, &wg)
			close(done)
		}
	}
}

// rescan starts a loop for each afrkit volume of the catalog that has
// none, and stops those of volumes that are gone.
func (d *Daemon) rescan(ctx context.Context, w *watcher, wg *sync.WaitGroup) {
	list, err := d.opts.Catalog.Registry.List()
	if err != nil {
		d.opts.Log.Error("list the volumes", "err", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	for _, name := range list {
		seen[name] = true
		if l := d.vols[name]; l != nil && !l.hasEnded() {
			select {
			case l.reload <- struct{}{}:
			default: // a reload is pending already
			}
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		l := &volLoop{d: d, name: name, w: w, cancel: cancel, wake: make(chan wake, 16), reload: make(chan struct{}, 1), ended: make(chan struct{})}
		d.vols[name] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(l.ended)
			l.run(lctx)
		}()
		d.opts.Log.Info("watching volume", "volume", name)
	}
	for name, l := range d.vols {
		if !seen[name] {
			l.cancel()
			delete(d.vols, name)
			d.stats.forget(name)
			d.opts.Log.Info("volume gone from the registry", "volume", name)
		}
	}
}

// ErrNotServed is returned by Heal for a volume the daemon does not heal:
// not an afrkit volume of this host's registry, or cluster.self-heal-daemon
// off.
var ErrNotServed = errors.New("the heal daemon does not heal this volume")

// Heal asks for a round on volume name and waits for a round that began
// after the request to end: `afrkit heal VOL` with a daemon running.
func (d *Daemon) Heal(ctx context.Context, name string) (Round, error) {
	l := d.loop(name)
	if l == nil {
		// Registered since the last look at the catalog, perhaps.
		done := make(chan struct{})
		select {
		case d.rescanNow <- done:
		case <-ctx.Done():
			return Round{}, ctx.Err()
		}
		select {
		case <-done:
		case <-ctx.Done():
			return Round{}, ctx.Err()
		}
		if l = d.loop(name); l == nil {
			return Round{}, fmt.Errorf("volume %s: %w (not an afrkit volume of this host's registry)", name, ErrNotServed)
		}
	}
	done := make(chan Round, 1)
	gone := fmt.Errorf("volume %s: %w (its loop ended: see the daemon's log)", name, ErrNotServed)
	select {
	case l.wake <- wake{why: "requested", done: done}:
	case <-l.ended:
		return Round{}, gone
	case <-ctx.Done():
		return Round{}, ctx.Err()
	}
	select {
	case r := <-done:
		if r.Err != "" && r.Off {
			return r, fmt.Errorf("volume %s: %w: cluster.self-heal-daemon is off", name, ErrNotServed)
		}
		return r, nil
	case <-l.ended:
		return Round{}, gone
	case <-ctx.Done():
		return Round{}, ctx.Err()
	}
}

func (l *volLoop) hasEnded() bool {
	select {
	case <-l.ended:
		return true
	default:
		return false
	}
}

func (d *Daemon) loop(name string) *volLoop {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.vols[name]
}

// Stats are what the daemon did and sees, per volume.
func (d *Daemon) Stats() *Stats { return d.stats }

// wake is a reason to heal now; done, when set, receives the round's
// outcome.
type wake struct {
	why  string
	done chan Round
}

// Round is what one heal round of a volume did.
type Round struct {
	Volume string    `json:"volume"`
	Why    string    `json:"why"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Healed counts entries healed, by kind; Bytes the data written.
	Healed map[string]int `json:"healed"`
	Bytes  int64          `json:"bytes"`
	Passes int            `json:"passes"`
	// Resolved are split-brains the favorite-child policy resolved.
	Resolved []heal.Record `json:"resolved,omitempty"`
	// Left are what the round could not heal: split-brains (which wait
	// for a person or the favorite-child policy) and entries a brick
	// down or a failure left.
	Left []heal.Left `json:"left"`
	// Err is why the round did not run or stopped.
	Err string `json:"error,omitempty"`
	// Off: the volume's cluster.self-heal-daemon is off.
	Off bool `json:"off,omitempty"`
}

// volLoop heals one volume: it waits for a reason, then runs a round.
type volLoop struct {
	d      *Daemon
	name   string
	w      *watcher
	cancel context.CancelFunc
	wake   chan wake
	reload chan struct{}
	// ended is closed when run returns: the next rescan starts the
	// volume's loop again, and no request waits on this one.
	ended chan struct{}
}

func (l *volLoop) run(ctx context.Context) {
	log := l.d.opts.Log.With("volume", l.name)
	v, err := l.d.opts.Catalog.Registry.Load(l.name)
	if err != nil {
		log.Error("load the volume", "err", err)
		return
	}
	up := make([]bool, len(v.Bricks))
	probe := time.NewTicker(l.d.opts.Probe)
	defer probe.Stop()
	changed := l.w.subscribe(l.name)
	defer l.w.unsubscribe(l.name)
	sweep := time.NewTimer(l.sweepEvery(v))
	defer sweep.Stop()
	var (
		settle  <-chan time.Time // set while index changes settle
		retry   <-chan time.Time // set after a round that left work for later
		waiters []chan Round
		why     string
	)
	// The first look: bricks that are up, watched, and a round for what
	// is already there (a daemon started after a crash, or at boot).
	for i := range v.Bricks {
		up[i] = l.probe(v, i, log)
	}
	why = "start"
	for {
		if why != "" {
			r := l.round(ctx, v, why, log)
			for _, w := range waiters {
				w <- r
			}
			waiters, why, settle, retry = nil, "", nil, nil
			// A round that could not run (the heal lock held by a heal
			// run by hand) is tried again; one that left entries only
			// while every brick here is up (a brick coming back wakes the
			// loop by itself). Split-brains wait for a person.
			if r.Err != "" || len(r.Left) > len(splitBrains(r.Left)) && !slices.Contains(up, false) {
				retry = time.After(l.d.opts.Retry)
			}
			sweep.Reset(l.sweepEvery(v))
		}
		if len(up) != len(v.Bricks) { // a brick was added or replaced
			up = make([]bool, len(v.Bricks))
		}
		select {
		case <-ctx.Done():
			return
		case <-l.reload:
			if nv, err := l.d.opts.Catalog.Registry.Load(l.name); err == nil {
				v = nv
			}
		case w := <-l.wake:
			why = w.why
			if w.done != nil {
				waiters = append(waiters, w.done)
			}
		case <-changed:
			if settle == nil {
				settle = time.After(l.d.opts.Settle)
			}
		case <-settle:
			why = "index changed"
		case <-retry:
			why = "retry"
		case <-sweep.C:
			why = "sweep"
		case <-probe.C:
			for i := range v.Bricks {
				was := up[i]
				up[i] = l.probe(v, i, log)
				if up[i] && !was {
					log.Info("brick up", "brick", v.Bricks[i].String())
					why = "brick up"
				} else if !up[i] && was {
					log.Warn("brick down", "brick", v.Bricks[i].String())
				}
			}
		}
	}
}

// probe reports whether brick i of v opens (its root there, with the
// volume's id), watches its index when it does, and lets it go again.
func (l *volLoop) probe(v *volume.Volume, i int, log *slog.Logger) bool {
	vb := v.Bricks[i]
	if !vb.Local {
		return false
	}
	b, err := heal.OpenBrick(v, vb)
	ok := err == nil
	if ok {
		b.Close()
		if err := l.w.watch(l.name, vb.Path); err != nil {
			log.Warn("watch the brick's index", "brick", vb.String(), "err", err)
		}
	}
	l.d.stats.brickUp(l.name, vb.String(), ok)
	return ok
}

// sweepEvery is the volume's cluster.heal-timeout.
func (l *volLoop) sweepEvery(v *volume.Volume) time.Duration {
	if l.d.opts.Sweep > 0 {
		return l.d.opts.Sweep
	}
	if n, err := strconv.Atoi(v.Option("cluster.heal-timeout", "")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return DefaultHealTimeout
}

// jobs is the volume's cluster.shd-max-threads (1, as GlusterFS, by
// default: the daemon yields the disk to clients).
func (l *volLoop) jobs(v *volume.Volume) int {
	if l.d.opts.Jobs > 0 {
		return l.d.opts.Jobs
	}
	if n, err := strconv.Atoi(v.Option("cluster.shd-max-threads", "")); err == nil && n > 0 {
		return n
	}
	return 1
}

// maxRate is the cap on the data heal's bytes per second: the daemon's
// --max-rate, else the volume's afrkit.heal-max-rate; 0 for none.
func (l *volLoop) maxRate(v *volume.Volume) (int64, error) {
	if l.d.opts.MaxRate > 0 {
		return l.d.opts.MaxRate, nil
	}
	s := v.Option(MaxRateOption, "")
	if s == "" {
		return 0, nil
	}
	n, err := ParseRate(s)
	if err != nil {
		return 0, fmt.Errorf("volume %s: %s: %w", v.Name, MaxRateOption, err)
	}
	return n, nil
}

// procDir is where brick processes are looked for: a volume a brick
// process serves is not healed here.
const procDir = "/proc"

// round heals what the bricks' indexes list, in a heal session (the heal
// lock held).
func (l *volLoop) round(ctx context.Context, v *volume.Volume, why string, log *slog.Logger) Round {
	r := Round{Volume: l.name, Why: why, Start: time.Now()}
	defer func() { r.End = time.Now(); l.d.stats.round(r) }()
	// The volume's options as they are now: a policy or a switch set a
	// moment ago applies to this round.
	if nv, err := l.d.opts.Catalog.Registry.Load(l.name); err == nil {
		*v = *nv
	}
	if v.Option("cluster.self-heal-daemon", "on") == "off" {
		r.Err, r.Off = "cluster.self-heal-daemon is off", true
		return r
	}
	maxRate, err := l.maxRate(v)
	if err != nil {
		r.Err = err.Error()
		log.Error("heal round", "why", why, "err", err)
		return r
	}
	e, err := heal.Open(v, heal.SessionOptions{StateDir: l.d.opts.StateDir, ProcDir: procDir, Engine: heal.EngineOptions{
		Jobs:    l.jobs(v),
		MaxRate: maxRate,
		// A round may heal millions of entries: they are counted, not kept.
		ForgetActions: true,
		Events: func(ev heal.Event) {
			switch ev := ev.(type) {
			case heal.Progress:
				l.d.stats.progress(l.name, ev)
			case heal.Action:
				if ev.ResumedAt > 0 {
					log.Info("data heal resumed", "path", ev.Path, "at", ev.ResumedAt, "sinks", ev.Sinks)
				}
			case heal.Healed:
				log.Debug("healed", "path", ev.Path, "kinds", ev.Kinds)
			case heal.Record:
				log.Info("resolved", "path", ev.Path, "kind", ev.Kind, "how", ev.How, "source", ev.Source, "id", ev.ID)
			case heal.BrickDown:
				log.Info("brick cannot be read", "brick", ev.Brick, "err", ev.Err)
			}
		},
	}})
	if errors.Is(err, volume.ErrInUse) {
		// A heal by hand or an fsck --repair holds the volume: the next
		// wake-up tries again.
		r.Err = err.Error()
		log.Info("heal round put off", "why", why, "err", err)
		return r
	}
	if err != nil {
		r.Err = err.Error()
		log.Error("heal round", "why", why, "err", err)
		return r
	}
	defer e.Close()
	l.d.stats.roundEnded(l.name)
	l.d.stats.healing(l.name, true)
	defer l.d.stats.healing(l.name, false)
	defer l.d.stats.roundEnded(l.name)
	res, err := e.Heal(ctx, false)
	if res != nil {
		r.Healed, r.Bytes, r.Left, r.Passes, r.Resolved = res.Healed, res.Bytes, res.Left, res.Passes, res.Resolved
	}
	if err != nil {
		r.Err = err.Error()
	}
	total := 0
	for _, n := range r.Healed {
		total += n
	}
	if total > 0 || len(r.Left) > 0 || r.Err != "" {
		log.Info("heal round", "why", why, "healed", total, "bytes", r.Bytes, "left", len(r.Left),
			"split_brain", len(splitBrains(r.Left)), "took", time.Since(r.Start).Round(time.Millisecond), "err", r.Err)
	}
	for _, left := range r.Left {
		log.Debug("left", "path", left.Path, "split_brain", left.SplitBrain, "reason", left.Reason)
	}
	return r
}

// splitBrains are the entries of left in split-brain: they wait for a
// person, and no retry heals them.
func splitBrains(left []heal.Left) []heal.Left {
	var out []heal.Left
	for _, l := range left {
		if l.SplitBrain {
			out = append(out, l)
		}
	}
	return out
}
