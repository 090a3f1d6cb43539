// Package engine runs fops on the bricks of a replica set as AFR's write
// transaction does: pre-op, the fop on every brick that is up, post-op,
// with the changelog counters and heal index entries GlusterFS's AFR and
// index xlators leave. What to write is decided by afr (PlanPreOp,
// PlanPostOp); this package applies it to the bricks.
//
// It is the core the FUSE mount (package mount) will serve, and what the
// fixtures (and so the tests and the demo) write an afrkit volume
// through. The inodelk and entrylk every writer will share are not here
// yet: two transactions on one inode at once interleave their fops, but
// no counter update is lost, because brick.AddChangelog is atomic across
// goroutines and processes.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// Set is one replica set the engine writes.
type Set struct {
	Bricks  []*brick.Brick
	Indexes []*index.Index
	// Keys are the pending keys, in brick order: Keys[j] blames brick j.
	Keys []string
	// Up[i] is whether brick i is up: a brick that is down is not
	// written, and the post-op blames it.
	Up []bool
	// QuorumCount is afr.QuorumCount for the volume (0: no quorum).
	QuorumCount int
	// Optimistic is cluster.optimistic-change-log (on by default).
	Optimistic bool
	// Granular is cluster.granular-entry-heal: entry fops name their
	// entry in the parent's entry-changes index.
	Granular bool
}

// ErrNoQuorum is returned, with nothing written, when fewer bricks than
// the quorum are up, or when the fop succeeded on fewer than the quorum
// (the pre-op's dirty mark then stays, as GlusterFS leaves it). GlusterFS
// fails such a fop with ENOTCONN.
var ErrNoQuorum = fmt.Errorf("quorum not met: %w", syscall.ENOTCONN)

// InodeOp runs op on the copy of volume path p on every brick that is up,
// as one transaction of kind (afr.Data or afr.Metadata): the pre-op marks
// the bricks dirty where AFR does, op changes each copy, and the post-op
// blames every brick that failed or was down on every brick that
// succeeded, takes the dirty mark back, and keeps the heal index as
// GlusterFS's index xlator keeps it.
//
// op is called once per up brick, one brick after the other, never
// concurrently, with the copy's absolute path; its error marks that brick
// failed for this fop. InodeOp returns which bricks failed (down ones
// included), and an error when the fop succeeded on none, or on fewer
// than the quorum, or a changelog could not be written.
func (s *Set) InodeOp(ctx context.Context, kind afr.Kind, p string, op func(i int, b *brick.Brick, abs string) error) ([]bool, error) {
	return s.run(ctx, txn{kind: kind, path: p,
		op: func(i int, b *brick.Brick, abs string, _ afr.GFID) error { return op(i, b, abs) }})
}

// txn is one transaction for run: the inode it locks and changelogs (a
// file for inode fops, the parent directory for entry fops), the fop, and
// the entry fops' extra steps.
type txn struct {
	kind afr.Kind
	// path is the volume path of the inode the transaction locks.
	path string
	// op is the fop on brick i, given the locked inode's absolute path
	// and gfid there.
	op func(i int, b *brick.Brick, abs string, g afr.GFID) error
	// preOp, when set, runs after the pre-op's dirty mark on each locked
	// brick; mark after the fop, when it succeeded on a quorum but not
	// everywhere; postOp after the post-op on each brick that succeeded,
	// told whether some brick failed.
	preOp  func(i int, g afr.GFID) error
	mark   func(failed []bool) error
	postOp func(i int, g afr.GFID, anyFailed bool) error
}

