package heal

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/progress"
)

// BrickBacklog is what one brick's heal index holds, as `heal status`
// shows it. Indexed costs a listing of the index; the rest comes from
// entries classified now or on an earlier look (StatusCache).
type BrickBacklog struct {
	Set   int
	Brick volume.Brick
	Label string
	// Err says why the brick could not be read; nil for a connected brick.
	Err error
	// Indexed is how many entries its xattrop and dirty indexes hold.
	Indexed int
	// Pending are the classified entries heal info lists and that are
	// not in split-brain; SplitBrain those in split-brain; Unclassified
	// the entries not classified yet (counted as left to heal). The
	// rest of Indexed are stale entries heal info does not list.
	Pending, SplitBrain, Unclassified int
	// Kinds count the Pending entries by what they wait for, in
	// afr.Kinds order (data, metadata, entry): an entry may wait for
	// several.
	Kinds [len(afr.Kinds)]int
	// Bytes is the most the Pending entries' data heals copy: the size of
	// each one's largest copy (a diff heal writes less).
	Bytes int64
}

// Connected reports whether the brick could be read.
func (b BrickBacklog) Connected() bool { return b.Err == nil }

// Left is what the brick has left to heal, split-brains included: the
// entries heal info lists, and those not classified yet.
func (b BrickBacklog) Left() int { return b.Pending + b.SplitBrain + b.Unclassified }

// Backlog is every brick's backlog at one moment.
type Backlog struct {
	At     time.Time
	Bricks []BrickBacklog
}

// Left sums Left over the connected bricks.
func (b Backlog) Left() int {
	n := 0
	for _, bb := range b.Bricks {
		n += bb.Left()
	}
	return n
}

// Sample is the backlog as one observation of what is left.
func (b Backlog) Sample() progress.Sample {
	return progress.Sample{At: b.At, Remaining: int64(b.Left())}
}

// Sum adds up the connected bricks' figures.
func (b Backlog) Sum() (pending, splitBrain, unclassified int) {
	for _, bb := range b.Bricks {
		pending, splitBrain, unclassified = pending+bb.Pending, splitBrain+bb.SplitBrain, unclassified+bb.Unclassified
	}
	return pending, splitBrain, unclassified
}

// Down is how many bricks could not be read.
func (b Backlog) Down() int {
	n := 0
	for _, bb := range b.Bricks {
		if !bb.Connected() {
			n++
		}
	}
	return n
}

// BacklogOptions tune ScanBacklog.
type BacklogOptions struct {
	// QuorumCount is afr.QuorumCount for the volume.
	QuorumCount int
	// Open says how ScanVolume reaches bricks on other hosts.
	Open OpenOptions
	// Budget bounds the scan's time, listing included; 0 classifies
	// every entry the cache does not know. What the budget leaves is
	// counted as unclassified and classified by a later scan.
	Budget time.Duration
	// MinClassify is how long a scan with a Budget classifies at least,
	// even when the listing spent the budget: otherwise a backlog whose
	// listing takes longer than the budget would never be classified.
	MinClassify time.Duration
	// Refresh is how old a cached status may be before a scan with time
	// left in its budget classifies the entry again (a pending entry can
	// become a split-brain while it waits); 0 never refreshes.
	Refresh time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Workers is how many entries are classified at once; 0 picks a
	// default.
	Workers int
}

