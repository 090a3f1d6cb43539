package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
)

// Create makes the entry e (a file with content, a directory or a
// symlink) on every brick that is up, as one entry transaction on its
// parent directory (entryTxn): brick.Create makes the entry as
// GlusterFS's posix does, and the new entry is marked against the bricks
// that did not get it (afr.NewEntryMark, for create, mknod and mkdir
// only). A zero e.GFID gets a new gfid, the same on every brick; it is
// returned. Without e.Times every copy records the same time, now.
//
// Like InodeOp it returns which bricks failed, and an error when the
// create succeeded on none or on fewer than the quorum.
func (s *Set) Create(ctx context.Context, e brick.NewEntry, content []byte) (afr.GFID, []bool, error) {
	g, failed, _, err := s.create(ctx, e, content, false)
	return g, failed, err
}

// CreateOpen is Create for a new empty regular file, which it returns open
// for reading and writing on each brick that made it (nil elsewhere): a
// FUSE create answers with the file open, and opening every copy again
// cost a walk and two opens per brick. On error nothing is left open.
func (s *Set) CreateOpen(ctx context.Context, e brick.NewEntry) (afr.GFID, []bool, []*os.File, error) {
	if e.Type != afr.TypeRegular {
		return afr.GFID{}, nil, nil, fmt.Errorf("create %s: only a regular file is made open", e.Path)
	}
	return s.create(ctx, e, nil, true)
}

// create is Create, and with open CreateOpen.
func (s *Set) create(ctx context.Context, e brick.NewEntry, content []byte, open bool) (afr.GFID, []bool, []*os.File, error) {
	if e.GFID.IsZero() {
		e.GFID = brick.NewGFID()
	}
	if e.Times == nil {
		// One time for every copy, as GlusterFS's ctime xlator stamps the
		// fop once on the client: copies that agree on mdata agree on
		// metadata, and a stat answers the same from any of them.
		now := time.Now()
		t := afr.TimespecOf(now)
		e.Times = &brick.Mdata{Ctime: t, Mtime: t, Atime: t}
	}
	// files[i] is written by brick i's call alone.
	files := make([]*os.File, len(s.Bricks))
	create := func(i int, b *brick.Brick, pgfid afr.GFID) error {
		ee := e
		ee.Parent = pgfid
		if open {
			f, err := b.CreateOpen(ee)
			files[i] = f
			return err
		}
		if e.Type == afr.TypeRegular && i != s.arbiter() {
			ee.Content = bytes.NewReader(content) // the arbiter's copy stays empty
		}
		return b.Create(ee)
	}
	var mark func([]bool) error
	if afr.MarksNewEntry(e.Type, false) {
		mark = func(failed []bool) error { return s.markNewEntry(e, failed) }
	}
	failed, err := s.entryTxn(ctx, e.Path, create, mark)
	if !open {
		return e.GFID, failed, nil, err
	}
	for i, f := range files {
		if f != nil && (err != nil || (i < len(failed) && failed[i])) {
			f.Close()
			files[i] = nil
		}
	}
	if err != nil {
		return e.GFID, failed, nil, err
	}
	return e.GFID, failed, files, nil
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
		return forgetName(b, g, pgfid, name)
	}
	return s.entryTxn(ctx, p, remove, nil)
}

// forgetName is what posix does once the name pgfid/name of inode g is
// gone: a file whose inode lives on under other names drops that name's
// gfid2path record; the handle goes with the last name.
func forgetName(b *brick.Brick, g, pgfid afr.GFID, name string) error {
	h := b.HandlePath(g)
	var st syscall.Stat_t
	if err := b.Lstat(h, &st); err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Nlink > 1 {
		if err := b.RemoveGfid2path(h, pgfid, name); err != nil {
			return err
		}
	}
	return b.RemoveHandle(g, 0)
}

// Link makes newPath a hard link of the file oldPath on every brick that
// is up, as one entry transaction on newPath's parent (posix_link: the
// name and its gfid2path record). Like symlink, link marks no new entry
// of its own: the parent's entry counter covers it.
func (s *Set) Link(ctx context.Context, oldPath, newPath string) ([]bool, error) {
	_, name := brick.SplitPath(newPath)
	link := func(_ int, b *brick.Brick, pgfid afr.GFID) error {
		oldAbs, newAbs, err := bothAbs(b, oldPath, newPath)
		if err != nil {
			return err
		}
		if err := b.Link(oldAbs, newAbs); err != nil {
			return err
		}
		return b.AddGfid2path(newAbs, pgfid, name)
	}
	return s.entryTxn(ctx, newPath, link, nil)
}

// bothAbs is where the volume paths a link or rename names are on b.
func bothAbs(b *brick.Brick, oldPath, newPath string) (oldAbs, newAbs string, err error) {
	if oldAbs, err = b.Abs(oldPath); err != nil {
		return "", "", err
	}
	if newAbs, err = b.Abs(newPath); err != nil {
		return "", "", err
	}
	return oldAbs, newAbs, nil
}

