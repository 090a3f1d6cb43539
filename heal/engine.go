package heal

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
)

// Algorithms of data heal, as cluster.data-self-heal-algorithm names them.
// The empty value is GlusterFS's default: diff when the source or a sink
// has data, full otherwise.
const (
	AlgorithmDynamic = ""
	AlgorithmFull    = "full"
	AlgorithmDiff    = "diff"
)

// DefaultBlockSize is the unit of data heal: GlusterFS's 128 KiB times the
// default data-self-heal-window-size of 8.
const DefaultBlockSize = 1 << 20

// maxPasses bounds the heal loop. Each pass heals what the previous one
// made healable (a directory's entry heal creates the files that the next
// pass fills), so a tree n levels deep needs about n passes.
const maxPasses = 64

// EngineOptions tune a heal.
type EngineOptions struct {
	// Jobs is how many entries are healed at once; 0 means one per CPU.
	Jobs int
	// DryRun plans and reports, and changes nothing.
	DryRun bool
	// Algorithm overrides the volume's cluster.data-self-heal-algorithm.
	Algorithm string
	// BlockSize is the data heal block; 0 means DefaultBlockSize.
	BlockSize int64
	// Step, when set, is called before every change made to a brick, with
	// a few words on what comes, by whichever goroutine makes it: several
	// call it at once. Crash tests kill the process from it.
	Step func(what string)
	// Events, when set, receives what the heal does as it goes (see
	// Event), from whichever worker got there but never from two at once:
	// the engine serialises the calls, so a consumer needs no lock of its
	// own. It must return quickly: the worker waits for it.
	Events func(Event)
	// ForgetActions keeps Result.Actions empty: the actions reach Events
	// only, so a heal of millions of entries (the daemon's) holds no more
	// than the entries in flight and those it leaves.
	ForgetActions bool
	// History is the audit log resolutions are recorded in; nil records
	// nothing (and a resolution is then refused, see Engine.resolve).
	History *History
	// Now is the clock of history records; nil means time.Now.
	Now func() time.Time
	// MaxRate caps the data heal's reads and writes, in bytes per second
	// over all workers; 0 sets no cap.
	MaxRate int64
	// ResumeEvery is how much of a data heal is copied between two resume
	// marks (resume.go); 0 means DefaultResumeEvery. Files no larger are
	// not marked.
	ResumeEvery int64
}

// Event is one thing a heal reports as it goes, to EngineOptions.Events:
//   - Progress, as entries complete and up to ten times a second while
//     data is copied;
//   - Action, as each change is made (in a dry run, planned): a change
//     made is on the brick, but durable only once its entry's counters
//     are cleared, which comes after a sync;
//   - Record, for each split-brain resolved, once it is in the history;
//   - Left, for each entry the heal ends with (in path order, at its end);
//   - Healed, for each entry brought to agreement, once that is durable:
//     its sinks synced and the counters that blamed them cleared (a dry
//     run heals nothing, and sends none);
//   - BrickDown, for each brick the heal cannot read, before it refuses
//     to start.
type Event interface{ healEvent() }

func (Progress) healEvent()  {}
func (Action) healEvent()    {}
func (Record) healEvent()    {}
func (Left) healEvent()      {}
func (BrickDown) healEvent() {}
func (Healed) healEvent()    {}

// Healed is an entry a heal brought to agreement, and the kinds it healed
// (data, metadata, entry).
type Healed struct {
	Set   int
	GFID  afr.GFID
	Path  string
	Kinds []string
}

// BrickDown is a brick a heal cannot read.
type BrickDown struct {
	Set   int
	Brick string
	Err   error
}

// Progress is a heal's progress so far.
type Progress struct {
	Pass          int
	Done, Total   int
	Bytes         int64
	Elapsed       time.Duration
	CurrentTarget string
	// Transfers are the data heals under way, how far each is.
	Transfers []Transfer
}

