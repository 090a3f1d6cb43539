package fsck

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
)

// checkCopies checks every brick's copy of the entry at p (name in the
// directory with gfid pgfid), then compares the copies. entryKnown says
// that the parent's counters already account for names that differ.
func (c *checker) checkCopies(s *setState, p string, pgfid afr.GFID, name string, copies []*copyInfo, entryKnown bool) {
	var noGFID []Finding
	var noGFIDCopies []*copyInfo
	for _, ci := range copies {
		if ci == nil || ci.bs.remote != nil { // its host's fsck checks it
			continue
		}
		if f := c.checkCopy(ci, p, pgfid, name); f != nil {
			noGFID, noGFIDCopies = append(noGFID, *f), append(noGFIDCopies, ci)
		}
	}
	if len(noGFID) > 0 {
		c.gfidFixes(s, p, pgfid, name, copies, noGFID, noGFIDCopies)
	}
	if len(copies) > 1 {
		c.compareCopies(s, p, copies, entryKnown)
	}
}

// gfidFixes gives the copies that lack a (well-formed) gfid the one the
// other copies of the set agree on, or one new gfid for all of them, with
// its handle and gfid2path.
func (c *checker) gfidFixes(s *setState, p string, pgfid afr.GFID, name string, copies []*copyInfo, findings []Finding, lacking []*copyInfo) {
	var have []afr.GFID
	for _, ci := range copies {
		if ci != nil && ci.gfidOK && !slices.Contains(have, ci.gfid) {
			have = append(have, ci.gfid)
		}
	}
	var g afr.GFID
	var why string
	switch {
	case len(have) > 1:
		why = "the other copies disagree on the gfid (a gfid mismatch, reported with them)"
	case s.bricks[0].keys == nil || len(s.bricks) < len(s.bricks[0].keys):
		why = "the other bricks of the replica set are not being checked: run fsck on the whole volume, which gives every copy the same gfid"
	case pgfid.IsZero():
		why = "its directory has no gfid yet: run the repair again once that one is made"
	case len(have) == 1:
		g = have[0]
	default:
		g = brick.NewGFID()
	}
	whose := "new, the same on every copy"
	if len(have) == 1 {
		whose = "the other copies'"
	}
	for i, f := range findings {
		ci := lacking[i]
		if !g.IsZero() && len(have) == 1 {
			if differs := differsFrom(ci, copies, g); differs != "" {
				// Given the gfid, this copy would be the one the others'
				// counters blame, or merely the smaller: a heal would then
				// overwrite a version nothing else holds without keeping
				// it. Heal full gives it the gfid after keeping it.
				f.Manual = differs + ": it was made or written on this brick behind the volume's back; 'afrkit heal VOL full' keeps it, then gives it the gfid"
				c.add(f)
				continue
			}
		}
		if g.IsZero() {
			f.Manual = why
			c.add(f)
			continue
		}
		f.Repair = fmt.Sprintf("set gfid %s (%s), with its handle and gfid2path", g, whose)
		// The brick may hold g's handle still, for the old copy of this
		// name that was replaced on the brick (an orphan-handle finding
		// too): it goes to quarantine first, or the gfid would be set and
		// its handle refused. A handle that other names hold is for a
		// person to sort out.
		orphan, held := heldHandle(ci, g)
		if held != "" {
			f.Repair, f.Manual = "", held
			c.add(f)
			continue
		}
		if orphan != "" {
			f.Repair += ", after moving the orphan that holds that handle now to quarantine"
		}
		f.fix = func(q *quarantine) error {
			b := ci.bs.b
			if orphan != "" {
				if exists, err := b.Exists(orphan); err != nil {
					return err
				} else if exists {
					if err := q.move(b, orphan, Finding{Class: ClassOrphanHandle, GFID: g.String()}); err != nil {
						return err
					}
				}
			}
			q.before("set gfid " + p)
			if err := b.SetRawXattr(ci.abs, p, b.Key(brick.KeyGFID), g[:]); err != nil {
				return err
			}
			q.before("handle " + p)
			if ci.typ() == afr.TypeDirectory {
				return b.SymlinkDirHandle(g, pgfid, name)
			}
			if err := b.LinkFileHandle(ci.abs, g); err != nil {
				return err
			}
			return b.AddGfid2path(ci.abs, pgfid, name)
		}
		c.add(f)
	}
}

