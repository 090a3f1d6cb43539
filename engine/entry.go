package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// Create makes the entry e (a file with content, a directory or a
// symlink) on every brick that is up, as one entry transaction on its
// parent directory: the pre-op marks the parent dirty where AFR does (and,
// under granular entry heal, names the entry in the parent's
// entry-changes index), brick.Create makes the entry as GlusterFS's posix
// does, the new entry is marked against the bricks that did not get it
// (afr.NewEntryMark, for create, mknod and mkdir only), and the post-op
// blames those bricks on the parent. A zero e.GFID gets a new gfid, the
// same on every brick; it is returned.
//
// Like InodeOp it returns which bricks failed, and an error when the
// create succeeded on none or on fewer than the quorum.
func (s *Set) Create(ctx context.Context, e brick.NewEntry, content []byte) (afr.GFID, []bool, error) {
	if e.GFID.IsZero() {
		e.GFID = brick.NewGFID()
	}
	parent, name := brick.SplitPath(e.Path)
	n := len(s.Bricks)
	failed := make([]bool, n)
	if s.QuorumCount > 0 && count(s.Up) < s.QuorumCount {
		return e.GFID, notUp(s.Up), ErrNoQuorum
	}
	pabs := make([]string, n)
	pgfids := make([]afr.GFID, n)
	locked := make([]bool, n)
	for i, b := range s.Bricks {
		if !s.Up[i] {
			continue
		}
		a, err := b.Abs(parent)
		if err == nil {
			pgfids[i], err = b.GFIDAt(a)
		}
		if err != nil {
			continue // no parent to lock: blamed like a brick that is down
		}
		pabs[i], locked[i] = a, true
	}
	pre := afr.PlanPreOp(afr.Entry, locked, s.Optimistic)
	if pre.Dirtied() {
		for i := range s.Bricks {
			if !locked[i] {
				continue
			}
			if err := s.addDirty(i, pabs[i], parent, pgfids[i], pre.Dirty); err != nil {
				return e.GFID, nil, fmt.Errorf("pre-op on %s: %w", s.Bricks[i], err)
			}
			// The pre-op's xattrop names the entry (GF_XATTROP_ENTRY_IN_KEY),
			// and the index xlator records it.
			if err := s.entryIn(i, pgfids[i], name); err != nil {
				return e.GFID, nil, fmt.Errorf("pre-op on %s: %w", s.Bricks[i], err)
			}
		}
	}
	ok := 0
	for i, b := range s.Bricks {
		if !locked[i] || ctx.Err() != nil {
			failed[i] = true
			continue
		}
		ee := e
		ee.Parent = pgfids[i]
		if e.Type == afr.TypeRegular {
			ee.Content = bytes.NewReader(content)
		}
		if err := b.Create(ee); err != nil {
			failed[i] = true
			continue
		}
		ok++
	}
	quorate := s.QuorumCount == 0 || ok >= s.QuorumCount
	anyFailed := count(failed) > 0
	if ok > 0 && quorate && anyFailed && afr.MarksNewEntry(e.Type, false) {
		if err := s.markNewEntry(e, failed); err != nil {
			return e.GFID, failed, err
		}
	}
	lockedFailed := make([]bool, n)
	for i := range failed {
		lockedFailed[i] = locked[i] && failed[i]
	}
	if !quorate {
		copy(lockedFailed, locked)
	}
	post := afr.PlanPostOp(afr.Entry, pre, lockedFailed)
	if !post.Skip {
		for i := range s.Bricks {
			if !post.On[i] {
				continue
			}
			if err := s.postOp(i, pabs[i], parent, pgfids[i], post); err != nil {
				return e.GFID, failed, fmt.Errorf("post-op on %s: %w", s.Bricks[i], err)
			}
			// ENTRY_IN while a brick missed the name, ENTRY_OUT once every
			// brick has it (afr_changelog_populate_xdata).
			var err error
			if anyFailed {
				err = s.entryIn(i, pgfids[i], name)
			} else if s.Granular {
				err = indexed(s.Indexes[i].RemoveEntryChange(pgfids[i], name))
			}
			if err != nil {
				return e.GFID, failed, fmt.Errorf("post-op on %s: %w", s.Bricks[i], err)
			}
		}
	}
	switch {
	case !quorate:
		return e.GFID, failed, ErrNoQuorum
	case ok == 0:
		return e.GFID, failed, errors.New("the create failed on every brick")
	}
	return e.GFID, failed, ctx.Err()
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