// Transfer is one data heal under way: the entry, and how far its copy
// to one sink has come.
type Transfer struct {
	Path string `json:"path"`
	Done int64  `json:"done"`
	Size int64  `json:"size"`
}

// Engine heals one volume. Open starts one as a session: it checks that
// no brick process serves the bricks (volume.CheckOffline) and holds the
// heal lock (volume.Lock), so no other heal or fsck --repair writes them;
// a mount may, and every entry heal takes AFR's locks (entryKeys) that the
// mount's fops take too. Close lets go of the locks.
type Engine struct {
	Vol  *volume.Volume
	Sets []*ReplicaSet
	AFR  afr.Options
	opts EngineOptions

	// full is set for a heal full, whose passes after the crawl merge a
	// directory's sources as the crawl did (see mergeSources).
	full  bool
	start time.Time
	done  atomic.Int64
	total atomic.Int64
	bytes atomic.Int64
	pass  atomic.Int64

	mu     sync.Mutex
	result *Result
	// plans is what a dry run has planned so far, for its later steps to
	// read the bricks as the run will find them (see plan.go).
	plans plans
	// eventsMu serialises the calls of opts.Events; lastProgress is when
	// a data copy last reported (Unix nanoseconds).
	eventsMu     sync.Mutex
	lastProgress atomic.Int64
	transfers    transfers
	// limiter keeps data heals to MaxRate; nil without a cap.
	limiter *rate.Limiter
	// release lets go of the session's lock (Open); nil without one.
	release func()
}

