package heal

import (
	"errors"
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
	// Open[i] is nil when brick i could not be opened here (missing,
	// unreadable or not local); Err[i] says why. Only an open brick is
	// written.
	Open []*brick.Brick
	// Read[i] reads brick i: through Open[i], or over the network for a
	// brick opened with OpenOptions.Remote. It is nil when the brick cannot
	// be read at all, and Err[i] says why.
	Read    []BrickReader
	Err     []error
	Indexes []*index.Index
	// Keys are the pending keys in brick order.
	Keys []string
	// Labels name the bricks in messages.
	Labels []string
	// Arbiter is the position of the set's arbiter brick (replica 3
	// arbiter 1: the third), or -1.
	Arbiter int
	// Locks are the open bricks' lock tables, which a heal that writes
	// locks what it heals in (nil entries for bricks not open); nil for
	// a dry run, which locks nothing.
	Locks []*lock.Table
	// dirs remember each brick's directory paths for PathOf.
	dirs []*brick.DirCache

	// remote are the bricks read over the network, closed with the set.
	remote []RemoteBrick

	listingMu sync.Mutex
	// listing is the index entries that may exist during a pass (see
	// listing); nil outside one.
	listing *listing
}

// dirCacheLimit bounds each brick's directory cache: 65536 directory paths
// are a few megabytes, and cover the parents of a whole heal backlog in any
// but the most scattered trees.
const dirCacheLimit = 1 << 16

// ErrOnAnotherHost is why a brick on another host is not read: the volume
// is stopped (no brick process serves it), or OpenOptions.Remote could
// not read it over the network for want of libgfapi.
var ErrOnAnotherHost = errors.New("on another host")

// BrickReader reads one brick of a set, its copies and its index, without
// writing: a brick directory on this host, or a brick read over GlusterFS's
// protocol (package brick/remote).
type BrickReader interface {
	brick.Reader
	index.Lister
}

// RemoteBrick is a BrickReader over the network, closed with its set.
type RemoteBrick interface {
	BrickReader
	Close() error
}

// OpenOptions tune OpenReplicaSets.
type OpenOptions struct {
	// Remote, when not nil, opens brick i of v over the network: how the
	// bricks of a started GlusterFS volume that live on other servers are
	// read. It is called for the bricks that are not local, at once from
	// several goroutines. Without it such bricks are reported as on another
	// host.
	Remote func(v *volume.Volume, i int) (RemoteBrick, error)
}

// ReuseRemote returns options whose Remote opens each brick of another
// host once (per volume name and position) and hands that reader to every
// later OpenReplicaSets, whose Close then leaves it open; release lets them
// all go. It is for a command that looks again and again (heal wait, the
// TUI): each reader is a connection to the brick's server, and GlusterFS
// takes some ten seconds to let one go. A brick that could not be opened
// is tried again at the next open; one whose server goes away meanwhile
// fails its reads until GlusterFS's client has reconnected to it.
func ReuseRemote(o OpenOptions) (reused OpenOptions, release func()) {
	if o.Remote == nil {
		return o, func() {}
	}
	type key struct {
		vol   string
		brick int
	}
	var mu sync.Mutex
	open := map[key]RemoteBrick{}
	reused.Remote = func(v *volume.Volume, i int) (RemoteBrick, error) {
		k := key{v.Name, i}
		mu.Lock()
		rb, ok := open[k]
		mu.Unlock()
		if !ok {
			fresh, err := o.Remote(v, i)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			if rb, ok = open[k]; !ok { // else opened meanwhile by another caller
				rb, open[k] = fresh, fresh
			}
			mu.Unlock()
			if rb != fresh {
				fresh.Close()
			}
		}
		return keptOpen{rb}, nil
	}
	return reused, func() {
		mu.Lock()
		defer mu.Unlock()
		for k, rb := range open {
			rb.Close()
			delete(open, k)
		}
	}
}

// keptOpen is a reused reader, which its set's Close leaves open.
type keptOpen struct{ RemoteBrick }

func (keptOpen) Close() error { return nil }

// ReplicaSets opens every replica set of v. A brick that cannot be opened
// is recorded, not fatal: it is reported as down, like GlusterFS reports a
// brick it cannot reach.
func ReplicaSets(v *volume.Volume) []*ReplicaSet { return OpenReplicaSets(v, OpenOptions{}) }