// heldHandle looks at g's handle on ci's brick: orphan is its path when
// another inode with no name in the volume holds it (link count 1), and
// held says why the gfid cannot be given when an inode with names does.
func heldHandle(ci *copyInfo, g afr.GFID) (orphan, held string) {
	b := ci.bs.b
	h := b.HandlePath(g)
	var st syscall.Stat_t
	if err := b.Lstat(h, &st); err != nil {
		return "", ""
	}
	if same, err := b.SameFile(ci.abs, h); err == nil && same {
		return "", ""
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Nlink == 1 {
		return h, ""
	}
	return "", fmt.Sprintf("the handle of gfid %s on %s is another file, which has names in the volume: give one of them another gfid first", g, ci.bs.label)
}

// differsFrom says how the copy ci, which lacks a gfid, differs from the
// copies that have gfid g (type, size or content), or "" when it is one
// of them in all but its xattrs.
func differsFrom(ci *copyInfo, copies []*copyInfo, g afr.GFID) string {
	for _, o := range copies {
		if o == nil || !o.gfidOK || o.gfid != g {
			continue
		}
		switch {
		case o.typ() != ci.typ():
			return fmt.Sprintf("it is a %s, and %s's copy a %s", ci.typ(), o.bs.label, o.typ())
		case o.st.Mode&0o7777 != ci.st.Mode&0o7777 || o.st.Uid != ci.st.Uid || o.st.Gid != ci.st.Gid:
			return fmt.Sprintf("its mode or owner differs from %s's (%04o %d:%d, not %04o %d:%d)", o.bs.label,
				ci.st.Mode&0o7777, ci.st.Uid, ci.st.Gid, o.st.Mode&0o7777, o.st.Uid, o.st.Gid)
		case !sameUserXattrs(ci, o):
			return fmt.Sprintf("its xattrs differ from %s's", o.bs.label)
		case ci.typ() != afr.TypeRegular, ci.bs.arbiter != o.bs.arbiter:
			continue // an arbiter's copy holds no data to compare with a data brick's
		case o.st.Size != ci.st.Size:
			return fmt.Sprintf("its content differs from %s's (%d bytes, not %d)", o.bs.label, ci.st.Size, o.st.Size)
		}
		mine, err1 := ci.bs.b.HashFile(ci.abs)
		theirs, err2 := o.bs.b.HashFile(o.abs)
		if err1 != nil || err2 != nil {
			return fmt.Sprintf("its content cannot be compared with %s's (%v)", o.bs.label, errors.Join(err1, err2))
		}
		if mine != theirs {
			return fmt.Sprintf("its content differs from %s's", o.bs.label)
		}
	}
	return ""
}

// sameUserXattrs reports whether two copies hold the same xattrs that
// metadata heal copies (those that are not AFR's or posix's bookkeeping).
func sameUserXattrs(a, b *copyInfo) bool {
	pick := func(ci *copyInfo) map[string]string {
		m := map[string]string{}
		for k, v := range ci.xs {
			if !ci.bs.b.IsInternalKey(k) && !strings.HasPrefix(k, brick.NSTrusted+".") {
				m[k] = string(v)
			}
		}
		return m
	}
	return maps.Equal(pick(a), pick(b))
}

// checkCopy runs the checks of one copy on its own brick. A missing or
// malformed gfid is returned, not reported: its repair depends on the
// other copies.
func (c *checker) checkCopy(ci *copyInfo, p string, pgfid afr.GFID, name string) *Finding {
	bs, b := ci.bs, ci.bs.b
	c.checkChangelogs(ci, p)
	raw, ok := ci.xs[b.Key(brick.KeyGFID)]
	if !ok {
		if p == "/" {
			return nil // reported as root-gfid
		}
		f := bs.on(Finding{Class: ClassMissingGFID, Path: p, Detail: "no " + b.Key(brick.KeyGFID) + ": GlusterFS cannot look it up"})
		return &f
	}
	g, err := brick.DecodeGFID(raw)
	if err != nil || g.IsZero() {
		if p == "/" {
			return nil
		}
		f := bs.on(Finding{Class: ClassMalformedGFID, Path: p, Detail: fmt.Sprintf("%s is %x: not a 16-byte non-zero gfid", b.Key(brick.KeyGFID), raw)})
		return &f
	}
	ci.gfid, ci.gfidOK = g, true
	if bs.noTree {
		return nil
	}
	if p == "/" {
		// The root's handle is checked with the root.
		c.indexCopy(ci, p, g == brick.RootGFID && bs.rootHandleOK)
		return nil
	}
	proven := c.checkHandleOf(ci, p, pgfid, name)
	if ci.typ() != afr.TypeDirectory {
		c.checkGfid2path(ci, p, pgfid, name)
	}
	c.checkLinkfile(ci, p)
	c.indexCopy(ci, p, proven)
	return nil
}

// indexCopy checks the copy's index entry, or tallies it. A copy whose
// handle is proven and whose pending counters are set must have an
// xattrop entry: it is only tallied, and the tally checks all of them at
// once against the listing of the index (recheckIndex looks them up one
// by one when it does not match). The others are looked up here.
func (c *checker) indexCopy(ci *copyInfo, p string, proven bool) {
	var listed *afr.GFID
	if proven && ci.pendingSet() {
		listed = &ci.gfid
	} else if c.checkIndexed(ci, p) {
		listed = &ci.gfid
	}
	if proven {
		ci.bs.tally.prove(&ci.st, listed)
	}
}

// recheckIndex looks up, one by one, the xattrop entries that the first
// walk only tallied on the bricks whose tally did not match: the copies
// whose handle is proven and whose pending counters are set. It reports
// nothing else; everything else was checked by the first walk.
func (c *checker) recheckIndex(p string, pgfid afr.GFID, name string, copies []*copyInfo) {
	for _, ci := range copies {
		if ci == nil || ci.bs.remote != nil {
			continue
		}
		bs := ci.bs
		if g, err := brick.DecodeGFID(ci.xs[bs.b.Key(brick.KeyGFID)]); err == nil && !g.IsZero() {
			ci.gfid, ci.gfidOK = g, true
		}
		if !bs.recheckIndex || !ci.gfidOK {
			continue
		}
		ci.readCounters()
		if !ci.pendingSet() {
			continue
		}
		proven := ci.gfid == brick.RootGFID && bs.rootHandleOK
		if p != "/" {
			proven = bs.handleIsCopy(ci, pgfid, name)
		}
		if proven {
			c.checkIndexed(ci, p)
		}
	}
}

// checkChangelogs checks the length and owner of every AFR key, and fills
// in the copy's counters.
func (c *checker) checkChangelogs(ci *copyInfo, p string) {
	bs, b := ci.bs, ci.bs.b
	ci.readCounters()
	prefix, dirty := b.Key(brick.KeyAFRPrefix), b.Key(brick.KeyDirty)
	for key, v := range ci.xs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		cl, err := brick.DecodeChangelog(v)
		if err != nil {
			c.add(bs.on(Finding{Class: ClassChangelogLength, Path: p, GFID: gfidOf(ci),
				Detail: fmt.Sprintf("%s is %d bytes (%x); AFR changelogs are 12", key, len(v), v),
				Manual: "a corrupt counter cannot be read back: compare the copies (afrkit heal " + c.volName() + " explain " + p + "), then remove the key by hand (setfattr -x " + key + ")"}))
			continue
		}
		if key == dirty || bs.keys == nil {
			continue
		}
		j := slices.Index(bs.keys, key)
		if j < 0 {
			f := Finding{Class: ClassForeignChangelog, Path: p, GFID: gfidOf(ci),
				Detail: fmt.Sprintf("%s = %x names no brick of this replica set (its keys are %s)", key, v, strings.Join(bs.keys, ", "))}
			if cl.IsZero() {
				f.Repair = "remove the key"
				f.fix = func(q *quarantine) error {
					q.before("remove " + key + " " + p)
					return b.RemoveRawXattr(ci.abs, p, key)
				}
			} else {
				f.Manual = "the counters blame a brick that is not in the replica set: check for a removed or replaced brick before removing the key"
			}
			c.add(bs.on(f))
			continue
		}
		if j == bs.self && !cl.IsZero() {
			c.add(bs.on(Finding{Class: ClassSelfAccusation, Path: p, GFID: gfidOf(ci),
				Detail: fmt.Sprintf("%s blames its own brick: %v", key, cl),
				Manual: "AFR reads a brick that blames itself as a sink (replace-brick does this on purpose); run afrkit heal to let it heal from the others"}))
		}
	}
}