func (o BacklogOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// maxTodo bounds the entries one scan sets out to classify: more than a
// budget of a second or two gets through, so that a first look at a
// million unknown entries does not hold them all to classify a few.
const maxTodo = 1 << 16

// later is an index entry of brick k counted once the scan's
// classification is done.
type later struct {
	k   int
	sub index.Subdir
	g   afr.GFID
}

// ScanBacklog lists every brick's index and counts its entries by status,
// without locks, as heal info does. Each entry's status comes from cache
// when cache knows it; the others are classified (those cache does not
// know, then those it knew from longer ago than opts.Refresh, both in
// index order and at most maxTodo of each) until opts.Budget is spent, and
// cache learns them. Entries no index lists any more are forgotten, so
// cache never holds more than the backlog. It stops when ctx ends.
//
// A scan classifies entries in several goroutines; cache is used from the
// calling goroutine only.
func ScanBacklog(ctx context.Context, sets []*ReplicaSet, cache *StatusCache, opts BacklogOptions) (Backlog, error) {
	start := opts.now()
	out := Backlog{At: start}
	cache.scan++
	gen := cache.scan
	// todo are the entries cache did not know (their placeholder is in
	// cache, known false, until classified); old those it knew from
	// longer ago than opts.Refresh; wait what is counted after them.
	var todo, old []job
	var wait []later
	seen := 0 // known entries of cache this scan listed
	for _, rs := range sets {
		for i := range rs.Bricks {
			out.Bricks = append(out.Bricks, BrickBacklog{Set: rs.Index, Brick: rs.Bricks[i], Label: rs.Labels[i]})
			k := len(out.Bricks) - 1
			if rs.Read[i] == nil {
				out.Bricks[k].Err = rs.Err[i]
				if out.Bricks[k].Err == nil {
					out.Bricks[k].Err = errors.New("not connected")
				}
				continue
			}
			var tally BrickBacklog
			waitFrom := len(wait)
			err := rs.Pending(i, func(sub index.Subdir, e index.Entry) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				tally.Indexed++
				if e.Err != nil {
					return nil // not a gfid: stale
				}
				c, ok := cache.m[e.GFID]
				switch {
				case ok && c.known:
					if c.seen != gen {
						seen++
						c.seen = gen
						cache.m[e.GFID] = c
						if opts.Refresh > 0 && start.Sub(c.at) >= opts.Refresh && len(old) < maxTodo {
							old = append(old, job{e.GFID, rs})
							wait = append(wait, later{k, sub, e.GFID})
							return nil
						}
					}
					tally.count(sub, c)
				case ok: // a placeholder: listed earlier in this scan
					wait = append(wait, later{k, sub, e.GFID})
				case len(todo) < maxTodo:
					cache.m[e.GFID] = cachedStatus{seen: gen}
					todo = append(todo, job{e.GFID, rs})
					wait = append(wait, later{k, sub, e.GFID})
				default:
					tally.Unclassified++
				}
				return nil
			})
			if ctx.Err() != nil {
				cache.forget(todo)
				return out, ctx.Err()
			}
			bb := &out.Bricks[k]
			if err != nil {
				bb.Err = err
				wait = wait[:waitFrom]
				continue
			}
			bb.Indexed, bb.Pending, bb.SplitBrain, bb.Unclassified = tally.Indexed, tally.Pending, tally.SplitBrain, tally.Unclassified
			bb.Kinds, bb.Bytes = tally.Kinds, tally.Bytes
		}
	}
	// New entries get at least MinClassify; old ones only what is left of
	// the budget.
	fresh, err := cache.classify(ctx, todo, start, opts)
	again := 0
	if err == nil && len(old) > 0 {
		opts.MinClassify = 0
		again, err = cache.classify(ctx, old, start, opts)
	}
	// What the budget left unclassified is not known: no placeholder
	// stays for the next look to take as a status.
	cache.forget(todo)
	if err != nil {
		return out, err
	}
	for _, w := range wait {
		if c, ok := cache.m[w.g]; ok && c.known {
			out.Bricks[w.k].count(w.sub, c)
		} else {
			out.Bricks[w.k].Unclassified++
		}
	}
	// Entries no index lists any more are forgotten: when the cache holds
	// more than this scan saw, a pass over it finds them.
	pruned := 0
	if len(cache.m) > seen+fresh {
		for g, c := range cache.m {
			if c.seen != gen {
				delete(cache.m, g)
				pruned++
			}
		}
	}
	cache.dirty = cache.dirty || fresh+again > 0 || pruned > 0
	return out, nil
}

// count adds an entry of sub with status c to the brick's figures.
func (b *BrickBacklog) count(sub index.Subdir, c cachedStatus) {
	switch {
	case !c.exists || !c.status.Listed() || countedElsewhere(sub, c.status):
	case c.status.IsSplitBrain():
		b.SplitBrain++
	default:
		b.Pending++
		for k := range b.Kinds {
			if c.kinds&(1<<k) != 0 {
				b.Kinds[k]++
			}
		}
		b.Bytes += c.bytes
	}
}

