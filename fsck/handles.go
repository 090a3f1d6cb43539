package fsck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
)

// isHexPair reports whether name is one level of the handle tree: two
// lowercase hex digits.
func isHexPair(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// handlePass says which entries of the handle tree a walk checks.
type handlePass int

const (
	// listHandles counts the entries that are not symlinks for the tally,
	// and checks the symlinks (directory handles, and handles of the
	// volume's symlinks), which the tally does not cover.
	listHandles handlePass = iota
	// checkFileHandles checks, one by one, the entries listHandles counted.
	checkFileHandles
)

// walkHandles walks the handles under .glusterfs/<xx>/<yy>/, looking for
// file handles whose only link is the handle (orphans, their bytes lost to
// the volume), directory handles that lead nowhere, and handles whose
// target carries another gfid. Each <xx> directory is a task of the worker
// pool; one <yy> directory of names is in memory per worker.
func (c *checker) walkHandles(ctx context.Context, bs *brickState, pass handlePass) error {
	top := bs.b.GlusterPath()
	l1, err := bs.b.ReadNames(top)
	if err != nil {
		return fmt.Errorf("fsck: %s: %w", bs.label, err)
	}
	var tasks []string
	for _, a := range l1 {
		if isHexPair(a) {
			tasks = append(tasks, a)
		}
	}
	return runPool(ctx, c.opts.Jobs, tasks, func(a string, _ func(string)) error {
		l2, err := bs.b.ReadNames(filepath.Join(top, a))
		if err != nil {
			return fmt.Errorf("fsck: %s: %w", bs.label, err)
		}
		for _, b := range l2 {
			if !isHexPair(b) {
				continue
			}
			dir := filepath.Join(top, a, b)
			entries, err := readDir(bs.b, dir)
			if err != nil {
				return fmt.Errorf("fsck: %s: %w", bs.label, err)
			}
			for _, e := range entries {
				g, err := brick.ParseGFID(e.Name())
				if err != nil || g == brick.RootGFID {
					continue // not a handle; the root handle is checked with the root
				}
				symlink := e.Type() == fs.ModeSymlink
				switch {
				case pass == checkFileHandles && !symlink:
					c.checkHandle(bs, g, filepath.Join(dir, e.Name()))
				case pass == listHandles:
					c.handles.Add(1)
					if symlink {
						c.checkHandle(bs, g, filepath.Join(dir, e.Name()))
					} else {
						bs.tally.handleEntries.Add(1)
					}
				}
			}
		}
		return nil
	})
}

// readDir lists a directory of the handle tree with each entry's type.
func readDir(b *brick.Brick, dir string) ([]fs.DirEntry, error) {
	f, err := b.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

func (c *checker) checkHandle(bs *brickState, g afr.GFID, h string) {
	rel := brick.HandleRel(g)
	var st syscall.Stat_t
	if err := bs.b.Lstat(h, &st); err != nil {
		return // gone since the directory was read
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFLNK && st.Nlink == 1 {
		// A symlink of the volume has a hard-link handle: two links.
		target, err := bs.b.Readlink(h)
		if err == nil {
			if _, _, perr := brick.ParseDirHandleTarget(target); perr == nil {
				c.checkDirHandle(bs, g, h, rel, target)
				return
			}
		}
		// A hard link to a symlink of the volume.
	}
	if st.Nlink == 1 {
		c.add(bs.on(Finding{Class: ClassOrphanHandle, Path: rel, GFID: g.String(), Size: st.Size,
			Detail: fmt.Sprintf("a %s handle with no name in the volume (link count 1, %d bytes)", brick.FileType(st.Mode), st.Size),
			Repair: "move it to quarantine",
			fix:    func(q *quarantine) error { return q.move(bs.b, h, Finding{Class: ClassOrphanHandle, GFID: g.String()}) }}))
		return
	}
	if own, err := bs.b.GFIDAt(h); err != nil || own != g {
		c.add(bs.on(Finding{Class: ClassHandleGFID, Path: rel, GFID: g.String(),
			Detail: fmt.Sprintf("the handle's file carries gfid %s, not its name's", gfidOrErr(own, err)),
			Manual: "the file's names in the volume are reported with it; give each its own gfid's handle"}))
	}
}

func (c *checker) checkDirHandle(bs *brickState, g afr.GFID, h, rel, target string) {
	// Resolved through the brick: a handle chain that passes through a
	// client's symlink leads to no directory of the volume.
	dir, err := bs.b.AbsOfGFID(g)
	if err != nil {
		why := "leads to no directory"
		if !errors.Is(err, brick.ErrDanglingHandle) && !errors.Is(err, brick.ErrNoHandle) && !errors.Is(err, fs.ErrNotExist) {
			why = err.Error()
		}
		c.add(bs.on(Finding{Class: ClassDanglingHandle, Path: rel, GFID: g.String(),
			Detail: fmt.Sprintf("directory handle -> %s %s", target, why), Repair: "move the symlink to quarantine",
			fix: func(q *quarantine) error {
				return q.move(bs.b, h, Finding{Class: ClassDanglingHandle, GFID: g.String()})
			}}))
		return
	}
	own, err := bs.b.GFIDAt(dir)
	if err != nil || own != g {
		c.add(bs.on(Finding{Class: ClassHandleGFID, Path: rel, GFID: g.String(),
			Detail: fmt.Sprintf("directory handle -> %s, a directory with gfid %s", target, gfidOrErr(own, err)),
			Repair: "move the symlink to quarantine; the directory's own handle is checked with the directory",
			fix:    func(q *quarantine) error { return q.move(bs.b, h, Finding{Class: ClassHandleGFID, GFID: g.String()}) }}))
	}
}

func gfidOrErr(g afr.GFID, err error) string {
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return g.String()
}

// checkIndex checks the brick's heal index: base files, entries for files
// that are gone or whose counters are all zero, and entry-changes of
// directories that are gone. The xattrop entries are only counted for the
// tally here; checkXattrop checks them one by one when the tally does not
// prove them.
func (c *checker) checkIndex(bs *brickState) error {
	if err := c.checkBases(bs, index.Xattrop); err != nil {
		return err
	}
	err := bs.ix.Walk(index.Xattrop, func(e index.Entry) error {
		c.indexed.Add(1)
		if e.Err != nil {
			c.notGFID(bs, index.Xattrop, e)
			return nil
		}
		bs.tally.xattrop.add(e.GFID)
		return nil
	})
	if err == nil {
		err = c.checkEntries(bs, index.Dirty, false)
	}
	if err != nil {
		return fmt.Errorf("fsck: %s: %w", bs.label, err)
	}
	seen := map[afr.GFID]bool{}
	return bs.ix.WalkEntryChanges(func(pg afr.GFID, name string, err error) error {
		if err != nil || seen[pg] {
			return nil
		}
		seen[pg] = true
		if _, err := bs.b.AbsOfGFID(pg); err != nil {
			c.add(bs.on(Finding{Class: ClassStaleEntryChanges, Path: filepath.Join(brick.GlusterDir, "indices", string(index.EntryChanges), pg.String()), GFID: pg.String(),
				Detail: "entry changes of a directory that no longer exists", Repair: "remove the directory's entry changes",
				locks: []lock.Key{lock.Dir(lock.Data, pg)},
				fix: func(q *quarantine) error {
					if _, err := bs.b.AbsOfGFID(pg); err == nil {
						return nil // the directory is back
					}
					q.before("entry-changes " + pg.String())
					return bs.ix.RemoveEntryChanges(pg)
				}}))
		}
		return nil
	})
}

// checkXattrop checks every xattrop entry one by one.
func (c *checker) checkXattrop(bs *brickState) error {
	if err := c.checkEntries(bs, index.Xattrop, true); err != nil {
		return fmt.Errorf("fsck: %s: %w", bs.label, err)
	}
	return nil
}

// checkEntries checks the entries of sub one by one: names that are not
// gfids, and gfids whose file is gone or has no counter set. listed says
// that a listing of sub has already counted the entries and reported the
// names that are not gfids.
func (c *checker) checkEntries(bs *brickState, sub index.Subdir, listed bool) error {
	return bs.ix.Walk(sub, func(e index.Entry) error {
		if !listed {
			c.indexed.Add(1)
		}
		if e.Err != nil {
			if !listed {
				c.notGFID(bs, sub, e)
			}
			return nil
		}
		rel := filepath.Join(brick.GlusterDir, "indices", string(sub), e.Name)
		if why := c.staleWhy(bs, e.GFID); why != "" {
			g := e.GFID
			c.add(bs.on(Finding{Class: ClassStaleIndex, Path: rel, GFID: g.String(), Detail: why, Repair: "remove the index entry",
				// The mount's fops on the file index it, under these.
				locks: inodeLocks(g),
				fix: func(q *quarantine) error {
					if c.staleWhy(bs, g) == "" {
						return nil // a fop since set a counter: it lists a heal now
					}
					q.before("unindex " + rel)
					return bs.ix.Remove(sub, g)
				}}))
		}
		return nil
	})
}

// notGFID reports an index entry whose name is not a gfid.
func (c *checker) notGFID(bs *brickState, sub index.Subdir, e index.Entry) {
	rel := filepath.Join(brick.GlusterDir, "indices", string(sub), e.Name)
	p := filepath.Join(bs.root, rel)
	c.add(bs.on(Finding{Class: ClassStaleIndex, Path: rel, Detail: "not a gfid", Repair: "remove the index entry",
		locks: []lock.Key{}, // no fop makes such a name: no lock to take
		fix:   func(q *quarantine) error { return removeIfThere(bs.b, p) }}))
}

// staleWhy says why an index entry for g is stale, or "" when it is not:
// the file is gone, or none of its counters is set.
func (c *checker) staleWhy(bs *brickState, g afr.GFID) string {
	const zero = "every counter of the file is zero: nothing to heal"
	if bs.pendingKeys != nil {
		// The cut-down read heal info makes: the handle and the counters.
		r, err := bs.b.CountersGFID(g, bs.pendingKeys)
		switch {
		case err != nil:
			return "" // a malformed counter is a finding of its entry
		case !r.Exists:
			return "the file is gone (no handle " + brick.HandleRel(g) + ")"
		case r.Dirty.IsZero() && !slices.ContainsFunc(r.Pending, func(c afr.Changelog) bool { return !c.IsZero() }):
			return zero
		}
		return ""
	}
	h := bs.b.HandlePath(g)
	if _, err := os.Lstat(h); err != nil {
		return "the file is gone (no handle " + brick.HandleRel(g) + ")"
	}
	abs, err := bs.b.AbsOfGFID(g)
	if err != nil {
		abs = h
	}
	xs, err := bs.b.RawXattrs(abs, brick.HandleRel(g))
	if err != nil {
		return ""
	}
	prefix := bs.b.Key(brick.KeyAFRPrefix)
	for k, v := range xs {
		if strings.HasPrefix(k, prefix) {
			if cl, err := brick.DecodeChangelog(v); err != nil || !cl.IsZero() {
				return ""
			}
		}
	}
	return zero
}

func removeIfThere(b *brick.Brick, p string) error {
	if err := b.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// checkBases reports base files of sub that hold no entry when there is
// more than one base. Several bases with entries are what GlusterFS's index
// makes when one base reaches the filesystem's link limit (EMLINK: 65,000
// on ext4) or a brick restarts with a new index id; a base that holds no
// entry beside others is a leftover, and several of them can stop the
// self-heal daemon (Red Hat solution 2694211).
func (c *checker) checkBases(bs *brickState, sub index.Subdir) error {
	bases, err := bs.ix.Bases(sub)
	if err != nil {
		return fmt.Errorf("fsck: %s: %w", bs.label, err)
	}
	if len(bases) < 2 {
		return nil
	}
	dir := filepath.Join(bs.root, brick.GlusterDir, "indices", string(sub))
	var empty []string
	for _, name := range bases {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, name), &st); err == nil && st.Nlink == 1 {
			empty = append(empty, name)
		}
	}
	if len(empty) == len(bases) {
		empty = empty[1:] // keep one base, even an empty one
	}
	if len(empty) == 0 {
		return nil
	}
	c.add(bs.on(Finding{Class: ClassIndexBase, Path: filepath.Join(brick.GlusterDir, "indices", string(sub)),
		Detail: fmt.Sprintf("%d base files, %d of them (%s) with no entry: leftovers, and several can stop the self-heal daemon", len(bases), len(empty), strings.Join(empty, ", ")),
		Repair: "move the bases with no entry to quarantine",
		fix: func(q *quarantine) error {
			for _, name := range empty {
				if err := q.move(bs.b, filepath.Join(dir, name), Finding{Class: ClassIndexBase}); err != nil {
					return err
				}
			}
			return nil
		}}))
	return nil
}
