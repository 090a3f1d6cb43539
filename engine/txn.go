// Package engine runs fops on the bricks of a replica set as AFR's write
// transaction does: pre-op, the fop on every brick that is up, post-op,
// with the changelog counters and heal index entries GlusterFS's AFR and
// index xlators leave. What to write is decided by afr (PlanPreOp,
// PlanPostOp); this package applies it to the bricks.
//
// It is the core the FUSE mount (package mount) will serve, and what the
// fixtures (and so the tests and the demo) write an afrkit volume
// through. Each transaction takes AFR's inodelk or entrylk (package lock)
// on every brick it writes, in brick order, before its pre-op and
// releases them after its post-op, so heal, which takes the same locks,
// never changes an inode under a transaction.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
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
	// OnError, when set, is told the error of each brick the fop fails
	// on (a mount takes a failing disk down by it). It is called from
	// the goroutine running the transaction, never concurrently.
	OnError func(i int, err error)
	// Locks[i] is brick i's lock table: a transaction locks what it
	// changes there before its pre-op (AFR's inodelk and entrylk). A nil
	// Locks, or a nil entry, takes no lock on that brick: for a volume
	// no other process writes.
	Locks []*lock.Table
	// Arbiter is set for replica 3 arbiter 1: the third brick is the
	// arbiter, which holds names and metadata but no data. A data fop
	// changes nothing there (GlusterFS's arbiter translator answers
	// writes, truncates and allocations without passing them down), and
	// a fop that would leave it the only good copy fails with ENOTCONN
	// (afr.ArbiterVetoes).
	Arbiter bool
	// Parallel runs each step of a transaction (pre-op, fop, post-op) on
	// every brick at once, one goroutine per brick, instead of one brick
	// after the other: a fop's callbacks must then be safe to call
	// concurrently for different bricks (each touches only its own).
	Parallel bool
}

// ErrNoQuorum is returned, with nothing written, when fewer bricks than
// the quorum are up, or when the fop succeeded on fewer than the quorum
// and no brick failed it with an error of its own (the pre-op's dirty
// mark then stays, as GlusterFS leaves it). GlusterFS fails such a fop
// with EROFS (afr_quorum_errno, without cluster.quorum-reads).
var ErrNoQuorum = fmt.Errorf("quorum not met: %w", syscall.EROFS)

// ErrArbiterOnlySource is a fop refused, with nothing written, because the
// arbiter would be left the only good copy (afr_txn_arbitrate_fop): its
// errno is GlusterFS's, ENOTCONN.
var ErrArbiterOnlySource = fmt.Errorf("the arbiter would be the only good copy, and it holds no data: %w", syscall.ENOTCONN)

// ErrNoDataBrick is a data fop that reached no data brick of an arbiter
// volume (the arbiter alone took it, storing nothing): it fails with EIO,
// as AFR fails a data transaction with no data brick left to write
// (afr_transaction_fop).
var ErrNoDataBrick = fmt.Errorf("no data brick took the write (the arbiter holds no data): %w", syscall.EIO)

// InodeOp runs op on the copy of volume path p on every brick that is up,
// as one transaction of kind (afr.Data or afr.Metadata): the pre-op marks
// the bricks dirty where AFR does, op changes each copy, and the post-op
// blames every brick that failed or was down on every brick that
// succeeded, takes the dirty mark back, and keeps the heal index as
// GlusterFS's index xlator keeps it.
//
// op is called once per up brick, one brick after the other (with
// Parallel, all at once), with the copy's absolute path; its error marks
// that brick failed for this fop. InodeOp returns which bricks failed (down ones
// included), and an error when the fop succeeded on none (the first
// brick's error, so errors.Is sees its errno), or on fewer than the
// quorum, or a changelog could not be written.
func (s *Set) InodeOp(ctx context.Context, kind afr.Kind, p string, op func(i int, b *brick.Brick, abs string) error) ([]bool, error) {
	return s.InodeOpOn(ctx, kind, Inode{Path: p}, op)
}

// InodeOpOn is InodeOp on the inode in: by gfid, it is found through its
// handle, wherever renames took it; op is given the handle's path.
func (s *Set) InodeOpOn(ctx context.Context, kind afr.Kind, in Inode, op func(i int, b *brick.Brick, abs string) error) ([]bool, error) {
	return s.run(ctx, txn{kind: kind, inodes: []Inode{in},
		op: func(i int, b *brick.Brick, at []inodeAt) error { return op(i, b, at[0].abs) }})
}

// Inode names the inode a transaction locks and changelogs: by its volume
// path, or, when GFID is set, by its gfid handle, which stays put while
// the file is renamed (Path then only names it in errors). Directories'
// handles are symlinks, so a directory is named by its path.
type Inode struct {
	Path string
	GFID afr.GFID
}

