package heal

import (
	"context"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/lock"
)

// entryKeys are the locks heal holds on an entry from before it reads
// the entry's copies until its counters are cleared: the self-heal
// domain, so no other healer heals it at once, and the data domain,
// where every fop of the mount locks, on the inode (its data and
// metadata) and, for a directory, on all its names (AFR's entry heal
// takes the directory's entrylk with no name). A file has no names, so
// its entrylks stop nothing, and one list serves both.
//
// AFR's data heal lets go of the data domain while it copies, locking
// one block at a time, so writes elsewhere in the file go on; afrkit's
// holds the whole file until the heal is committed.
func entryKeys(g afr.GFID) []lock.Key {
	return []lock.Key{
		lock.Whole(lock.SelfHeal, g), lock.Whole(lock.Data, g),
		lock.Dir(lock.SelfHeal, g), lock.Dir(lock.Data, g),
	}
}

// lockTables are the lock tables of the set's open bricks, for a heal
// that writes (a dry run takes no lock).
func lockTables(rs *ReplicaSet) ([]*lock.Table, error) {
	tables := make([]*lock.Table, len(rs.Open))
	for i, b := range rs.Open {
		if b == nil {
			continue
		}
		t, err := lock.OnBrick(b)
		if err != nil {
			return nil, err
		}
		tables[i] = t
	}
	return tables, nil
}

// heldLocks are the locks a worker holds for a batch of entries: one
// owner on each brick, so the entries' locks never wait for each other.
// Not safe for concurrent use: one worker holds it, then the committer.
type heldLocks struct {
	owners []*lock.Owner
}

// newHeld is an empty set of locks on rs's bricks; nil when rs takes
// none.
func newHeld(rs *ReplicaSet) *heldLocks {
	if rs.Locks == nil {
		return nil
	}
	h := &heldLocks{owners: make([]*lock.Owner, len(rs.Locks))}
	for i, t := range rs.Locks {
		if t != nil {
			h.owners[i] = t.Owner()
		}
	}
	return h
}

// try takes the entry's locks on every brick, brick after brick, if no
// one else holds them; it never waits.
func (h *heldLocks) try(g afr.GFID) (bool, error) {
	if h == nil {
		return true, nil
	}
	for _, o := range h.owners {
		if o == nil {
			continue
		}
		if ok, err := o.TryLock(entryKeys(g)...); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// wait takes the entry's locks on every brick, brick after brick,
// waiting for their holders until ctx ends.
func (h *heldLocks) wait(ctx context.Context, g afr.GFID) error {
	if h == nil {
		return nil
	}
	for _, o := range h.owners {
		if o == nil {
			continue
		}
		if err := o.Lock(ctx, entryKeys(g)...); err != nil {
			return err
		}
	}
	return nil
}

// release lets go of every lock.
func (h *heldLocks) release() {
	if h == nil {
		return
	}
	for _, o := range h.owners {
		if o != nil {
			o.Release()
		}
	}
}

// batch is what a worker healed and has yet to commit: the commits, to
// run once the changes are durable, and the locks of the entries, held
// until then so that no fop changes their counters between the heal's
// reading them and its clearing them.
type batch struct {
	commits []func() error
	held    *heldLocks
}
