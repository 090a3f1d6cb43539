package heal

import (
	"context"
	"errors"
	"runtime"
	"slices"
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

// listedEntry is one index entry of a brick.
type listedEntry struct {
	sub index.Subdir
	g   afr.GFID
	// bad is a name that is not a gfid: stale, never classified.
	bad bool
}

// ScanBacklog lists every brick's index and counts its entries by status,
// without locks, as heal info does. Each entry's status comes from cache
// when cache knows it; the others are classified (those cache does not
// know, in no set order, so that what a budget leaves is a fair sample;
// then those it knows from longest ago) until opts.Budget is spent, and
// cache learns them. Entries no index lists any more are forgotten, so cache
// never holds more than the backlog. It stops when ctx ends.
//
// A scan classifies entries in several goroutines; cache is used from the
// calling goroutine only.
func ScanBacklog(ctx context.Context, sets []*ReplicaSet, cache *StatusCache, opts BacklogOptions) (Backlog, error) {
	start := opts.now()
	out := Backlog{At: start}
	lists := make([][]listedEntry, 0)
	// What the cache knows is about what the indexes hold now.
	owner := make(map[afr.GFID]*ReplicaSet, cache.Len())
	for _, rs := range sets {
		for i := range rs.Bricks {
			bb := BrickBacklog{Set: rs.Index, Brick: rs.Bricks[i], Label: rs.Labels[i]}
			var list []listedEntry
			if rs.Open[i] == nil {
				bb.Err = rs.Err[i]
				if bb.Err == nil {
					bb.Err = errors.New("not connected")
				}
			} else {
				bb.Err = rs.Pending(i, func(sub index.Subdir, e index.Entry) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					list = append(list, listedEntry{sub: sub, g: e.GFID, bad: e.Err != nil})
					if e.Err == nil {
						owner[e.GFID] = rs
					}
					return nil
				})
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				if bb.Err != nil {
					list = nil
				}
				bb.Indexed = len(list)
			}
			out.Bricks = append(out.Bricks, bb)
			lists = append(lists, list)
		}
	}
	if err := cache.classify(ctx, owner, start, opts); err != nil {
		return out, err
	}
	for k, list := range lists {
		bb := &out.Bricks[k]
		for _, e := range list {
			if e.bad {
				continue
			}
			c, ok := cache.m[e.g]
			switch {
			case !ok:
				bb.Unclassified++
			case !c.exists || !c.status.Listed() || countedElsewhere(e.sub, c.status):
			case c.status.IsSplitBrain():
				bb.SplitBrain++
			default:
				bb.Pending++
			}
		}
	}
	for g := range cache.m {
		if owner[g] == nil {
			delete(cache.m, g)
		}
	}
	return out, nil
}

// ScanVolume is ScanBacklog over every replica set of v, opened for the
// look and closed after it: nothing stays open on a brick.
func ScanVolume(ctx context.Context, v *volume.Volume, cache *StatusCache, opts BacklogOptions) (Backlog, error) {
	sets := ReplicaSets(v)
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
}

type cachedStatus struct {
	status afr.HealStatus
	// exists is false for a gfid no brick has: a stale entry.
	exists bool
	at     time.Time
}

// NewStatusCache is an empty cache.
func NewStatusCache() *StatusCache { return &StatusCache{m: map[afr.GFID]cachedStatus{}} }

// Len is how many entries the cache knows.
func (c *StatusCache) Len() int { return len(c.m) }

// classify classifies the gfids of owner that c does not know, then
// those it knows from longer ago than opts.Refresh, oldest first, until
// the budget from start is spent.
func (c *StatusCache) classify(ctx context.Context, owner map[afr.GFID]*ReplicaSet, start time.Time, opts BacklogOptions) error {
	var todo, old []afr.GFID
	for g := range owner {
		cs, ok := c.m[g]
		switch {
		case !ok:
			todo = append(todo, g)
		case opts.Refresh > 0 && start.Sub(cs.at) >= opts.Refresh:
			old = append(old, g)
		}
	}
	slices.SortFunc(old, func(a, b afr.GFID) int { return c.m[a].at.Compare(c.m[b].at) })
	todo = append(todo, old...)
	if len(todo) == 0 {
		return nil
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
				gfid := todo[k]
				replies, _ := owner[gfid].GatherCounters(gfid)
				st, exists := healStatus(replies, opts.QuorumCount)
				found[w] = append(found[w], classified{gfid, cachedStatus{status: st, exists: exists, at: opts.now()}})
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, list := range found {
		for _, f := range list {
			c.m[f.g] = f.cs
		}
	}
	return nil
}