func gfidOf(ci *copyInfo) string {
	if ci.gfidOK {
		return ci.gfid.String()
	}
	return ""
}

// checkHandleOf checks that the copy's gfid handle is the copy: a hard
// link for a file, a symlink to the parent's handle and name for a
// directory. It reports whether the handle is right.
func (c *checker) checkHandleOf(ci *copyInfo, p string, pgfid afr.GFID, name string) bool {
	bs, g := ci.bs, ci.gfid
	if bs.handleIsCopy(ci, pgfid, name) {
		return true
	}
	h := bs.b.HandlePath(g)
	rel := brick.HandleRel(g)
	var hst syscall.Stat_t
	if err := syscall.Lstat(h, &hst); err != nil {
		f := Finding{Class: ClassMissingHandle, Path: p, GFID: g.String(),
			Detail: "no handle " + rel + ": GlusterFS cannot find the entry by gfid", Repair: "make the handle",
			// The mount makes and removes a handle with its name.
			locks: nameLocks(pgfid, name, g)}
		f.fix = guarded(ci, func(q *quarantine) error {
			if _, err := os.Lstat(h); err == nil {
				return nil // made since the check
			}
			q.before("handle " + p)
			if ci.typ() == afr.TypeDirectory {
				return bs.b.SymlinkDirHandle(g, pgfid, name)
			}
			return bs.b.LinkFileHandle(ci.abs, g)
		})
		if ci.typ() == afr.TypeDirectory && pgfid.IsZero() {
			f.Repair, f.fix = "", nil
			f.Manual = "its directory has no gfid yet: run the repair again once that one is made"
		}
		c.add(bs.on(f))
		return false
	}
	if ci.typ() == afr.TypeDirectory {
		want := brick.DirHandleTarget(pgfid, name)
		got, err := os.Readlink(h)
		c.add(bs.on(Finding{Class: ClassWrongHandle, Path: p, GFID: g.String(),
			Detail: fmt.Sprintf("handle %s is %s, want a symlink to %s", rel, describeHandle(h, got, err), want),
			Repair: "move what is there to quarantine and point the handle at the directory",
			fix: func(q *quarantine) error {
				if cur, err := os.Readlink(h); err == nil && cur == want {
					return nil
				}
				if err := q.move(bs.b, h, Finding{Class: ClassWrongHandle, GFID: g.String()}); err != nil {
					return err
				}
				q.before("handle " + p)
				return bs.b.SymlinkDirHandle(g, pgfid, name)
			}}))
		return false
	}
	other, err := bs.b.GFIDAt(h)
	if err == nil && other == g {
		c.add(bs.on(Finding{Class: ClassDuplicateGFID, Path: p, GFID: g.String(),
			Detail: fmt.Sprintf("another file (inode %d, through handle %s) has the same gfid; they are not hard links", hst.Ino, rel),
			Manual: "two files share one gfid: give one of them a new gfid (afrkit fsck cannot tell which one GlusterFS should keep)"}))
		return false
	}
	c.add(bs.on(Finding{Class: ClassWrongHandle, Path: p, GFID: g.String(),
		Detail: fmt.Sprintf("handle %s is another file (inode %d, gfid %s)", rel, hst.Ino, other),
		Repair: "move the handle to quarantine (the file it is keeps its other names) and link the handle to this entry",
		fix: func(q *quarantine) error {
			var cur syscall.Stat_t
			if err := syscall.Lstat(h, &cur); err == nil && cur.Dev == ci.st.Dev && cur.Ino == ci.st.Ino {
				return nil
			}
			if err := q.move(bs.b, h, Finding{Class: ClassWrongHandle, GFID: g.String()}); err != nil {
				return err
			}
			q.before("handle " + p)
			return bs.b.LinkFileHandle(ci.abs, g)
		}}))
	return false
}

