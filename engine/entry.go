package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// Create makes the entry e (a file with content, a directory or a
// symlink) on every brick that is up, as one entry transaction on its
// parent directory (entryTxn): brick.Create makes the entry as
// GlusterFS's posix does, and the new entry is marked against the bricks
// that did not get it (afr.NewEntryMark, for create, mknod and mkdir
// only). A zero e.GFID gets a new gfid, the same on every brick; it is
// returned.
//
// Like InodeOp it returns which bricks failed, and an error when the
// create succeeded on none or on fewer than the quorum.
func (s *Set) Create(ctx context.Context, e brick.NewEntry, content []byte) (afr.GFID, []bool, error) {
	if e.GFID.IsZero() {
		e.GFID = brick.NewGFID()
	}
	create := func(_ int, b *brick.Brick, pgfid afr.GFID) error {
		ee := e
		ee.Parent = pgfid
		if e.Type == afr.TypeRegular {
			ee.Content = bytes.NewReader(content)
		}
		return b.Create(ee)
	}
	var mark func([]bool) error
	if afr.MarksNewEntry(e.Type, false) {
		mark = func(failed []bool) error { return s.markNewEntry(e, failed) }
	}
	failed, err := s.entryTxn(ctx, e.Path, create, mark)
	return e.GFID, failed, err
}

// Remove unlinks the name p, or removes the empty directory p, on every
// brick that is up, as one entry transaction on its parent, as unlink and
// rmdir do: the name goes with its gfid2path record, and its handle goes
// when no other name links the inode (posix_unlink, posix_rmdir).
func (s *Set) Remove(ctx context.Context, p string) ([]bool, error) {
	if p == "/" {
		return nil, errors.New("the volume's root cannot be removed")
	}
	_, name := brick.SplitPath(p)
	remove := func(_ int, b *brick.Brick, pgfid afr.GFID) error {
		abs, err := b.Abs(p)
		if err != nil {
			return err
		}
		g, err := b.GFIDAt(abs)
		if err != nil {
			return err
		}
		if err := b.Remove(abs); err != nil {
			return err
		}
		h := b.HandlePath(g)
		if exists, _ := b.Exists(h); exists {
			var st syscall.Stat_t
			if err := b.Lstat(h, &st); err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG {
				// The inode lives on under its other names: it forgets
				// this one.
				if err := b.RemoveGfid2path(h, pgfid, name); err != nil {
					return err
				}
			}
		}
		return b.RemoveHandle(g, 0)
	}
	return s.entryTxn(ctx, p, remove, nil)
}

// entryTxn runs op, which makes or removes the name p, on every brick that
// is up as one entry transaction on p's parent: the pre-op marks the
// parent dirty where AFR does and, under granular entry heal, names the
// entry in the parent's entry-changes index; op runs once per locked
// brick, in turn, never concurrently, with the parent's gfid there; mark,
// when not nil, is called when op succeeded on a quorum but not on every
// brick, with which failed; and the post-op blames the bricks that failed
// on the parent, and keeps the entry-changes name while a brick misses
// the change (ENTRY_IN) or drops it once none does (ENTRY_OUT).
func (s *Set) entryTxn(ctx context.Context, p string, op func(i int, b *brick.Brick, pgfid afr.GFID) error, mark func(failed []bool) error) ([]bool, error) {
	parent, name := brick.SplitPath(p)
	return s.run(ctx, txn{kind: afr.Entry, path: parent, mark: mark,
		op: func(i int, b *brick.Brick, _ string, pgfid afr.GFID) error { return op(i, b, pgfid) },
		// The pre-op's xattrop names the entry (GF_XATTROP_ENTRY_IN_KEY),
		// and the index xlator records it.
		preOp: func(i int, pgfid afr.GFID) error { return s.entryIn(i, pgfid, name) },
		// ENTRY_IN while a brick missed the change, ENTRY_OUT once every
		// brick has it (afr_changelog_populate_xdata).
		postOp: func(i int, pgfid afr.GFID, anyFailed bool) error {
			if anyFailed {
				return s.entryIn(i, pgfid, name)
			}
			if s.Granular {
				return indexed(s.Indexes[i].RemoveEntryChange(pgfid, name))
			}
			return nil
		}})
}

// entryIn records name in the parent's entry-changes index on brick i
// under granular entry heal.
func (s *Set) entryIn(i int, pgfid afr.GFID, name string) error {
	if !s.Granular {
		return nil
	}
	return indexed(s.Indexes[i].AddEntryChange(pgfid, name))
}

// markNewEntry blames, on every brick that made the new entry, the bricks
// that did not (afr_mark_new_entry_changelog), and indexes it.
func (s *Set) markNewEntry(e brick.NewEntry, failed []bool) error {
	mark := afr.NewEntryMark(e.Type, s.Granular)
	for i, b := range s.Bricks {
		if failed[i] {
			continue
		}
		abs, err := b.Abs(e.Path)
		if err != nil {
			return err
		}
		for j := range s.Bricks {
			if !failed[j] {
				continue
			}
			if _, err := b.AddChangelog(abs, e.Path, s.Keys[j], mark); err != nil {
				return fmt.Errorf("mark the new entry on %s: %w", b, err)
			}
		}
		if err := indexed(s.Indexes[i].Add(index.Xattrop, e.GFID)); err != nil {
			return err
		}
	}
	return nil
}