// NewEngine opens every replica set of v.
func NewEngine(v *volume.Volume, opts EngineOptions) (*Engine, error) {
	afrOpts, err := Options(v)
	if err != nil {
		return nil, err
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.BlockSize <= 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if opts.ResumeEvery <= 0 {
		opts.ResumeEvery = DefaultResumeEvery
	}
	if opts.Algorithm == "" {
		opts.Algorithm = v.Option("cluster.data-self-heal-algorithm", AlgorithmDynamic)
	}
	switch opts.Algorithm {
	case AlgorithmDynamic, AlgorithmFull, AlgorithmDiff:
	default:
		return nil, fmt.Errorf("volume %s: cluster.data-self-heal-algorithm %q: want full or diff", v.Name, opts.Algorithm)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sets := ReplicaSets(v)
	if !opts.DryRun {
		for _, rs := range sets {
			if rs.Locks, err = lockTables(rs); err != nil {
				return nil, err
			}
		}
	}
	e := &Engine{Vol: v, Sets: sets, AFR: afrOpts, opts: opts}
	if opts.MaxRate > 0 {
		// A burst of a tenth of a second: the limiter starts with a full
		// burst, and a burst of a whole block (1 MiB) let a heal capped at
		// 512 KiB/s copy two seconds' worth at once, which the rate seen
		// in its first seconds (and the ETA from it) took for its pace.
		burst := max(min(opts.BlockSize, opts.MaxRate/10), 4096)
		e.limiter = rate.NewLimiter(rate.Limit(opts.MaxRate), int(burst))
	}
	return e, nil
}

// throttle waits until n more bytes keep the data heal within MaxRate,
// a burst at a time: the limiter refuses a wait for more than its burst.
func (e *Engine) throttle(ctx context.Context, n int64) error {
	if e.limiter == nil {
		return nil
	}
	burst := int64(e.limiter.Burst())
	for n > 0 {
		k := min(n, burst)
		if err := e.limiter.WaitN(ctx, int(k)); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// progressSometimes reports progress from inside a data copy, at most
// ten times a second.
func (e *Engine) progressSometimes(target string) {
	if e.opts.Events == nil {
		return
	}
	now, last := time.Now().UnixNano(), e.lastProgress.Load()
	if now-last < int64(100*time.Millisecond) || !e.lastProgress.CompareAndSwap(last, now) {
		return
	}
	e.progress(target)
}

// transfers are the data heals under way. Safe for concurrent use.
type transfers struct {
	mu  sync.Mutex
	set map[*transfer]struct{}
}

type transfer struct {
	path string
	size int64
	done atomic.Int64
}

func (ts *transfers) start(path string, size int64) *transfer {
	t := &transfer{path: path, size: size}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.set == nil {
		ts.set = map[*transfer]struct{}{}
	}
	ts.set[t] = struct{}{}
	return t
}

func (ts *transfers) end(t *transfer) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.set, t)
}

// snapshot lists the transfers under way, by path.
func (ts *transfers) snapshot() []Transfer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]Transfer, 0, len(ts.set))
	for t := range ts.set {
		out = append(out, Transfer{Path: t.path, Done: t.done.Load(), Size: t.size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Close lets go of the bricks, their indexes, the lock tables and the
// session's heal lock (Open): a long-running process (the heal daemon)
// holds nothing open on a brick between two heals. The engine heals no
// more.
func (e *Engine) Close() {
	for _, rs := range e.Sets {
		rs.Close()
	}
	if e.release != nil {
		e.release()
		e.release = nil
	}
}

// Result is what a heal did, or with DryRun would do.
type Result struct {
	// Actions are the changes made (or planned), in the order of the
	// entries' paths within each pass.
	Actions []Action
	// Healed counts entries that reached agreement, by kind.
	Healed map[string]int
	// Bytes is the data written to sinks.
	Bytes int64
	// Resolved are the split-brain resolutions made.
	Resolved []Record
	// Left are the entries still needing a heal, with the reason.
	Left []Left
	// Passes is how many crawls ran.
	Passes int
}

// Left is an entry a heal could not finish.
type Left struct {
	Set        int
	GFID       afr.GFID
	Path       string
	SplitBrain bool
	Reason     string
	// Blockers are the names in this directory whose gfid split-brain
	// or type mismatch left it: the files a split-brain command is
	// given, rather than the directory.
	Blockers []Blocker
}

// Blocker is a name whose copies are different files.
type Blocker struct {
	Path string
	// TypeMismatch: the copies differ in type, which no command naming
	// the file resolves (GlusterFS has none either).
	TypeMismatch bool
}

// Action is one change to one entry, made or planned.
type Action struct {
	Set  int
	GFID afr.GFID
	Path string
	// What names the change: "data", "metadata", "entry", "create",
	// "link", "rename", "remove", "gfid", "resolve", "clear".
	What string
	// Source and Sinks are brick labels.
	Source string
	Sinks  []string
	// Target is the gfid a create, link or gfid action gives the name
	// (GFID is then the directory's).
	Target afr.GFID
	// Bytes is, for data, what was written (planned: the most that may be).
	Bytes int64
	// ResumedAt is, for a data heal that went on from a resume mark
	// (resume.go), where it began; 0 from the start.
	ResumedAt int64
	Detail    string
}

func (e *Engine) record(a Action) {
	if !e.opts.ForgetActions {
		e.mu.Lock()
		e.result.Actions = append(e.result.Actions, a)
		e.mu.Unlock()
	}
	e.emit(a)
}

func (e *Engine) healed(kind string) {
	e.mu.Lock()
	e.result.Healed[kind]++
	e.mu.Unlock()
}

// healed counts kind as healed for this entry: in the result now, and in
// a Healed event once the entry's commits have run (see healEntries).
func (h *entryHeal) healed(kind string) {
	h.e.healed(kind)
	h.healedKinds = append(h.healedKinds, kind)
}

func (e *Engine) resolved(r Record) {
	e.mu.Lock()
	e.result.Resolved = append(e.result.Resolved, r)
	e.mu.Unlock()
	e.emit(r)
}

// emit hands ev to opts.Events, one call at a time.
func (e *Engine) emit(ev Event) {
	if e.opts.Events == nil {
		return
	}
	e.eventsMu.Lock()
	defer e.eventsMu.Unlock()
	e.opts.Events(ev)
}

// step announces a change; with DryRun nothing is changed and step is not
// called.
func (e *Engine) step(what string) {
	if e.opts.Step != nil {
		e.opts.Step(what)
	}
}

func (e *Engine) progress(target string) {
	if e.opts.Events == nil {
		return
	}
	// The snapshot is taken under the lock: two workers' progress is
	// handed over in the order it was taken, and Done never goes down.
	e.eventsMu.Lock()
	defer e.eventsMu.Unlock()
	e.opts.Events(Progress{
		Pass:          int(e.pass.Load()),
		Done:          int(e.done.Load()),
		Total:         int(e.total.Load()),
		Bytes:         e.bytes.Load(),
		Elapsed:       time.Since(e.start),
		CurrentTarget: target,
		Transfers:     e.transfers.snapshot(),
	})
}

// outcome is what healing one entry came to.
type outcome struct {
	changed bool
	left    *Left
	// children are, in a full crawl, the entries below a directory.
	children []child
}

type child struct {
	gfid afr.GFID
	dir  bool
}

// Heal heals every entry the bricks' indexes list (full: every entry of the
// volume), pass after pass until a pass changes nothing.
func (e *Engine) Heal(ctx context.Context, full bool) (*Result, error) {
	e.result = &Result{Healed: map[string]int{}}
	e.full = full
	if err := e.checkBricks(); err != nil {
		return e.result, err
	}
	e.start = time.Now()
	var left []Left
	for pass := 1; pass <= maxPasses; pass++ {
		e.pass.Store(int64(pass))
		e.result.Passes = pass
		changed, l, err := e.healPass(ctx, full && pass == 1)
		if err != nil {
			return e.result, err
		}
		left = l
		if e.opts.DryRun || changed == 0 {
			break
		}
	}
	sortLeft(left)
	e.result.Left = left
	for _, l := range left {
		e.emit(l)
	}
	// Workers resolve in any order; the report lists by path.
	sort.SliceStable(e.result.Resolved, func(i, j int) bool { return e.result.Resolved[i].Path < e.result.Resolved[j].Path })
	e.result.Bytes = e.bytes.Load()
	return e.result, nil
}

func sortLeft(left []Left) {
	sort.Slice(left, func(i, j int) bool {
		if left[i].Path != left[j].Path {
			return left[i].Path < left[j].Path
		}
		return left[i].GFID.String() < left[j].GFID.String()
	})
}

// healPass heals every candidate of every replica set once. Directories go
// first, so the files their entry heal creates can be filled in the same
// pass.
func (e *Engine) healPass(ctx context.Context, full bool) (int, []Left, error) {
	var changed int
	var left []Left
	for _, rs := range e.Sets {
		if full {
			c, l, err := e.crawl(ctx, rs)
			if err != nil {
				return changed, left, err
			}
			changed += c
			left = append(left, l...)
			continue
		}
		// A dry run skips what its own plan takes out of the volume
		// (a file removed with its directory): the run finds it gone.
		c, l, err := e.healListed(ctx, rs, func(g afr.GFID, l *listing) bool { return e.goneAfterPlan(rs, g, l) })
		changed += c
		left = append(left, l...)
		if err != nil {
			return changed, left, err
		}
	}
	return changed, left, nil
}

// healListed heals the candidates the indexes of rs list, directories
// first, level by level, but those skip (when set) reports.
func (e *Engine) healListed(ctx context.Context, rs *ReplicaSet, skip func(afr.GFID, *listing) bool) (int, []Left, error) {
	levels, files, listed, err := e.candidates(rs)
	if err != nil {
		return 0, nil, err
	}
	rs.setListing(listed)
	defer rs.setListing(nil)
	e.total.Add(int64(len(files)))
	for _, l := range levels {
		e.total.Add(int64(len(l)))
	}
	var changed int
	var left []Left
	for _, group := range append(levels, files) {
		if skip != nil {
			// Asked group by group: what a dry run skips depends on what
			// it planned for the groups before.
			group = slices.DeleteFunc(group, func(g afr.GFID) bool { return skip(g, listed) })
		}
		c, l, err := e.healAll(ctx, rs, group, false)
		changed += c
		left = append(left, l...)
		if err != nil {
			return changed, left, err
		}
	}
	return changed, left, nil
}

// healAll heals gfids with a pool of Jobs workers. Each worker heals a
// batch and hands its commits to a committer, which makes the batches
// handed so far durable with one syncfs per brick, and only then clears
// their pending counters: a crash before that leaves the counters blaming
// the sinks, and the next run heals them again. The workers go on with the
// next batch meanwhile: waiting for the writeback of every syncfs (all the
// dirty data of the filesystem, a large file's too) kept a worker from
// healing for a sixth of benchmark 1's file heals. The group ends once its
// last commits are made.
func (e *Engine) healAll(ctx context.Context, rs *ReplicaSet, gfids []afr.GFID, force bool) (int, []Left, error) {
	size := healBatchSize(len(gfids), e.opts.Jobs)
	var (
		mu      sync.Mutex
		changed int
		left    []Left
		kids    []child
		firstEr error
		next    atomic.Int64
	)
	fail := func(err error) {
		mu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstEr != nil
	}
	// The queue's bound makes workers wait for the committer rather than
	// pile up healed batches whose counters stay set.
	queue := make(chan batch, 2*e.opts.Jobs)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for b := range queue {
			// Take every batch handed in by now: one syncfs covers them.
			bs := []batch{b}
		more:
			for {
				select {
				case b, ok := <-queue:
					if !ok {
						break more
					}
					bs = append(bs, b)
				default:
					break more
				}
			}
			// After a failure nothing is committed, but the locks are
			// still let go.
			if !failed() {
				if err := e.commit(rs, bs); err != nil {
					fail(err)
				}
			}
			for _, b := range bs {
				b.held.release()
			}
		}
	}()
	handOff := func(b batch) error {
		if len(b.commits) == 0 || e.opts.DryRun {
			b.held.release()
			return nil
		}
		queue <- b
		return nil
	}
	var wg sync.WaitGroup
	for w := 0; w < e.opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(size))) - size
				if lo >= len(gfids) || ctx.Err() != nil || failed() {
					return
				}
				hi := min(lo+size, len(gfids))
				c, l, k, err := e.healEntries(ctx, rs, gfids[lo:hi], force, nil, handOff)
				mu.Lock()
				changed += c
				left = append(left, l...)
				kids = append(kids, k...)
				mu.Unlock()
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(queue)
	<-committed
	if firstEr == nil {
		firstEr = ctx.Err()
	}
	if force && firstEr == nil && len(kids) > 0 {
		c, l, err := e.healChildren(ctx, rs, kids)
		changed += c
		left = append(left, l...)
		firstEr = err
	}
	return changed, left, firstEr
}