// handleIsCopy reports whether the copy's gfid handle is the copy: the
// same inode for a file, a symlink to the parent's handle and name for a
// directory.
func (bs *brickState) handleIsCopy(ci *copyInfo, pgfid afr.GFID, name string) bool {
	h := bs.b.HandlePath(ci.gfid)
	if ci.typ() == afr.TypeDirectory {
		got, err := os.Readlink(h)
		return err == nil && got == brick.DirHandleTarget(pgfid, name)
	}
	var hst syscall.Stat_t
	return syscall.Lstat(h, &hst) == nil && hst.Dev == ci.st.Dev && hst.Ino == ci.st.Ino
}

func describeHandle(h, target string, err error) string {
	if err != nil {
		fi, serr := os.Lstat(h)
		if serr == nil {
			return "a " + fi.Mode().Type().String() + " and not a symlink"
		}
		return err.Error()
	}
	return "a symlink to " + target
}

// checkGfid2path checks that the copy records its name in its parent, and
// that every name it records leads back to it.
func (c *checker) checkGfid2path(ci *copyInfo, p string, pgfid afr.GFID, name string) {
	bs, b := ci.bs, ci.bs.b
	prefix := b.Key(brick.KeyGfid2pathPfx)
	wantKey := b.Key(brick.Gfid2pathKey(pgfid, name))
	found := false
	xs := ci.xs
	if ci.unlisted {
		// Only this name's key can be read: by name.
		var err error
		if xs, err = b.XattrsNamed(ci.abs, p, []string{wantKey}); err != nil {
			c.add(bs.on(Finding{Class: ClassGfid2path, Path: p, GFID: ci.gfid.String(), Detail: fmt.Sprintf("cannot read %s: %v", wantKey, err)}))
			return
		}
	}
	for key, v := range xs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if key == wantKey {
			found = true
			if string(bytes.TrimRight(v, "\x00")) != brick.Gfid2pathValue(pgfid, name) {
				c.add(bs.on(Finding{Class: ClassGfid2path, Path: p, GFID: ci.gfid.String(),
					Detail: fmt.Sprintf("%s is %q, want %q", key, v, brick.Gfid2pathValue(pgfid, name)), Repair: "rewrite it",
					locks: nameLocks(pgfid, name, ci.gfid),
					fix: guarded(ci, func(q *quarantine) error {
						q.before("gfid2path " + p)
						return b.SetRawXattr(ci.abs, p, key, []byte(brick.Gfid2pathValue(pgfid, name)))
					})}))
			}
			continue
		}
		opg, oname, err := brick.ParseGfid2path(v)
		if err != nil || key != b.Key(brick.Gfid2pathKey(opg, oname)) {
			c.add(bs.on(Finding{Class: ClassGfid2path, Path: p, GFID: ci.gfid.String(),
				Detail: fmt.Sprintf("%s = %q is malformed (its key is not the xxh64 of its value)", key, v), Repair: "remove it",
				locks: nameLocks(pgfid, name, ci.gfid),
				fix: guarded(ci, func(q *quarantine) error {
					q.before("gfid2path " + p)
					return b.RemoveRawXattr(ci.abs, p, key)
				})}))
			continue
		}
		if !c.leadsTo(bs, opg, oname, &ci.st) {
			c.add(bs.on(Finding{Class: ClassGfid2path, Path: p, GFID: ci.gfid.String(),
				Detail: fmt.Sprintf("%s records the name %s/%s, which is no longer this file's", key, opg, oname), Repair: "remove it",
				// The other name's lock too: a link there would make
				// the record right again.
				locks: append(nameLocks(pgfid, name, ci.gfid), lock.Name(lock.Data, opg, oname)),
				fix: guarded(ci, func(q *quarantine) error {
					if c.leadsTo(bs, opg, oname, &ci.st) {
						return nil // linked there since the check
					}
					q.before("gfid2path " + p)
					return b.RemoveRawXattr(ci.abs, p, key)
				})}))
		}
	}
	if !found {
		c.add(bs.on(Finding{Class: ClassGfid2path, Path: p, GFID: ci.gfid.String(),
			Detail: fmt.Sprintf("no %s for its name (%s)", wantKey, brick.Gfid2pathValue(pgfid, name)), Repair: "add it",
			locks: nameLocks(pgfid, name, ci.gfid),
			fix: guarded(ci, func(q *quarantine) error {
				q.before("gfid2path " + p)
				return b.AddGfid2path(ci.abs, pgfid, name)
			})}))
	}
}

