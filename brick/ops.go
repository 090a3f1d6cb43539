package brick

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
)

// The primitives below are what heal needs to change a brick. They take the
// absolute path of the copy (from Abs or AbsOfGFID) plus the volume path or
// gfid string used in error messages, as the read side does.

// AfrkitDir is afrkit's own directory inside .glusterfs: kept copies and
// fsck's quarantine live there. GlusterFS never looks into it (its janitor purges
// only landfill), and it is not part of the volume's namespace.
const AfrkitDir = "afrkit"

// KeptDir is where the losing copies of split-brain resolutions, and the
// names heal removes, are kept on this brick.
func (b *Brick) KeptDir() string { return b.GlusterPath(AfrkitDir, "kept") }

// AnonInodePrefix starts the name of the anonymous-inode directory AFR keeps
// at the brick root (.glusterfs-anonymous-inode-<volume-id>). It is not a
// name of the volume.
const AnonInodePrefix = ".glusterfs-anonymous-inode-"

// Key returns the full name of a namespace-less key on this brick.
func (b *Brick) Key(k string) string { return b.key(k) }

// IsInternalKey reports whether a full xattr name is AFR or posix
// bookkeeping rather than metadata that heal copies between bricks.
func (b *Brick) IsInternalKey(full string) bool { return IsInternalXattr(b.NS, full) }

// IsInternalXattr is IsInternalKey for a brick whose xattrs are in
// namespace ns: a brick read over the network (package brick/remote)
// leaves out the same names.
func IsInternalXattr(ns, full string) bool {
	if strings.HasPrefix(full, "security.") || (ns == NSUser && strings.HasPrefix(full, NSTrusted+".")) {
		return true
	}
	k, ok := strings.CutPrefix(full, ns+".")
	return ok && isInternalKey(k)
}

// InternalAtRoot reports whether a name at the brick root is the brick's
// own, not the volume's: .glusterfs and the anonymous-inode directory.
func InternalAtRoot(name string) bool {
	return name == GlusterDir || strings.HasPrefix(name, AnonInodePrefix)
}