// inodeAt is one locked inode on one brick.
type inodeAt struct {
	path, abs string
	gfid      afr.GFID
}

// txn is one transaction for run: the inodes it locks and changelogs (a
// file for inode fops, the parent directory for entry fops, both parents
// for a rename), the fop, and the entry fops' extra steps.
type txn struct {
	kind   afr.Kind
	inodes []Inode
	// op is the fop on brick i, given the locked inodes there.
	op func(i int, b *brick.Brick, at []inodeAt) error
	// keys are the locks the transaction takes on a brick, given its
	// inodes there; nil takes the kind's own on each inode (kindKeys).
	keys func(at []inodeAt) []lock.Key
	// preOp, when set, runs after the pre-op's dirty mark on each locked
	// brick; mark after the fop, when it succeeded on a quorum but not
	// everywhere; postOp after the post-op on each brick that succeeded,
	// told whether some brick failed.
	preOp  func(i int, at []inodeAt) error
	mark   func(failed []bool) error
	postOp func(i int, at []inodeAt, anyFailed bool) error
}

// run is the transaction every fop shares: lock what can be found,
// pre-op, the fop on each locked brick in turn, quorum, post-op.
func (s *Set) run(ctx context.Context, t txn) ([]bool, error) {
	x, err := s.begin(ctx, t)
	if err != nil {
		x.release()
		return x.failedOrDown(), err
	}
	x.apply(ctx, t.op)
	return x.finish(ctx)
}

// kindKeys are the locks an inode transaction of kind takes on each of
// its inodes, as AFR's: the whole file for data (a write's range would
// do, but the eager lock GlusterFS uses by default takes it all), the
// metadata range for metadata.
func kindKeys(kind afr.Kind) func(at []inodeAt) []lock.Key {
	return func(at []inodeAt) []lock.Key {
		keys := make([]lock.Key, len(at))
		for k, in := range at {
			if kind == afr.Metadata {
				keys[k] = lock.Metadata(in.gfid)
			} else {
				keys[k] = lock.Whole(lock.Data, in.gfid)
			}
		}
		return keys
	}
}

// session is a transaction under way: begun (locked, pre-op written),
// its fop applied once or, for a data session, many times, then
// finished (post-op).
type session struct {
	s      *Set
	t      txn
	at     [][]inodeAt // per brick, per inode
	locked []bool
	failed []bool
	errs   []error
	pre    afr.PreOp
	// owners[i] holds the transaction's locks on brick i (nil: none).
	owners []*lock.Owner
	keys   [][]lock.Key
}

// failedOrDown is which bricks a transaction that never ran leaves out.
func (x *session) failedOrDown() []bool {
	if x == nil || x.failed == nil {
		return nil
	}
	return x.failed
}

