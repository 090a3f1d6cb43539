package engine

import (
	"context"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// DataSession is a data transaction held open across many writes to one
// file: GlusterFS's eager lock with delayed post-op. Its pre-op marks the
// file dirty once, each Write changes the copies, and End writes one
// post-op for all of them: a stream of writes costs one pre-op and one
// post-op, not a pair per write. Until End, the dirty mark says the
// copies may differ, so a crash leaves the file for heal to judge.
//
// A DataSession is not safe for concurrent use: its owner (the mount's
// open file) serializes Write and End.
type DataSession struct {
	x *session
}

// BeginData locks the regular file f (by gfid, so a rename does not
// disturb it) on every brick that is up and writes the data pre-op. It
// waits for another owner's lock on f until ctx ends.
func (s *Set) BeginData(ctx context.Context, f Inode) (*DataSession, error) {
	x, err := s.begin(ctx, txn{kind: afr.Data, inodes: []Inode{f}})
	if err != nil {
		x.release()
		return nil, err
	}
	return &DataSession{x: x}, nil
}

// Contended reports whether another lock owner (heal, another process,
// a fop of this one) waits for the session's lock: its holder should End
// it soon, as AFR releases an eager lock when told of a conflict.
func (d *DataSession) Contended() bool { return d.x.contended() }

// Write runs op on every brick the session still runs on (locked, not
// failed), in turn (with Set.Parallel, at once). op's error fails that brick for the rest of the
// session; the post-op will blame it. Write fails, with the first failed
// brick's error (or ErrNoQuorum), when it stands on no brick or on fewer
// than the quorum.
func (d *DataSession) Write(ctx context.Context, op func(i int, b *brick.Brick) error) error {
	ok := d.x.apply(ctx, func(i int, b *brick.Brick, _ []inodeAt) error { return op(i, b) })
	if ok == 0 || !d.x.quorate() {
		return d.x.firstError()
	}
	return nil
}

// Failed reports which bricks the session does not (or no longer) run on.
func (d *DataSession) Failed() []bool { return append([]bool(nil), d.x.failed...) }

// Locked reports which bricks the session began on.
func (d *DataSession) Locked() []bool { return append([]bool(nil), d.x.locked...) }

// End writes the post-op: on every brick the writes reached, the blame
// of every brick that failed or was down, and the dirty mark taken back.
func (d *DataSession) End(ctx context.Context) ([]bool, error) {
	return d.x.finish(ctx)
}