// nameLocks are the locks the mount's fops on name in the directory pg,
// and on the file g, take: a fix of the file's handle or gfid2path holds
// them. Without the directory's gfid there is no name lock to take: nil,
// so the fix waits for the volume to be unmounted.
func nameLocks(pg afr.GFID, name string, g afr.GFID) []lock.Key {
	if pg.IsZero() || g.IsZero() {
		return nil
	}
	return []lock.Key{lock.Name(lock.Data, pg, name), lock.Whole(lock.Data, g)}
}

// guarded is fix, run only while ci's path still holds the file the
// check read (the same inode): beside a mount, a rename may have put
// another file there since. Under the name's lock it stays so; a fix
// that finds it moved does nothing, and the next check sees the entry as
// it is now.
func guarded(ci *copyInfo, fix func(q *quarantine) error) func(q *quarantine) error {
	return func(q *quarantine) error {
		var st syscall.Stat_t
		if err := ci.bs.b.Lstat(ci.abs, &st); err != nil || st.Ino != ci.st.Ino || st.Dev != ci.st.Dev {
			return nil
		}
		return fix(q)
	}
}

// leadsTo reports whether name in the directory with gfid pg is the file st.
func (c *checker) leadsTo(bs *brickState, pg afr.GFID, name string, st *syscall.Stat_t) bool {
	dir, err := bs.b.AbsOfGFID(pg)
	if err != nil {
		return false
	}
	var o syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(dir, name), &o); err != nil {
		return false
	}
	return o.Dev == st.Dev && o.Ino == st.Ino
}

