package heal

import (
	"fmt"
	"sync"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
)

// ReplicaSet is one replica set of a volume, opened for reading.
type ReplicaSet struct {
	// Index is the set's position in the volume (0 for a plain replica).
	Index  int
	Bricks []volume.Brick
	// Open[i] is nil when brick i could not be opened (missing, unreadable
	// or not local); Err[i] says why.
	Open    []*brick.Brick
	Err     []error
	Indexes []*index.Index
	// Keys are the pending keys in brick order.
	Keys []string
	// Labels name the bricks in messages.
	Labels []string
	// Locks are the open bricks' lock tables, which a heal that writes
	// locks what it heals in (nil entries for bricks not open); nil for
	// a dry run, which locks nothing.
	Locks []*lock.Table
	// dirs remember each brick's directory paths for PathOf.
	dirs []*brick.DirCache

	listingMu sync.Mutex
	// listing is the index entries that may exist during a pass (see
	// listing); nil outside one.
	listing *listing
}

// dirCacheLimit bounds each brick's directory cache: 65536 directory paths
// are a few megabytes, and cover the parents of a whole heal backlog in any
// but the most scattered trees.
const dirCacheLimit = 1 << 16

// ReplicaSets opens every replica set of v. A brick that cannot be opened
// is recorded, not fatal: it is reported as down, like GlusterFS reports a
// brick it cannot reach.
func ReplicaSets(v *volume.Volume) []*ReplicaSet {
	labels := v.BrickLabels()
	var out []*ReplicaSet
	for si, set := range v.ReplicaSets() {
		rs := &ReplicaSet{Index: si, Bricks: set, Keys: volume.PendingKeys(set)}
		for j, vb := range set {
			rs.Labels = append(rs.Labels, labels[si*v.Replica+j])
			b, err := OpenBrick(v, vb)
			rs.Open = append(rs.Open, b)
			rs.Err = append(rs.Err, err)
			var ix *index.Index
			if b != nil {
				ix = index.OpenNS(b.Root, b.NS)
			}
			rs.Indexes = append(rs.Indexes, ix)
			rs.dirs = append(rs.dirs, brick.NewDirCache(dirCacheLimit))
		}
		out = append(out, rs)
	}
	return out
}

// OpenBrick opens brick vb of v and checks it is that volume's: local,
// laid out as a brick, with v's volume-id.
func OpenBrick(v *volume.Volume, vb volume.Brick) (*brick.Brick, error) {
	if !vb.Local {
		return nil, fmt.Errorf("brick %s is on another host", vb)
	}
	b, err := brick.Open(vb.Path, v.XattrNS)
	if err != nil {
		return nil, err
	}
	id, _ := brick.ParseGFID(v.ID)
	if err := b.Check(id); err != nil {
		return nil, err
	}
	return b, nil
}

// Close closes the set's bricks, indexes and lock tables. The set reads
// no more.
func (rs *ReplicaSet) Close() {
	for i := range rs.Bricks {
		if i < len(rs.Locks) && rs.Locks[i] != nil {
			rs.Locks[i].Close()
		}
		if rs.Indexes[i] != nil {
			rs.Indexes[i].Close()
		}
		if rs.Open[i] != nil {
			rs.Open[i].Close()
		}
	}
}

// Gather reads what every brick of the set holds for gfid g. Bricks that
// are down, or that fail to read, answer Answered=false; errs collects the
// read errors (corrupt xattrs and the like) by brick.
func (rs *ReplicaSet) Gather(g afr.GFID) ([]afr.Reply, []error) {
	return rs.gather(func(_ int, b *brick.Brick) (afr.Reply, error) { return b.ReplyGFID(g, rs.Keys) })
}

// gatherAbs is Gather that also returns the absolute path of each brick's
// copy ("" where there is none), as brick.ReplyGFIDAbs finds it.
func (rs *ReplicaSet) gatherAbs(g afr.GFID) ([]afr.Reply, []string, []error) {
	abs := make([]string, len(rs.Bricks))
	replies, errs := rs.gather(func(i int, b *brick.Brick) (afr.Reply, error) {
		r, a, err := b.ReplyGFIDAbs(g, rs.Keys)
		abs[i] = a
		return r, err
	})
	return replies, abs, errs
}

// GatherCounters is Gather cut down to what afr.HealInfo reads (see
// brick.CountersGFID): no times, no xattrs beyond the counters.
func (rs *ReplicaSet) GatherCounters(g afr.GFID) ([]afr.Reply, []error) {
	return rs.gather(func(_ int, b *brick.Brick) (afr.Reply, error) { return b.CountersGFID(g, rs.Keys) })
}

// GatherPath is Gather for a volume path.
func (rs *ReplicaSet) GatherPath(p string) ([]afr.Reply, []error) {
	return rs.gather(func(_ int, b *brick.Brick) (afr.Reply, error) { return b.Reply(p, rs.Keys) })
}

func (rs *ReplicaSet) gather(read func(int, *brick.Brick) (afr.Reply, error)) ([]afr.Reply, []error) {
	replies := make([]afr.Reply, len(rs.Bricks))
	errs := make([]error, len(rs.Bricks))
	for i, b := range rs.Open {
		if b == nil {
			replies[i].Name = rs.Labels[i]
			errs[i] = rs.Err[i]
			continue
		}
		r, err := read(i, b)
		r.Name = rs.Labels[i]
		replies[i] = r
		if err != nil {
			errs[i] = err
			// A corrupt counter makes the whole reply untrustworthy: treat
			// the brick as not answering, so afr never picks it as a
			// source on the strength of a value it could not read.
			replies[i].Answered = false
		}
	}
	return replies, errs
}

// PathOf resolves g to a volume path using whichever brick can: the first
// brick whose handle resolves wins. It returns "" when none can.
func (rs *ReplicaSet) PathOf(g afr.GFID) string {
	for i, b := range rs.Open {
		if b == nil {
			continue
		}
		if p, err := b.PathOfCached(g, rs.dirs[i]); err == nil {
			return p
		}
	}
	return ""
}

// Pending streams the gfids that brick i's index lists in xattrop and dirty
// (each once per subdirectory), as GlusterFS's heal info crawls them.
func (rs *ReplicaSet) Pending(i int, fn func(sub index.Subdir, e index.Entry) error) error {
	ix := rs.Indexes[i]
	if ix == nil {
		return rs.Err[i]
	}
	for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
		if err := ix.Walk(sub, func(e index.Entry) error { return fn(sub, e) }); err != nil {
			return err
		}
	}
	return nil
}

// Children reads, for the directory at dir, what every brick of the set
// holds for each name any brick has in it: the input afr.MergeBlockers
// needs. A brick that cannot list the directory answers for none of its
// names (it is left out, as a brick that is down).
func (rs *ReplicaSet) Children(dir string) (map[string][]afr.Reply, error) {
	names := map[string]bool{}
	for i, b := range rs.Open {
		if b == nil {
			continue
		}
		abs, err := b.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rs.Labels[i], err)
		}
		list, err := b.ReadDirNames(abs, dir)
		if err != nil {
			continue // not a directory, or gone, on this brick
		}
		for _, n := range list {
			names[n] = true
		}
	}
	out := make(map[string][]afr.Reply, len(names))
	for n := range names {
		replies, _ := rs.GatherPath(brick.Join(dir, n))
		out[n] = replies
	}
	return out, nil
}