// ReadDirNames lists the names in the directory at abs, leaving out what
// is not part of the volume: .glusterfs and the anonymous-inode directory
// at the brick root.
func (b *Brick) ReadDirNames(abs, volPath string) ([]string, error) {
	f, err := b.OpenDir(abs)
	if err != nil {
		return nil, b.errorf("open directory", volPath, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, b.errorf("read directory", volPath, err)
	}
	if abs != b.Root {
		return names, nil
	}
	out := names[:0]
	for _, n := range names {
		if !InternalAtRoot(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// AddChangelog adds delta to the changelog key of the copy at abs, as a
// posix xattrop with GF_XATTROP_ADD_ARRAY does, and returns the new value.
// The read, the addition and the write are one atomic step against every
// other afrkit writer on this host (lockCounters). A zero delta writes
// nothing.
func (b *Brick) AddChangelog(abs, name, key string, delta afr.Changelog) (afr.Changelog, error) {
	if delta.IsZero() {
		return b.ReadChangelog(abs, name, key)
	}
	unlock, err := b.lockCounters(abs)
	if err != nil {
		return afr.Changelog{}, b.errorf("xattrop "+b.key(key), name, err)
	}
	defer unlock()
	cur, err := b.ReadChangelog(abs, name, key)
	if err != nil {
		return cur, err
	}
	for k := range cur {
		cur[k] += delta[k]
	}
	if err := b.setXattr(abs, key, EncodeChangelog(cur), false); err != nil {
		return cur, b.errorf("write "+b.key(key), name, err)
	}
	return cur, nil
}

// ClearChangelog zeroes the counters of kinds in the changelog key of the
// copy at abs, leaving the key in place (GlusterFS leaves 12 zero bytes after
// a heal). An absent key, or one already zero there, is not written. It
// returns the value left on disk.
func (b *Brick) ClearChangelog(abs, name, key string, kinds ...afr.Kind) (afr.Changelog, error) {
	cur, err := b.ReadChangelog(abs, name, key)
	if err != nil {
		return cur, err
	}
	if !anyNonZero(cur, kinds) {
		return cur, nil // nothing to clear: no lock, nothing written
	}
	unlock, err := b.lockCounters(abs)
	if err != nil {
		return cur, b.errorf("xattrop "+b.key(key), name, err)
	}
	defer unlock()
	if cur, err = b.ReadChangelog(abs, name, key); err != nil {
		return cur, err
	}
	changed := false
	for _, k := range kinds {
		if cur[k] != 0 {
			cur[k], changed = 0, true
		}
	}
	if !changed {
		return cur, nil
	}
	if err := b.setXattr(abs, key, EncodeChangelog(cur), false); err != nil {
		return cur, b.errorf("write "+b.key(key), name, err)
	}
	return cur, nil
}

func anyNonZero(c afr.Changelog, kinds []afr.Kind) bool {
	for _, k := range kinds {
		if c[k] != 0 {
			return true
		}
	}
	return false
}

// KeysPresent lists the copy's xattrs once and returns a test of whether
// it has a namespace-less key, so that a caller about to read several
// counters skips the absent ones. When the list cannot be trusted (it
// fails, or lacks the gfid every brick entry has: see replyStat) the test
// says yes to every key, and the caller reads them all as before.
func (b *Brick) KeysPresent(abs string) func(k string) bool {
	names, err := b.listXattr(abs)
	if err != nil || !b.hasKey(names, KeyGFID) {
		return func(string) bool { return true }
	}
	return func(k string) bool { return b.hasKey(names, k) }
}

// SetGFID gives the copy at abs its trusted.gfid (XATTR_CREATE); an equal
// gfid already there is accepted, another one is an error.
func (b *Brick) SetGFID(abs, name string, g afr.GFID) error { return b.setGFIDAbs(abs, name, g) }

// RawXattrs reads every xattr of the copy at abs, keyed by full name.
func (b *Brick) RawXattrs(abs, name string) (map[string][]byte, error) {
	return b.RawXattrsIf(abs, name, nil)
}

// RawXattrsIf is RawXattrs for the names want accepts (all when want is
// nil): a reader that looks at a few keys of many files spares a getxattr
// per key it would ignore.
func (b *Brick) RawXattrsIf(abs, name string, want func(full string) bool) (map[string][]byte, error) {
	a, err := b.resolve("list xattrs", abs)
	if err != nil {
		return nil, b.errorf("list xattrs", name, err)
	}
	defer a.close()
	names, err := a.listxattr()
	if err != nil {
		return nil, b.errorf("list xattrs", name, err)
	}
	if want != nil {
		names = slices.DeleteFunc(names, func(full string) bool { return !want(full) })
	}
	return b.readKeys(a, name, names)
}

// XattrsNamed reads the xattrs named fulls (full names) of the copy at
// abs, leaving out the absent ones. It is how a copy whose names cannot be
// listed (ErrXattrListTooLong) is still read.
func (b *Brick) XattrsNamed(abs, name string, fulls []string) (map[string][]byte, error) {
	a, err := b.resolve("read xattrs", abs)
	if err != nil {
		return nil, b.errorf("read xattrs", name, err)
	}
	defer a.close()
	return b.readKeys(a, name, fulls)
}

// readKeys reads the xattrs fulls of the object a,
// leaving out the absent ones: one may go between a list and the reads.
func (b *Brick) readKeys(a at, name string, fulls []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(fulls))
	for _, full := range fulls {
		v, err := a.getxattr(full)
		if errors.Is(err, ErrNoAttr) {
			continue
		}
		if err != nil {
			return nil, b.errorf("read "+full, name, err)
		}
		out[full] = v
	}
	return out, nil
}

// SetRawXattr writes the xattr full on the copy at abs.
func (b *Brick) SetRawXattr(abs, name, full string, v []byte) error {
	a, err := b.resolve("write "+full, abs)
	if err != nil {
		return b.errorf("write "+full, name, err)
	}
	defer a.close()
	if err := a.setxattr(full, v, 0); err != nil {
		return b.errorf("write "+full, name, normalizeXattrErr(err))
	}
	return nil
}

// RemoveRawXattr removes the xattr full; an absent one is not an error.
func (b *Brick) RemoveRawXattr(abs, name, full string) error {
	a, err := b.resolve("remove "+full, abs)
	if err != nil {
		return b.errorf("remove "+full, name, err)
	}
	defer a.close()
	err = unix.Lremovexattr(a.proc(), full)
	if err == nil || errors.Is(normalizeXattrErr(err), ErrNoAttr) {
		return nil
	}
	return b.errorf("remove "+full, name, normalizeXattrErr(err))
}

// AddGfid2path records name in pgfid as one of the copy's names.
func (b *Brick) AddGfid2path(abs string, pgfid afr.GFID, name string) error {
	err := b.setXattr(abs, Gfid2pathKey(pgfid, name), []byte(Gfid2pathValue(pgfid, name)), true)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return b.errorf("write gfid2path", name, err)
	}
	return nil
}

// RemoveGfid2path forgets name in pgfid as one of the copy's names.
func (b *Brick) RemoveGfid2path(abs string, pgfid afr.GFID, name string) error {
	if err := b.removeXattr(abs, Gfid2pathKey(pgfid, name)); err != nil {
		return b.errorf("remove gfid2path", name, err)
	}
	return nil
}

// ReadMdata reads the copy's trusted.glusterfs.mdata; ok is false when it
// has none.
func (b *Brick) ReadMdata(abs, name string) (m Mdata, ok bool, err error) {
	v, err := b.getXattr(abs, KeyMdata)
	if errors.Is(err, ErrNoAttr) {
		return m, false, nil
	}
	if err != nil {
		return m, false, b.errorf("read "+b.key(KeyMdata), name, err)
	}
	m, err = DecodeMdata(v)
	if err != nil {
		return m, false, b.errorf("read "+b.key(KeyMdata), name, err)
	}
	return m, true, nil
}

// SetMdata writes the copy's trusted.glusterfs.mdata.
func (b *Brick) SetMdata(abs, name string, m Mdata) error {
	if err := b.setXattr(abs, KeyMdata, m.Encode(), false); err != nil {
		return b.errorf("write "+b.key(KeyMdata), name, err)
	}
	return nil
}

// UpdateMdata edits the copy's trusted.glusterfs.mdata: read, edit,
// write. A copy without one (the ctime feature off when it was made) is
// left without: there is nothing to keep in step. The caller holds the
// inode's lock, so no other writer edits it between the read and the
// write.
func (b *Brick) UpdateMdata(abs, name string, edit func(*Mdata)) error {
	m, ok, err := b.ReadMdata(abs, name)
	if err != nil || !ok {
		return err
	}
	edit(&m)
	return b.SetMdata(abs, name, m)
}

// RemoveHandle removes g's handle when nothing else needs it: a directory's
// symlink handle always, a file's hard-link handle only once no name of the
// volume links its inode. outside counts links known to be outside the
// volume's namespace (a copy kept by heal), which do not hold the gfid.
func (b *Brick) RemoveHandle(g afr.GFID, outside int) error {
	h := b.HandlePath(g)
	var st syscall.Stat_t
	if err := b.Lstat(h, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return b.errorf("stat", HandleRel(g), err)
	}
	if !b.isDirHandle(h, &st) && int(st.Nlink) > 1+outside {
		return nil
	}
	if err := b.Remove(h); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.errorf("remove handle", HandleRel(g), err)
	}
	return nil
}

// RetargetDirHandle points directory g's handle at its new name in pgfid,
// after the directory was renamed.
func (b *Brick) RetargetDirHandle(g, pgfid afr.GFID, name string) error {
	h := b.HandlePath(g)
	if err := b.Remove(h); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.errorf("remove handle", HandleRel(g), err)
	}
	return b.SymlinkDirHandle(g, pgfid, name)
}