// checkLinkfile reports a DHT link file whose target replica set has no
// file of this gfid at this path: DHT leaves them behind after a failed
// rename or rebalance, and they hide or duplicate names.
func (c *checker) checkLinkfile(ci *copyInfo, p string) {
	bs, b := ci.bs, ci.bs.b
	v, ok := ci.xs[b.Key(brick.KeyDHT)+".linkto"]
	if !ok {
		return
	}
	target := strings.TrimRight(string(v), "\x00")
	f := Finding{Class: ClassStaleLinkfile, Path: p, GFID: ci.gfid.String(),
		Repair: "move the link file to quarantine, and drop its handle"}
	f.fix = func(q *quarantine) error {
		if err := q.move(b, ci.abs, f); err != nil {
			return err
		}
		q.before("drop handle " + p)
		// The quarantined name is the one link besides the handle.
		return b.RemoveHandle(ci.gfid, 1)
	}
	if c.vol == nil {
		return // a brick alone: nothing to check the target against
	}
	sets := len(c.vol.ReplicaSets())
	if sets < 2 {
		f.Detail = fmt.Sprintf("a DHT link file to %s in a volume that is not distributed", target)
		c.add(bs.on(f))
		return
	}
	k := -1
	for _, sep := range []string{"-replicate-", "-client-"} {
		if rest, ok := strings.CutPrefix(target, c.vol.Name+sep); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				k = n
			}
		}
	}
	if k < 0 || k >= sets {
		f.Detail = fmt.Sprintf("a DHT link file to %q, which is no subvolume of %s", target, c.vol.Name)
		c.add(bs.on(f))
		return
	}
	for _, vb := range c.vol.ReplicaSets()[k] {
		if !vb.Local {
			continue
		}
		tb, err := brick.Open(vb.Path, c.vol.XattrNS)
		if err != nil {
			continue
		}
		abs, err := tb.Abs(p)
		if err != nil {
			continue
		}
		if g, err := tb.GFIDAt(abs); err == nil && g == ci.gfid {
			return
		}
		f.Detail = fmt.Sprintf("a DHT link file to %s, which has no file with gfid %s at %s", target, ci.gfid, p)
		c.add(bs.on(f))
		return
	}
}