// Rename renames oldPath to newPath on every brick that is up, as one
// entry transaction on both parents (AFR's rename transaction): a name
// already at newPath is replaced, unless noReplace, and forgotten as
// unlink forgets it; a renamed directory's handle is pointed at its new
// name, a renamed file's gfid2path record follows it (posix_rename).
func (s *Set) Rename(ctx context.Context, oldPath, newPath string, noReplace bool) ([]bool, error) {
	if oldPath == "/" || newPath == "/" {
		return nil, fmt.Errorf("the volume's root cannot be renamed: %w", syscall.EBUSY)
	}
	oldDir, oldName := brick.SplitPath(oldPath)
	newDir, newName := brick.SplitPath(newPath)
	dirs, names := []string{oldDir}, [][]string{{oldName, newName}}
	if newDir != oldDir {
		dirs, names = []string{oldDir, newDir}, [][]string{{oldName}, {newName}}
	}
	rename := func(_ int, b *brick.Brick, at []inodeAt) error {
		oldPG, newPG := at[0].gfid, at[len(at)-1].gfid
		oldAbs, newAbs, err := bothAbs(b, oldPath, newPath)
		if err != nil {
			return err
		}
		g, err := b.GFIDAt(oldAbs)
		if err != nil {
			return err
		}
		var victim afr.GFID
		if exists, err := b.Exists(newAbs); err != nil {
			return err
		} else if exists {
			if victim, err = b.GFIDAt(newAbs); err != nil {
				return err
			}
		}
		if victim == g {
			// Two names of one inode: rename(2) does nothing.
			return nil
		}
		if err := b.Rename(oldAbs, newAbs, noReplace); err != nil {
			return err
		}
		if !victim.IsZero() {
			if err := forgetName(b, victim, newPG, newName); err != nil {
				return err
			}
		}
		var st syscall.Stat_t
		if err := b.Lstat(newAbs, &st); err != nil {
			return err
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			return b.RetargetDirHandle(g, newPG, newName)
		}
		h := b.HandlePath(g)
		if err := b.RemoveGfid2path(h, oldPG, oldName); err != nil {
			return err
		}
		return b.AddGfid2path(h, newPG, newName)
	}
	return s.run(ctx, s.namesTxn(dirs, names, nil, rename))
}

// entryTxn runs op, which makes or removes the name p, on every brick that
// is up as one entry transaction on p's parent: the pre-op marks the
// parent dirty where AFR does and, under granular entry heal, names the
// entry in the parent's entry-changes index; op runs once per locked
// brick, in turn (with Set.Parallel, at once), with the parent's gfid there; mark,
// when not nil, is called when op succeeded on a quorum but not on every
// brick, with which failed; and the post-op blames the bricks that failed
// on the parent, and keeps the entry-changes name while a brick misses
// the change (ENTRY_IN) or drops it once none does (ENTRY_OUT).
func (s *Set) entryTxn(ctx context.Context, p string, op func(i int, b *brick.Brick, pgfid afr.GFID) error, mark func(failed []bool) error) ([]bool, error) {
	parent, name := brick.SplitPath(p)
	return s.run(ctx, s.namesTxn([]string{parent}, [][]string{{name}}, mark,
		func(i int, b *brick.Brick, at []inodeAt) error { return op(i, b, at[0].gfid) }))
}

// namesTxn is the entry transaction on the parent directories dirs,
// changing the names names[k] in dirs[k] (a rename changes two names, in
// one directory or in each of two).
func (s *Set) namesTxn(dirs []string, names [][]string, mark func(failed []bool) error, op func(i int, b *brick.Brick, at []inodeAt) error) txn {
	inodes := make([]Inode, len(dirs))
	for k, d := range dirs {
		inodes[k] = Inode{Path: d}
	}
	each := func(i int, at []inodeAt, f func(i int, pgfid afr.GFID, name string) error) error {
		for k, in := range at {
			for _, name := range names[k] {
				if err := f(i, in.gfid, name); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// The parents' mdata records the change at one time on every copy,
	// as posix_set_parent_ctime does under the ctime feature.
	now := time.Now()
	t := afr.TimespecOf(now)
	changed := func(i int, b *brick.Brick, at []inodeAt) error {
		if err := op(i, b, at); err != nil {
			return err
		}
		for _, in := range at {
			if err := touchDir(b, in, t); err != nil {
				return err
			}
		}
		return nil
	}
	// The entrylk of each changed name in its parent, as AFR's entry
	// transactions take.
	keys := func(at []inodeAt) []lock.Key {
		var keys []lock.Key
		for k, in := range at {
			for _, name := range names[k] {
				keys = append(keys, lock.Name(lock.Data, in.gfid, name))
			}
		}
		return keys
	}
	return txn{kind: afr.Entry, inodes: inodes, mark: mark, op: changed, keys: keys,
		// The pre-op's xattrop names the entry (GF_XATTROP_ENTRY_IN_KEY),
		// and the index xlator records it.
		preOp: func(i int, at []inodeAt) error { return each(i, at, s.entryIn) },
		// ENTRY_IN while a brick missed the change, ENTRY_OUT once every
		// brick has it (afr_changelog_populate_xdata).
		postOp: func(i int, at []inodeAt, anyFailed bool) error {
			if anyFailed {
				return each(i, at, s.entryIn)
			}
			return each(i, at, s.entryOut)
		}}
}

// touchDir records in a directory's mdata (where it has one) that its
// entries changed at t: mtime and ctime.
func touchDir(b *brick.Brick, in inodeAt, t afr.Timespec) error {
	return b.UpdateMdata(in.abs, in.path, func(md *brick.Mdata) { md.Mtime, md.Ctime = t, t })
}

// entryIn records name in the parent's entry-changes index on brick i
// under granular entry heal.
func (s *Set) entryIn(i int, pgfid afr.GFID, name string) error {
	if !s.Granular {
		return nil
	}
	return indexed(s.Indexes[i].AddEntryChange(pgfid, name))
}

// entryOut drops name from the parent's entry-changes index on brick i
// under granular entry heal: every brick has the change.
func (s *Set) entryOut(i int, pgfid afr.GFID, name string) error {
	if !s.Granular {
		return nil
	}
	return indexed(s.Indexes[i].RemoveEntryChange(pgfid, name))
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