// begin finds the transaction's inodes on every brick that is up, locks
// them there, brick after brick, and writes the pre-op. A brick where an
// inode cannot be found or locked takes no part and is blamed, as a
// brick whose lookup failed. When ctx ends while begin waits for a lock,
// it releases what it took and fails with nothing written.
func (s *Set) begin(ctx context.Context, t txn) (*session, error) {
	n := len(s.Bricks)
	x := &session{s: s, t: t, at: make([][]inodeAt, n), locked: make([]bool, n), failed: make([]bool, n), errs: make([]error, n),
		owners: make([]*lock.Owner, n), keys: make([][]lock.Key, n)}
	if s.QuorumCount > 0 && count(s.Up) < s.QuorumCount {
		copy(x.failed, notUp(s.Up))
		return x, ErrNoQuorum
	}
	keysOf := t.keys
	if keysOf == nil {
		keysOf = kindKeys(t.kind)
	}
	for i, b := range s.Bricks {
		if !s.Up[i] {
			x.failed[i] = true
			continue
		}
		at, err := s.find(b, t.inodes)
		if err != nil {
			x.fail(i, err)
			continue
		}
		if i < len(s.Locks) && s.Locks[i] != nil {
			o, keys := s.Locks[i].Owner(), keysOf(at)
			if err := o.Lock(ctx, keys...); err != nil {
				if ctx.Err() != nil {
					x.release()
					return x, fmt.Errorf("%s: %w", b, err)
				}
				x.fail(i, err)
				continue
			}
			x.owners[i], x.keys[i] = o, keys
		}
		x.at[i], x.locked[i] = at, true
	}
	x.pre = afr.PlanPreOp(t.kind, x.locked, s.Optimistic)
	if !x.pre.Dirtied() {
		return x, nil
	}
	errs := s.each(func(i int) bool { return x.locked[i] }, func(i int) error {
		for _, in := range x.at[i] {
			if err := s.addDirty(i, in, x.pre.Dirty); err != nil {
				return err
			}
		}
		if t.preOp != nil {
			return t.preOp(i, x.at[i])
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			// As afr_changelog_pre_op: a brick whose pre-op failed takes
			// no further part and is blamed; the fop goes on where the
			// pre-op stands, if that is enough.
			x.fail(i, fmt.Errorf("pre-op: %w", err))
		}
	}
	vetoed := x.succeeded() > 0 && x.arbiterVetoes()
	if vetoed {
		x.refuseAll(ErrArbiterOnlySource)
	}
	if x.succeeded() == 0 || !x.quorate() {
		_, err := x.finish(context.Background())
		if vetoed {
			err = ErrArbiterOnlySource // not an earlier brick's own error
		}
		return x, err
	}
	return x, nil
}

// refuseAll fails the transaction on every brick still in it, with err:
// not OnError, since no brick failed.
func (x *session) refuseAll(err error) {
	for i := range x.locked {
		if x.locked[i] && !x.failed[i] {
			x.failed[i], x.errs[i] = true, err
		}
	}
}

// arbiterVetoes reads, once the pre-op is written, every locked brick's
// counters of the transaction's kind on each of its inodes (both parents
// of a rename), as AFR's pre-op xattrop returns them, and asks
// afr.ArbiterVetoes: a blame on any of them counts. Without a pre-op
// (optimistic change-log, every brick up) nothing was read and nothing
// is vetoed, as in GlusterFS.
func (x *session) arbiterVetoes() bool {
	s := x.s
	if s.arbiter() < 0 || !x.pre.Dirtied() {
		return false
	}
	var rows [][]afr.Changelog
	for i := range s.Bricks {
		if !x.locked[i] || x.failed[i] {
			continue
		}
		for _, in := range x.at[i] {
			row := make([]afr.Changelog, len(s.Keys))
			for j, key := range s.Keys {
				c, err := s.Bricks[i].ReadChangelog(in.abs, in.path, key)
				if err != nil {
					x.fail(i, fmt.Errorf("pre-op: %w", err))
					break
				}
				row[j] = c
			}
			if x.failed[i] {
				break
			}
			rows = append(rows, row)
		}
	}
	return afr.ArbiterVetoes(x.t.kind, rows, x.failed, s.arbiter())
}

// arbiter is the arbiter's position in the set (AFR's ARBITER_BRICK_INDEX,
// the third brick), or -1.
func (s *Set) arbiter() int {
	if s.Arbiter && len(s.Bricks) == 3 {
		return 2
	}
	return -1
}

// release lets go of the transaction's locks.
func (x *session) release() {
	for i, o := range x.owners {
		if o != nil {
			o.Release()
			x.owners[i] = nil
		}
	}
}

// contended reports whether another owner waits for one of the
// transaction's locks.
func (x *session) contended() bool {
	for i, o := range x.owners {
		for _, k := range x.keys[i] {
			if o != nil && o.Contended(k) {
				return true
			}
		}
	}
	return false
}

// find resolves the inodes on brick b.
func (s *Set) find(b *brick.Brick, inodes []Inode) ([]inodeAt, error) {
	at := make([]inodeAt, len(inodes))
	for k, in := range inodes {
		var abs string
		var err error
		if in.GFID.IsZero() {
			abs, err = b.Abs(in.Path)
		} else {
			abs = b.HandlePath(in.GFID)
		}
		if err != nil {
			return nil, err
		}
		g, err := b.GFIDAt(abs)
		if err != nil {
			return nil, err
		}
		if !in.GFID.IsZero() && g != in.GFID {
			// The handle names another inode now: the file is gone, as
			// GlusterFS answers a stale handle.
			return nil, fmt.Errorf("%s: handle %s holds gfid %s: %w", in.Path, in.GFID, g, syscall.ESTALE)
		}
		at[k] = inodeAt{path: in.Path, abs: abs, gfid: g}
	}
	return at, nil
}

// apply runs op on every locked brick that has not failed yet, in turn.
// A brick the fop has not reached when ctx ends is failed, as a brick
// lost mid-fop. It returns how many bricks op succeeded on.
func (x *session) apply(ctx context.Context, op func(i int, b *brick.Brick, at []inodeAt) error) int {
	errs := x.s.each(func(i int) bool { return x.locked[i] && !x.failed[i] }, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if x.t.kind == afr.Data && i == x.s.arbiter() {
			return nil // the arbiter holds no data: the fop succeeds there unapplied
		}
		return op(i, x.s.Bricks[i], x.at[i])
	})
	ok, data := 0, 0
	for i, err := range errs {
		switch {
		case !x.locked[i] || x.failed[i]:
		case err != nil:
			x.fail(i, err)
		default:
			ok++
			if i != x.s.arbiter() {
				data++
			}
		}
	}
	if x.t.kind == afr.Data && x.s.arbiter() >= 0 && ok > 0 && data == 0 {
		// The arbiter alone took it, storing nothing.
		x.refuseAll(ErrNoDataBrick)
		return 0
	}
	return ok
}