// checkIndexed reports counters that are set with no index entry to make a
// heal crawl find them. It reports whether the counters are set and the
// xattrop index lists the copy.
func (c *checker) checkIndexed(ci *copyInfo, p string) bool {
	bs := ci.bs
	pending := ci.pendingSet()
	if !pending && ci.dirty.IsZero() {
		return false
	}
	in, _ := bs.ix.Has(index.Xattrop, ci.gfid)
	inXattrop := in
	if !in && !pending {
		in, _ = bs.ix.Has(index.Dirty, ci.gfid)
	}
	if !in {
		c.add(bs.on(Finding{Class: ClassMissingIndex, Path: p, GFID: ci.gfid.String(),
			Detail: "its counters are set but no index entry lists it: an index heal never looks at it",
			Repair: "add the index entry",
			locks:  inodeLocks(ci.gfid),
			fix: func(q *quarantine) error {
				q.before("index " + p)
				return bs.ix.Add(index.Xattrop, ci.gfid)
			}}))
	}
	return inXattrop
}

// compareCopies compares the copies of one name across a replica set.
func (c *checker) compareCopies(s *setState, p string, copies []*copyInfo, entryKnown bool) {
	var present []*copyInfo
	var absent []string
	for i, ci := range copies {
		if ci == nil {
			absent = append(absent, s.bricks[i].label)
			continue
		}
		present = append(present, ci)
	}
	if len(present) == 0 {
		// Listed, then removed from every brick while the check ran
		// (the volume is mounted): nothing left to compare.
		return
	}
	all := labels(s)
	first := present[0]
	for _, ci := range present[1:] {
		if ci.typ() != first.typ() {
			c.add(Finding{Class: ClassTypeMismatch, Brick: all, Path: p,
				Detail: describeEach(present, func(ci *copyInfo) string { return ci.typ().String() }),
				Manual: "GlusterFS fails lookups of this name with EIO: move the wrong copy aside by hand (afrkit heal " + c.volName() + " explain " + p + " shows both)"})
			return
		}
	}
	var gfids []afr.GFID
	for _, ci := range present {
		if ci.gfidOK && !slices.Contains(gfids, ci.gfid) {
			gfids = append(gfids, ci.gfid)
		}
	}
	if len(gfids) > 1 {
		c.add(Finding{Class: ClassGFIDMismatch, Brick: all, Path: p,
			Detail: describeEach(present, func(ci *copyInfo) string { return gfidOf(ci) }),
			Manual: "resolve it with afrkit heal " + c.volName() + " split-brain {bigger-file|latest-mtime|source-brick BRICK} " + p})
		return
	}
	c.checkSplitBrain(s, p, copies)
	if len(absent) > 0 && !entryKnown {
		c.add(Finding{Class: ClassSilentDifference, Brick: all, Path: p, GFID: gfidOf(first),
			Detail: fmt.Sprintf("missing on %s, and no counter of its directory says whether it was created or removed", strings.Join(absent, ", ")),
			Manual: "afrkit heal " + c.volName() + " full copies it to the bricks that lack it (a conservative merge, as GlusterFS does); remove it first if it should be gone"})
	}
	if len(present) < 2 {
		return
	}
	dataKnown := slices.ContainsFunc(present, func(ci *copyInfo) bool { return ci.counted(afr.Data) })
	metaKnown := slices.ContainsFunc(present, func(ci *copyInfo) bool { return ci.counted(afr.Metadata) })
	var diffs []string
	if !metaKnown {
		if differ(present, func(ci *copyInfo) string { return fmt.Sprintf("%o", ci.st.Mode&07777) }) {
			diffs = append(diffs, "mode "+describeEach(present, func(ci *copyInfo) string { return fmt.Sprintf("%04o", ci.st.Mode&07777) }))
		}
		if differ(present, func(ci *copyInfo) string { return fmt.Sprintf("%d:%d", ci.st.Uid, ci.st.Gid) }) {
			diffs = append(diffs, "owner "+describeEach(present, func(ci *copyInfo) string { return fmt.Sprintf("%d:%d", ci.st.Uid, ci.st.Gid) }))
		}
	}
	// The arbiter's copy of a file holds no data: it takes no part in
	// comparing sizes and content.
	withData := slices.DeleteFunc(slices.Clone(present), func(ci *copyInfo) bool { return ci.bs.arbiter })
	if !dataKnown && first.typ() == afr.TypeRegular && len(withData) > 1 {
		present := withData
		if differ(present, func(ci *copyInfo) string { return strconv.FormatInt(ci.st.Size, 10) }) {
			diffs = append(diffs, "size "+describeEach(present, func(ci *copyInfo) string { return strconv.FormatInt(ci.st.Size, 10) }))
		} else if c.opts.Deep {
			hashes := map[*copyInfo]string{}
			for _, ci := range present {
				h, err := ci.hash()
				if err != nil {
					h = "unreadable: " + err.Error()
				}
				hashes[ci] = h
			}
			if differ(present, func(ci *copyInfo) string { return hashes[ci] }) {
				diffs = append(diffs, "content (blake3) "+describeEach(present, func(ci *copyInfo) string { return brick.ShortHash(hashes[ci]) }))
			}
		}
	}
	if len(diffs) > 0 {
		c.add(Finding{Class: ClassSilentDifference, Brick: all, Path: p, GFID: gfidOf(first),
			Detail: "the copies differ and no counter says which is right: " + strings.Join(diffs, "; "),
			Manual: "check the copies (afrkit heal " + c.volName() + " explain " + p + "), then choose one with afrkit heal " + c.volName() + " split-brain source-brick BRICK " + p})
	}
}