// pendingOf is what an entry waits for, from its copies' counters: a bit
// per kind (afr.Kinds order) whose counters are set on any copy, and for
// a data heal the size of its largest copy.
func pendingOf(replies []afr.Reply) (kinds uint8, bytes int64) {
	for _, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		for k := range afr.Kinds {
			if r.Dirty[k] != 0 {
				kinds |= 1 << k
			}
			for _, c := range r.Pending {
				if c[k] != 0 {
					kinds |= 1 << k
				}
			}
		}
	}
	if kinds&(1<<afr.Data) != 0 {
		for _, r := range replies {
			if r.Answered && r.Exists && r.Type == afr.TypeRegular {
				bytes = max(bytes, r.Size)
			}
		}
	}
	return kinds, bytes
}

// job is an entry to classify, and the replica set it is in.
type job struct {
	g  afr.GFID
	rs *ReplicaSet
}

// ScanVolume is ScanBacklog over every replica set of v, opened for the
// look and closed after it: nothing stays open on a brick.
func ScanVolume(ctx context.Context, v *volume.Volume, cache *StatusCache, opts BacklogOptions) (Backlog, error) {
	sets := OpenReplicaSets(v, opts.Open)
	defer func() {
		for _, rs := range sets {
			rs.Close()
		}
	}()
	return ScanBacklog(ctx, sets, cache, opts)
}

// StatusCache remembers each index entry's heal-info status between looks
// at a backlog, so that a backlog of millions is classified once, a part
// at a time, rather than on every look. It is not safe for concurrent
// use.
type StatusCache struct {
	m map[afr.GFID]cachedStatus
	// scan counts the scans; an entry's seen is the last scan that
	// listed it.
	scan uint32
	// dirty: a scan changed what the cache holds since it was loaded or
	// saved.
	dirty bool
}

type cachedStatus struct {
	status afr.HealStatus
	// exists is false for a gfid no brick has: a stale entry.
	exists bool
	// known is false for the placeholder of an entry a scan listed and
	// has not classified yet.
	known bool
	seen  uint32
	at    time.Time
	// kinds and bytes are what it waits for (pendingOf).
	kinds uint8
	bytes int64
}

// forget removes the placeholders of the jobs that were not classified.
func (c *StatusCache) forget(jobs []job) {
	for _, j := range jobs {
		if cs, ok := c.m[j.g]; ok && !cs.known {
			delete(c.m, j.g)
		}
	}
}

// NewStatusCache is an empty cache.
func NewStatusCache() *StatusCache { return &StatusCache{m: map[afr.GFID]cachedStatus{}} }

// Len is how many entries the cache knows.
func (c *StatusCache) Len() int { return len(c.m) }

// classify classifies the jobs in order until the budget from start is
// spent, in several goroutines, and the cache learns each status. It
// returns how many it classified.
func (c *StatusCache) classify(ctx context.Context, todo []job, start time.Time, opts BacklogOptions) (int, error) {
	if len(todo) == 0 {
		return 0, nil
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	var deadline time.Time
	if opts.Budget > 0 {
		deadline = start.Add(opts.Budget)
		if least := opts.now().Add(opts.MinClassify); deadline.Before(least) {
			deadline = least
		}
	}
	// Each worker keeps what it classified, so that memory follows what
	// the budget allowed, not the backlog.
	type classified struct {
		g  afr.GFID
		cs cachedStatus
	}
	found := make([][]classified, workers)
	var mu sync.Mutex
	next := 0
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(todo) || (!deadline.IsZero() && !opts.now().Before(deadline)) {
			return 0, false
		}
		next++
		return next - 1, true
	}
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for {
				if err := gctx.Err(); err != nil {
					return err
				}
				k, ok := take()
				if !ok {
					return nil
				}
				j := todo[k]
				replies, _ := j.rs.GatherCounters(j.g)
				st, exists := healStatus(replies, opts.QuorumCount)
				kinds, bytes := pendingOf(replies)
				found[w] = append(found[w], classified{j.g, cachedStatus{status: st, exists: exists, known: true, at: opts.now(), kinds: kinds, bytes: bytes}})
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	n := 0
	for _, list := range found {
		for _, f := range list {
			f.cs.seen = c.m[f.g].seen
			c.m[f.g] = f.cs
			n++
		}
	}
	return n, nil
}
