package heal

import (
	"sync"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/index"
)

// A dry run changes nothing, so a later step of it would read the bricks
// as they were, not as the run will have left them, and plan something
// else than the run then does: a second name of a file it plans to create
// as a create rather than the link the run makes. plans is what a dry run
// has planned so far, for those steps to read. A real run records
// nothing.

// planMark says what a dry run plans for a gfid.
type planMark uint8

const (
	// planMade: the gfid is to have a name on the brick (created,
	// linked or given to a copy that had none).
	planMade planMark = iota
	// planGone: the brick's copy is to be moved out of the volume.
	planGone
	// planVisited: the full crawl has planned the gfid's heal already (a
	// file with several names is met once per name).
	planVisited
	// planUnlinked: a name of the gfid is to be unlinked on the brick
	// (noted once per name).
	planUnlinked
)

type planKey struct {
	set   int
	brick int // -1 for planVisited
	mark  planMark
	gfid  afr.GFID
}

type inodeKey struct {
	set, brick int
	dev, ino   uint64
}

// plans is safe for concurrent use: the workers of a pass plan at once.
type plans struct {
	mu sync.Mutex
	// marks counts each mark noted (planUnlinked counts names).
	marks  map[planKey]int
	inodes map[inodeKey]afr.GFID
}

// plan notes, in a dry run, mark for gfid g on brick i of rs (-1: none).
func (e *Engine) plan(rs *ReplicaSet, i int, mark planMark, g afr.GFID) {
	if !e.opts.DryRun {
		return
	}
	p := &e.plans
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marks == nil {
		p.marks = map[planKey]int{}
	}
	p.marks[planKey{rs.Index, i, mark, g}]++
}

// count is how many times a dry run noted mark for g on brick i of rs.
func (e *Engine) count(rs *ReplicaSet, i int, mark planMark, g afr.GFID) int {
	if !e.opts.DryRun {
		return 0
	}
	p := &e.plans
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.marks[planKey{rs.Index, i, mark, g}]
}

// planned reports whether a dry run noted mark for g on brick i of rs.
func (e *Engine) planned(rs *ReplicaSet, i int, mark planMark, g afr.GFID) bool {
	return e.count(rs, i, mark, g) > 0
}

// planInode notes, in a dry run, that the inode dev:ino of brick i of rs
// is to get gfid g (its other names get it with it).
func (e *Engine) planInode(rs *ReplicaSet, i int, dev, ino uint64, g afr.GFID) {
	if !e.opts.DryRun {
		return
	}
	p := &e.plans
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inodes == nil {
		p.inodes = map[inodeKey]afr.GFID{}
	}
	p.inodes[inodeKey{rs.Index, i, dev, ino}] = g
}

// plannedInode is the gfid planInode noted for dev:ino, or zero.
func (e *Engine) plannedInode(rs *ReplicaSet, i int, dev, ino uint64) afr.GFID {
	p := &e.plans
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inodes[inodeKey{rs.Index, i, dev, ino}]
}

// holdsAfterPlan reports whether brick i of rs holds gfid g once what a
// dry run planned is done (held is what the brick holds now).
func (e *Engine) holdsAfterPlan(rs *ReplicaSet, i int, g afr.GFID, held bool) bool {
	if e.planned(rs, i, planGone, g) {
		held = false
	}
	return held || e.planned(rs, i, planMade, g)
}

// goneAfterPlan reports, in a dry run, whether the plan takes g out of
// the volume on some brick, and every brick whose index lists g holds it
// no more afterwards: the run drops those entries with the copy, and its
// index pass finds nothing to heal.
func (e *Engine) goneAfterPlan(rs *ReplicaSet, g afr.GFID, listed *listing) bool {
	if !e.opts.DryRun {
		return false
	}
	gone := false
	for i, b := range rs.Open {
		if b == nil {
			continue
		}
		gone = gone || e.planned(rs, i, planGone, g)
		if !listed.mayHave(i, index.Xattrop, g) && !listed.mayHave(i, index.Dirty, g) {
			continue
		}
		held, _, err := b.HasGFID(g)
		if err != nil || e.holdsAfterPlan(rs, i, g, held) {
			return false
		}
	}
	return gone
}

// namedAfterPlan reports whether brick i of rs holds g under a name of the
// volume once what a dry run planned is done (named is what it holds
// now): a file whose names are all to be unlinked is left in its handle.
func (e *Engine) namedAfterPlan(rs *ReplicaSet, i int, g afr.GFID, named bool) bool {
	if !e.opts.DryRun {
		return named
	}
	if e.planned(rs, i, planGone, g) {
		return false
	}
	if e.planned(rs, i, planMade, g) {
		return true
	}
	n := e.count(rs, i, planUnlinked, g)
	if !named || n == 0 {
		return named
	}
	b := rs.Open[i]
	var st syscall.Stat_t
	if err := b.Lstat(b.HandlePath(g), &st); err != nil {
		return named
	}
	return int(st.Nlink)-1-n > 0 // the handle is one link
}