// checkSplitBrain reports a name whose copies' counters leave no source,
// as heal info split-brain would list it. It needs every brick of the
// replica set: a brick checked alone cannot tell.
func (c *checker) checkSplitBrain(s *setState, p string, copies []*copyInfo) {
	keys := s.bricks[0].keys
	if keys == nil || len(copies) != len(keys) {
		return
	}
	replies := make([]afr.Reply, len(copies))
	for i, ci := range copies {
		replies[i] = afr.Reply{Name: s.bricks[i].label, Answered: true, Pending: make([]afr.Changelog, len(keys))}
		if ci == nil {
			continue
		}
		replies[i].Exists, replies[i].Type, replies[i].GFID = true, ci.typ(), ci.gfid
		copy(replies[i].Pending, ci.pending)
		replies[i].Dirty = ci.dirty
	}
	st := afr.HealInfo(replies, c.quorumCount())
	if !st.IsSplitBrain() {
		return
	}
	var blames []string
	for i, ci := range copies {
		if ci == nil {
			continue
		}
		for j, cl := range ci.pending {
			if i != j && !cl.IsZero() {
				blames = append(blames, fmt.Sprintf("%s blames %s (%s)", s.bricks[i].label, s.bricks[j].label, counts(cl)))
			}
		}
	}
	c.add(Finding{Class: ClassSplitBrain, Brick: labels(s), Path: p, GFID: gfidOf(copies[slices.IndexFunc(copies, func(ci *copyInfo) bool { return ci != nil })]),
		Detail: "the copies blame each other, so none is a source: " + strings.Join(blames, "; "),
		Manual: fmt.Sprintf("see why with afrkit heal %s explain %s, then resolve it with afrkit heal %[1]s split-brain {bigger-file|latest-mtime|majority} %[2]s, or source-brick BRICK %[2]s", c.volName(), p)})
}

// counts names a changelog's non-zero counters: "data 1, entry 2".
func counts(cl afr.Changelog) string {
	var out []string
	for k, n := range cl {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s %d", afr.Kind(k), n))
		}
	}
	return strings.Join(out, ", ")
}

// quorumCount is the volume's cluster.quorum-count as afr counts it.
func (c *checker) quorumCount() int {
	if c.vol == nil {
		return 0
	}
	return afr.QuorumCount(c.vol.Replica, c.vol.QuorumType(), c.vol.QuorumCount())
}

// volName names the volume in suggested commands.
func (c *checker) volName() string {
	if c.vol == nil {
		return "VOL"
	}
	return c.vol.Name
}

func labels(s *setState) string {
	var out []string
	for _, bs := range s.bricks {
		out = append(out, bs.label)
	}
	return strings.Join(out, ", ")
}

func describeEach(cs []*copyInfo, f func(*copyInfo) string) string {
	var parts []string
	for _, ci := range cs {
		parts = append(parts, f(ci)+" on "+ci.bs.label)
	}
	return strings.Join(parts, ", ")
}

func differ(cs []*copyInfo, f func(*copyInfo) string) bool {
	for _, ci := range cs[1:] {
		if f(ci) != f(cs[0]) {
			return true
		}
	}
	return false
}