// OpenReplicaSets is ReplicaSets that also reads the bricks on other hosts
// as opts says.
func OpenReplicaSets(v *volume.Volume, opts OpenOptions) []*ReplicaSet {
	labels := v.BrickLabels()
	var out []*ReplicaSet
	var wg sync.WaitGroup
	for si, set := range v.ReplicaSets() {
		n := len(set)
		// Sized up front: the goroutines below fill their brick's slots
		// while the loop goes on.
		rs := &ReplicaSet{
			Index: si, Bricks: set, Keys: volume.PendingKeys(set), Arbiter: v.ArbiterPosition(),
			Labels: make([]string, n), Open: make([]*brick.Brick, n), Err: make([]error, n),
			Indexes: make([]*index.Index, n), Read: make([]BrickReader, n),
			remote: make([]RemoteBrick, n), dirs: make([]*brick.DirCache, n),
		}
		for j, vb := range set {
			rs.Labels[j] = labels[si*v.Replica+j]
			rs.dirs[j] = brick.NewDirCache(dirCacheLimit)
			if !vb.Local && opts.Remote != nil {
				wg.Go(func() {
					rb, err := opts.Remote(v, si*v.Replica+j)
					if err != nil {
						rs.Err[j] = err
						return
					}
					rs.remote[j], rs.Read[j] = rb, rb
				})
				continue
			}
			b, err := OpenBrick(v, vb)
			rs.Open[j], rs.Err[j] = b, err
			if b != nil {
				rs.Indexes[j] = index.OpenNS(b.Root, b.NS)
				rs.Read[j] = localBrick{brick.LocalReader(b, rs.dirs[j]), rs.Indexes[j]}
			}
		}
		out = append(out, rs)
	}
	wg.Wait()
	return out
}

// localBrick reads a brick directory on this host.
type localBrick struct {
	brick.Reader
	*index.Index
}

// OpenBrick opens brick vb of v and checks it is that volume's: local,
// laid out as a brick, with v's volume-id.
func OpenBrick(v *volume.Volume, vb volume.Brick) (*brick.Brick, error) {
	if !vb.Local {
		return nil, fmt.Errorf("brick %s is %w", vb, ErrOnAnotherHost)
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

// hasRemote reports whether a brick of the set is read over the network.
func (rs *ReplicaSet) hasRemote() bool {
	for _, r := range rs.remote {
		if r != nil {
			return true
		}
	}
	return false
}

// Close closes the set's bricks, indexes and lock tables. The set reads
// no more.
func (rs *ReplicaSet) Close() {
	for i := range rs.Bricks {
		if i < len(rs.remote) && rs.remote[i] != nil {
			rs.remote[i].Close()
		}
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
	return rs.gather(func(i int) (afr.Reply, error) { return rs.Read[i].ReplyGFID(g, rs.Keys) })
}

// errNotHere is the read error of a brick gatherAbs cannot resolve to a
// path on this host: one read over the network.
var errNotHere = errors.New("brick is not on this host")

// gatherAbs is Gather that also returns the absolute path of each brick's
// copy ("" where there is none), as brick.ReplyGFIDAbs finds it. It is for
// a heal about to change the copies, which only bricks on this host can
// be; a brick read over the network does not answer.
func (rs *ReplicaSet) gatherAbs(g afr.GFID) ([]afr.Reply, []string, []error) {
	abs := make([]string, len(rs.Bricks))
	replies, errs := rs.gather(func(i int) (afr.Reply, error) {
		if rs.Open[i] == nil {
			return afr.Reply{}, errNotHere
		}
		r, a, err := rs.Open[i].ReplyGFIDAbs(g, rs.Keys)
		abs[i] = a
		return r, err
	})
	return replies, abs, errs
}

// GatherCounters is Gather cut down to what afr.HealInfo reads (see
// brick.Reader's CountersGFID): no times, no xattrs beyond the counters.
func (rs *ReplicaSet) GatherCounters(g afr.GFID) ([]afr.Reply, []error) {
	return rs.gather(func(i int) (afr.Reply, error) { return rs.Read[i].CountersGFID(g, rs.Keys) })
}

// GatherPath is Gather for a volume path.
func (rs *ReplicaSet) GatherPath(p string) ([]afr.Reply, []error) {
	return rs.gather(func(i int) (afr.Reply, error) { return rs.Read[i].Reply(p, rs.Keys) })
}

// gather calls read for every brick that can be read.
func (rs *ReplicaSet) gather(read func(i int) (afr.Reply, error)) ([]afr.Reply, []error) {
	replies := make([]afr.Reply, len(rs.Bricks))
	errs := make([]error, len(rs.Bricks))
	for i, r := range rs.Read {
		if r == nil {
			replies[i].Name, replies[i].Arbiter = rs.Labels[i], i == rs.Arbiter
			errs[i] = rs.Err[i]
			continue
		}
		reply, err := read(i)
		reply.Name, reply.Arbiter = rs.Labels[i], i == rs.Arbiter
		replies[i] = reply
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
// brick that resolves it wins. It returns "" when none can.
func (rs *ReplicaSet) PathOf(g afr.GFID) string {
	for _, r := range rs.Read {
		if r == nil {
			continue
		}
		if p, err := r.PathOf(g); err == nil {
			return p
		}
	}
	return ""
}

// Pending streams the gfids that brick i's index lists in xattrop and dirty
// (each once per subdirectory), as GlusterFS's heal info crawls them.
func (rs *ReplicaSet) Pending(i int, fn func(sub index.Subdir, e index.Entry) error) error {
	r := rs.Read[i]
	if r == nil {
		return rs.Err[i]
	}
	for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
		if err := index.Walk(r, sub, func(e index.Entry) error { return fn(sub, e) }); err != nil {
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
	if _, err := brick.CleanPath(dir); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, r := range rs.Read {
		if r == nil {
			continue
		}
		list, err := r.ReadDir(dir)
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