// run is the transaction every fop shares: lock what can be found,
// pre-op, the fop on each locked brick in turn, quorum, post-op.
func (s *Set) run(ctx context.Context, t txn) ([]bool, error) {
	n := len(s.Bricks)
	failed := make([]bool, n)
	if s.QuorumCount > 0 && count(s.Up) < s.QuorumCount {
		return notUp(s.Up), ErrNoQuorum
	}
	abs := make([]string, n)
	gfids := make([]afr.GFID, n)
	locked := make([]bool, n)
	for i, b := range s.Bricks {
		if !s.Up[i] {
			continue
		}
		a, err := b.Abs(t.path)
		if err == nil {
			gfids[i], err = b.GFIDAt(a)
		}
		if err != nil {
			// What cannot be found cannot be locked: the brick takes no
			// part and is blamed, as a brick whose lookup failed.
			continue
		}
		abs[i], locked[i] = a, true
	}
	pre := afr.PlanPreOp(t.kind, locked, s.Optimistic)
	if pre.Dirtied() {
		for i := range s.Bricks {
			if !locked[i] {
				continue
			}
			err := s.addDirty(i, abs[i], t.path, gfids[i], pre.Dirty)
			if err == nil && t.preOp != nil {
				err = t.preOp(i, gfids[i])
			}
			if err != nil {
				return nil, fmt.Errorf("pre-op on %s: %w", s.Bricks[i], err)
			}
		}
	}
	ok := 0
	for i, b := range s.Bricks {
		// A brick the fop has not reached when ctx ends is failed, and
		// blamed, as a brick lost mid-fop.
		if !locked[i] || ctx.Err() != nil {
			failed[i] = true
			continue
		}
		if err := t.op(i, b, abs[i], gfids[i]); err != nil {
			failed[i] = true
			continue
		}
		ok++
	}
	quorate := s.QuorumCount == 0 || ok >= s.QuorumCount
	anyFailed := count(failed) > 0
	if ok > 0 && quorate && anyFailed && t.mark != nil {
		if err := t.mark(failed); err != nil {
			return failed, err
		}
	}
	lockedFailed := make([]bool, n)
	for i := range failed {
		lockedFailed[i] = locked[i] && failed[i]
	}
	if !quorate {
		// afr_handle_quorum: the fop fails; every brick counts as failed,
		// so the post-op blames none and the dirty mark stays.
		copy(lockedFailed, locked)
	}
	post := afr.PlanPostOp(t.kind, pre, lockedFailed)
	if !post.Skip {
		for i := range s.Bricks {
			if !post.On[i] {
				continue
			}
			err := s.postOp(i, abs[i], t.path, gfids[i], post)
			if err == nil && t.postOp != nil {
				err = t.postOp(i, gfids[i], anyFailed)
			}
			if err != nil {
				return failed, fmt.Errorf("post-op on %s: %w", s.Bricks[i], err)
			}
		}
	}
	switch {
	case !quorate:
		return failed, ErrNoQuorum
	case ok == 0:
		return failed, errors.New("the fop failed on every brick")
	}
	return failed, ctx.Err()
}

// addDirty adds delta to the copy's dirty counter and indexes it in
// indices/dirty while it is not zero (index_xattrop on the dirty key).
func (s *Set) addDirty(i int, abs, p string, g afr.GFID, delta afr.Changelog) error {
	cur, err := s.Bricks[i].AddChangelog(abs, p, brick.KeyDirty, delta)
	if err != nil {
		return err
	}
	if cur.IsZero() {
		return indexed(s.Indexes[i].Remove(index.Dirty, g))
	}
	return indexed(s.Indexes[i].Add(index.Dirty, g))
}

// indexed is the outcome of a heal index update for the fop: a missing
// index directory (a brick whose .glusterfs/indices was damaged) fails
// nothing, as GlusterFS's index xlator logs a failed index_add and lets
// the xattrop stand. The counters, which heal and fsck read too, are what
// must be written; fsck reports and remakes the missing directory.
func indexed(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// postOp writes the post-op on brick i: the pending counters of the
// bricks that failed, the dirty mark taken back, and the xattrop index
// entry while any pending counter is set.
func (s *Set) postOp(i int, abs, p string, g afr.GFID, post afr.PostOp) error {
	b := s.Bricks[i]
	pending := false
	for j, delta := range post.Pending {
		if delta.IsZero() {
			continue
		}
		cur, err := b.AddChangelog(abs, p, s.Keys[j], delta)
		if err != nil {
			return err
		}
		pending = pending || !cur.IsZero()
	}
	if pending {
		if err := indexed(s.Indexes[i].Add(index.Xattrop, g)); err != nil {
			return err
		}
	}
	if post.Dirty.IsZero() {
		return nil
	}
	return s.addDirty(i, abs, p, g, post.Dirty)
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func notUp(up []bool) []bool {
	out := make([]bool, len(up))
	for i, u := range up {
		out[i] = !u
	}
	return out
}