// maxBatch bounds the entries a worker heals before handing their commits
// to the committer (whose syncfs may then cover several batches).
const maxBatch = 32

// healBatchSize splits n entries into batches of at most maxBatch, and small
// enough that every worker gets several: the workers meet at the end of
// each group (a level of directories, then the files), so a group cut into
// too few batches leaves a worker idle while another heals a long batch
// (a level of 50 directories of 100 new files each took two batches of 32
// and 18).
func healBatchSize(n, jobs int) int {
	return max(1, min(maxBatch, n/(4*max(jobs, 1))))
}

// healBatch heals a batch of entries, committing as it goes.
func (e *Engine) healBatch(ctx context.Context, rs *ReplicaSet, gfids []afr.GFID, force bool, op *SplitBrainOp) (int, []Left, []child, error) {
	return e.healEntries(ctx, rs, gfids, force, op, func(b batch) error {
		defer b.held.release()
		if len(b.commits) == 0 || e.opts.DryRun {
			return nil
		}
		return e.commit(rs, []batch{b})
	})
}

// healEntries heals a batch of entries, each under its locks
// (entryKeys), and hands what it healed to handOff, which must run the
// commits once the changes are durable (commit) and then release the
// locks: at the end, and whenever an entry's locks are held by someone
// else. A worker holding locks never waits for one, so workers, and a
// mount's fops, which wait while holding theirs, never wait in a circle.
// On error, the batch's commits are dropped (the next heal redoes them)
// and its locks released.
func (e *Engine) healEntries(ctx context.Context, rs *ReplicaSet, gfids []afr.GFID, force bool, op *SplitBrainOp, handOff func(batch) error) (int, []Left, []child, error) {
	var left []Left
	var kids []child
	changed := 0
	cur := batch{held: newHeld(rs)}
	fail := func(err error) (int, []Left, []child, error) {
		cur.held.release()
		return changed, left, kids, err
	}
	for _, g := range gfids {
		ok, err := cur.held.try(g)
		if err != nil {
			return fail(err)
		}
		if !ok {
			// Commit what is healed, let go, then wait.
			if err := handOff(cur); err != nil {
				return changed, left, kids, err
			}
			cur = batch{held: newHeld(rs)}
			if err := cur.held.wait(ctx, g); err != nil {
				return fail(err)
			}
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		h := &entryHeal{ctx: ctx, e: e, rs: rs, gfid: g, force: force, op: op}
		out, err := h.run()
		if err != nil {
			return fail(err)
		}
		if out.changed {
			changed++
		}
		if out.left != nil {
			left = append(left, *out.left)
		}
		kids = append(kids, out.children...)
		cur.commits = append(cur.commits, h.commits...)
		if len(h.healedKinds) > 0 && e.opts.Events != nil {
			// After the entry's own commits: run only once they are.
			ev := Healed{Set: rs.Index, GFID: g, Path: h.path, Kinds: h.healedKinds}
			cur.commits = append(cur.commits, func() error { e.emit(ev); return nil })
		}
		e.done.Add(1)
		e.progress(h.path)
	}
	return changed, left, kids, handOff(cur)
}

// commit makes every brick of rs durable (syncfs), then runs the commits
// of the batches it covers: what was healed before is on disk when the
// counters blaming the sinks are cleared. It announces each syncfs once
// per batch: how many batches one syncfs covers varies from run to run,
// and a crash test counts on a heal taking the same steps every time.
func (e *Engine) commit(rs *ReplicaSet, bs []batch) error {
	for i, b := range rs.Open {
		if b == nil {
			continue
		}
		for range bs {
			e.step("syncfs " + rs.Labels[i])
		}
		if err := b.Syncfs(); err != nil {
			return err
		}
	}
	for _, b := range bs {
		for _, c := range b.commits {
			if err := c(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBricks refuses to heal unless every brick can be read here: a heal
// needs every copy to choose a source (GlusterFS's heal needs every brick of
// the replica set locked).
func (e *Engine) checkBricks() error {
	var errs []error
	for _, rs := range e.Sets {
		for i, b := range rs.Open {
			if b == nil {
				e.emit(BrickDown{Set: rs.Index, Brick: rs.Bricks[i].String(), Err: rs.Err[i]})
				err := fmt.Errorf("brick %s cannot be read: %w", rs.Bricks[i], rs.Err[i])
				if errors.Is(rs.Err[i], brick.ErrNotBrick) || errors.Is(rs.Err[i], brick.ErrNoVolumeID) {
					// What an unmounted disk looks like: afrkit fills no
					// mount point unless told this is a new disk.
					err = fmt.Errorf("%w (mount its disk; a new empty disk is put in with afrkit volume reset-brick %s %s)", err, e.Vol.Name, rs.Bricks[i].Path)
				}
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("afrkit heals only when every brick of the volume is readable on this host: %w", errors.Join(errs...))
	}
	return nil
}