// each calls fn for every brick on is true for: one after the other, or
// with Parallel all at once, one goroutine per brick. It returns each
// brick's error.
func (s *Set) each(on func(i int) bool, fn func(i int) error) []error {
	errs := make([]error, len(s.Bricks))
	if !s.Parallel {
		for i := range s.Bricks {
			if on(i) {
				errs[i] = fn(i)
			}
		}
		return errs
	}
	var wg sync.WaitGroup
	for i := range s.Bricks {
		if !on(i) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

// fail records that the fop failed on brick i.
func (x *session) fail(i int, err error) {
	x.failed[i], x.errs[i] = true, err
	if x.s.OnError != nil {
		x.s.OnError(i, err)
	}
}

// succeeded counts the locked bricks that have not failed.
func (x *session) succeeded() int {
	ok := 0
	for i := range x.locked {
		if x.locked[i] && !x.failed[i] {
			ok++
		}
	}
	return ok
}

// quorate reports whether the fop stands on enough bricks.
func (x *session) quorate() bool {
	return x.s.QuorumCount == 0 || x.succeeded() >= x.s.QuorumCount
}

// finish writes the post-op: the mark hook where the fop succeeded on a
// quorum but not everywhere, then on each brick that succeeded the blame
// of every brick that failed or was down and the dirty mark taken back.
func (x *session) finish(ctx context.Context) ([]bool, error) {
	defer x.release()
	s, t := x.s, x.t
	ok, quorate := x.succeeded(), x.quorate()
	anyFailed := count(x.failed) > 0
	if ok > 0 && quorate && anyFailed && t.mark != nil {
		if err := t.mark(x.failed); err != nil {
			return x.failed, err
		}
	}
	lockedFailed := make([]bool, len(x.failed))
	for i := range x.failed {
		lockedFailed[i] = x.locked[i] && x.failed[i]
	}
	if !quorate {
		// afr_handle_quorum: the fop fails; every brick counts as failed,
		// so the post-op blames none and the dirty mark stays.
		copy(lockedFailed, x.locked)
	}
	post := afr.PlanPostOp(t.kind, x.pre, lockedFailed)
	if !post.Skip {
		errs := s.each(func(i int) bool { return post.On[i] }, func(i int) error {
			for _, in := range x.at[i] {
				if err := s.postOp(i, in, post); err != nil {
					return err
				}
			}
			if t.postOp != nil {
				return t.postOp(i, x.at[i], anyFailed)
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				return x.failed, fmt.Errorf("post-op on %s: %w", s.Bricks[i], err)
			}
		}
	}
	if !quorate || ok == 0 {
		// afr_handle_quorum: the fop's own error where a brick failed it
		// (afr_final_errno), the quorum's otherwise.
		return x.failed, x.firstError()
	}
	return x.failed, ctx.Err()
}

// firstError is the error of a fop that did not stand: the first failed
// brick's, which errors.Is can read an errno from, or ErrNoQuorum when no
// brick failed it (too few were up).
func (x *session) firstError() error {
	// A refusal for the arbiter's sake is the fop's own error, whatever
	// a brick failed with before.
	for _, err := range x.errs {
		if errors.Is(err, ErrArbiterOnlySource) || errors.Is(err, ErrNoDataBrick) {
			return err
		}
	}
	for i, err := range x.errs {
		if err != nil {
			return fmt.Errorf("on every brick (%s: %w)", x.s.Bricks[i], err)
		}
	}
	return ErrNoQuorum
}

// addDirty adds delta to the copy's dirty counter and indexes it in
// indices/dirty while it is not zero (index_xattrop on the dirty key).
func (s *Set) addDirty(i int, in inodeAt, delta afr.Changelog) error {
	cur, err := s.Bricks[i].AddChangelog(in.abs, in.path, brick.KeyDirty, delta)
	if err != nil {
		return err
	}
	if cur.IsZero() {
		return indexed(s.Indexes[i].Remove(index.Dirty, in.gfid))
	}
	return indexed(s.Indexes[i].Add(index.Dirty, in.gfid))
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
func (s *Set) postOp(i int, in inodeAt, post afr.PostOp) error {
	b := s.Bricks[i]
	pending := false
	for j, delta := range post.Pending {
		if delta.IsZero() {
			continue
		}
		cur, err := b.AddChangelog(in.abs, in.path, s.Keys[j], delta)
		if err != nil {
			return err
		}
		pending = pending || !cur.IsZero()
	}
	if pending {
		if err := indexed(s.Indexes[i].Add(index.Xattrop, in.gfid)); err != nil {
			return err
		}
	}
	if post.Dirty.IsZero() {
		return nil
	}
	return s.addDirty(i, in, post.Dirty)
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