// Syncfs makes everything written to the brick's filesystem durable: one
// call instead of an fsync per healed file.
func (b *Brick) Syncfs() error {
	f, err := b.OpenDir(b.Root)
	if err != nil {
		return b.errorf("open", "/", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return b.errorf("syncfs", "/", err)
	}
	return nil
}

// SplitPath splits a volume path into its parent's volume path and its
// name.
func SplitPath(p string) (parent, name string) {
	dir, name := path.Split(p)
	if dir != "/" {
		dir = strings.TrimSuffix(dir, "/")
	}
	return dir, name
}

// Join joins a directory's volume path and a name.
func Join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// RelToRoot is the path of abs relative to the brick root, for messages.
func (b *Brick) RelToRoot(abs string) string {
	rel, err := filepath.Rel(b.Root, abs)
	if err != nil {
		return abs
	}
	return "/" + rel
}

// checkName refuses a name that is not a single path component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%q: %w", name, ErrOutsideBrick)
	}
	return nil
}

// ChildAbs is the absolute path of name inside the directory at dirAbs,
// refusing names that are not one component.
func (b *Brick) ChildAbs(dirAbs, name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", b.errorf("resolve", name, err)
	}
	if dirAbs == b.Root && name == GlusterDir {
		return "", b.errorf("resolve", name, fmt.Errorf("%w: .glusterfs is internal", ErrOutsideBrick))
	}
	return filepath.Join(dirAbs, name), nil
}

// ReplyAt is Reply for the copy at abs (name labels errors).
func (b *Brick) ReplyAt(abs, name string, pendingKeys []string) (afr.Reply, error) {
	r, err := b.replyAbs(abs, name, pendingKeys)
	r.Name = b.Root
	return r, err
}

// HasGFID reports whether g has a handle on this brick that leads to an
// inode, and whether that inode is a directory.
func (b *Brick) HasGFID(g afr.GFID) (exists, dir bool, err error) {
	var st syscall.Stat_t
	_, ok, err := b.statGFID(g, &st)
	if err != nil || !ok {
		return false, false, err
	}
	return true, st.Mode&syscall.S_IFMT == syscall.S_IFDIR, nil
}

// HasGFIDNamed is HasGFID for a gfid that some name of the volume still
// holds: a file's handle is then one of several links. A handle left
// alone (its last name removed on the brick behind the volume's back)
// does not count: the file is gone from the volume.
func (b *Brick) HasGFIDNamed(g afr.GFID) (exists, dir bool, err error) {
	var st syscall.Stat_t
	_, ok, err := b.statGFID(g, &st)
	if err != nil || !ok {
		return false, false, err
	}
	dir = st.Mode&syscall.S_IFMT == syscall.S_IFDIR
	return dir || st.Nlink > 1, dir, nil
}

// GFIDAt reads the gfid of the copy at abs.
func (b *Brick) GFIDAt(abs string) (afr.GFID, error) { return b.gfidAbs(abs, b.RelToRoot(abs)) }

// DirEntry is one name of a directory, with its type and gfid.
type DirEntry struct {
	Name string
	// Mode is the entry's file type bits (S_IFREG, S_IFDIR, ...).
	Mode uint32
	GFID afr.GFID
	// Reply and Stat are the copy's full reply and lstat, read with the
	// listing. Reply.Answered is false when the reply could not be read
	// whole (an xattr is unreadable).
	Reply afr.Reply
	Stat  syscall.Stat_t
}

// ReadDirReplies lists the directory at abs as ReadDirNames does, each
// name with its type (from the directory itself), gfid, full reply
// (pending keys as ReplyAtStat reads them) and lstat, all read relative
// to the open directory: what a readdirplus answers with, at a stat and a
// few xattr reads per name where a lookup by path walks the path every
// time. A name without a gfid (a create under way, or made on the brick
// behind the volume's back) is left out.
func (b *Brick) ReadDirReplies(abs, volPath string, pendingKeys []string) ([]DirEntry, error) {
	f, err := b.OpenDir(abs)
	if err != nil {
		return nil, b.errorf("open directory", volPath, err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, b.errorf("read directory", volPath, err)
	}
	dir := at{dir: int(f.Fd())}
	out := make([]DirEntry, 0, len(ents))
	for _, e := range ents {
		name := e.Name()
		if abs == b.Root && InternalAtRoot(name) {
			continue
		}
		dir.name = name
		d := DirEntry{Name: name, Mode: unixType(e.Type())}
		if err := dir.lstat(&d.Stat); err != nil {
			continue // gone since the listing
		}
		r, err := b.replyAt(dir, Join(volPath, name), &d.Stat, pendingKeys)
		if r.GFID.IsZero() {
			continue
		}
		d.GFID = r.GFID
		if err == nil {
			d.Reply = r
		}
		out = append(out, d)
	}
	runtime.KeepAlive(f)
	return out, nil
}

// unixType turns an fs.FileMode's type into S_IFMT bits.
func unixType(t fs.FileMode) uint32 {
	switch {
	case t&fs.ModeDir != 0:
		return syscall.S_IFDIR
	case t&fs.ModeSymlink != 0:
		return syscall.S_IFLNK
	case t&fs.ModeNamedPipe != 0:
		return syscall.S_IFIFO
	case t&fs.ModeSocket != 0:
		return syscall.S_IFSOCK
	case t&fs.ModeCharDevice != 0:
		return syscall.S_IFCHR
	case t&fs.ModeDevice != 0:
		return syscall.S_IFBLK
	}
	return syscall.S_IFREG
}
