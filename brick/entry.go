package brick

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
)

// GFIDOf reads the gfid of the entry at volPath.
func (b *Brick) GFIDOf(volPath string) (afr.GFID, error) {
	abs, err := b.Abs(volPath)
	if err != nil {
		return afr.GFID{}, err
	}
	return b.gfidAbs(abs, volPath)
}

func (b *Brick) gfidAbs(abs, volPath string) (afr.GFID, error) {
	a, err := b.resolve("read "+b.key(KeyGFID), abs)
	if err != nil {
		return afr.GFID{}, b.errorf("read "+b.key(KeyGFID), volPath, err)
	}
	defer a.close()
	return b.gfidAt(a, volPath)
}

// gfidAt reads the gfid of the object a.
func (b *Brick) gfidAt(a at, volPath string) (afr.GFID, error) {
	v, err := a.getxattr(b.key(KeyGFID))
	if errors.Is(err, ErrNoAttr) {
		return afr.GFID{}, b.errorf("read "+b.key(KeyGFID), volPath, ErrNoGFID)
	}
	if err != nil {
		return afr.GFID{}, b.errorf("read "+b.key(KeyGFID), volPath, err)
	}
	g, err := DecodeGFID(v)
	if err != nil {
		return afr.GFID{}, b.errorf("read "+b.key(KeyGFID), volPath, err)
	}
	return g, nil
}

// setGFIDAbs sets the gfid with XATTR_CREATE like posix_gfid_set; an
// existing equal gfid is accepted, a different one is an error.
func (b *Brick) setGFIDAbs(abs, volPath string, g afr.GFID) error {
	a, err := b.resolve("setxattr", abs)
	if err != nil {
		return b.errorf("write "+b.key(KeyGFID), volPath, err)
	}
	defer a.close()
	return b.setGFIDAt(a, volPath, g)
}

// setGFIDAt is setGFIDAbs on the resolved object a.
func (b *Brick) setGFIDAt(a at, volPath string, g afr.GFID) error {
	err := a.setxattr(b.key(KeyGFID), g[:], xattr.XATTR_CREATE)
	if err != nil {
		err = normalizeXattrErr(err)
	}
	if errors.Is(err, fs.ErrExist) {
		cur, gerr := b.gfidAt(a, volPath)
		if gerr == nil && cur == g {
			return nil
		}
		return b.errorf("write "+b.key(KeyGFID), volPath, fmt.Errorf("entry already has gfid %s, not %s: %w", cur, g, fs.ErrExist))
	}
	if err != nil {
		return b.errorf("write "+b.key(KeyGFID), volPath, err)
	}
	return nil
}

// ReadChangelog reads the changelog xattr key (e.g. PendingKey("v-client-0")
// or KeyDirty) of the entry at abs. An absent key reads as zeros, as posix
// returns for a zero-delta xattrop.
func (b *Brick) ReadChangelog(abs, volPath, key string) (afr.Changelog, error) {
	a, err := b.resolve("read "+b.key(key), abs)
	if err != nil {
		return afr.Changelog{}, b.errorf("read "+b.key(key), volPath, err)
	}
	defer a.close()
	c, err := readChangelog(a, b.key(key))
	if err != nil {
		return c, b.errorf("read "+b.key(key), volPath, err)
	}
	return c, nil
}

// readChangelog reads the changelog xattr fullKey. A changelog is exactly
// ChangelogSize bytes, so it is read straight into a small buffer: heal info
// reads millions of them, and the general xattr reader allocates a kilobyte
// per call. A longer value does not fit (ERANGE) and is as corrupt as a
// shorter one. An absent key reads as zeros.
func readChangelog(a at, fullKey string) (afr.Changelog, error) {
	var buf [ChangelogSize + 1]byte
	n, err := a.getxattrInto(fullKey, buf[:])
	switch {
	case errors.Is(err, unix.ENODATA):
		return afr.Changelog{}, nil
	case errors.Is(err, unix.ERANGE):
		return afr.Changelog{}, fmt.Errorf("more than %d bytes, want %d: %w", len(buf), ChangelogSize, ErrBadLength)
	case errors.Is(err, unix.ENOTSUP):
		return afr.Changelog{}, ErrXattrUnsupported
	case err != nil:
		return afr.Changelog{}, err
	}
	return DecodeChangelog(buf[:n])
}

// WriteChangelog writes a changelog xattr on the entry at volPath.
func (b *Brick) WriteChangelog(volPath, key string, c afr.Changelog) error {
	abs, err := b.Abs(volPath)
	if err != nil {
		return err
	}
	if err := b.setXattr(abs, key, EncodeChangelog(c), false); err != nil {
		return b.errorf("write "+b.key(key), volPath, err)
	}
	return nil
}

// isInternalKey reports whether a namespace-less key is AFR or posix
// bookkeeping rather than metadata that heal copies between bricks
// (afr_is_xattr_ignore and the keys posix hides from listxattr), and
// afrkit's own.
func isInternalKey(k string) bool {
	switch k {
	case KeyGFID, KeyVolumeID, KeyMdata, "glusterfs.quota.size", "selinux":
		return true
	}
	for _, p := range []string{KeyAFRPrefix, KeyGfid2pathPfx, "pgfid.", "glusterfs.dht", KeyAfrkitPrefix} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// FileType maps a stat mode's S_IFMT bits to afr's type.
func FileType(mode uint32) afr.FileType {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return afr.TypeRegular
	case syscall.S_IFDIR:
		return afr.TypeDirectory
	case syscall.S_IFLNK:
		return afr.TypeSymlink
	}
	return afr.TypeOther
}

// TypeMode is the S_IFMT bits of afr's type, which FileType maps back
// (afr.TypeOther: a FIFO, standing for every other kind).
func TypeMode(t afr.FileType) uint32 {
	switch t {
	case afr.TypeRegular:
		return syscall.S_IFREG
	case afr.TypeDirectory:
		return syscall.S_IFDIR
	case afr.TypeSymlink:
		return syscall.S_IFLNK
	}
	return syscall.S_IFIFO
}

// Reply gathers what this brick holds for the entry at volPath, in the
// form afr decides on. pendingKeys are the changelog keys of the replica set
// in brick order (PendingKey of each brick id). A missing entry gives
// Exists=false and no error; an unreadable or corrupt one gives an error
// naming the brick, path and xattr, with the fields read so far.
func (b *Brick) Reply(volPath string, pendingKeys []string) (afr.Reply, error) {
	abs, err := b.Abs(volPath)
	if err != nil {
		return afr.Reply{Name: b.Root}, err
	}
	return b.replyAbs(abs, volPath, pendingKeys)
}

// ReplyGFID is Reply for the inode behind gfid's handle. A gfid with no
// handle gives Exists=false.
func (b *Brick) ReplyGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error) {
	r, _, err := b.ReplyGFIDAbs(g, pendingKeys)
	return r, err
}

// ReplyGFIDAbs is ReplyGFID that also returns the absolute path of the
// copy it read (what AbsOfGFID returns; "" when there is none), so that a
// caller about to change the copy does not resolve its handle again: for a
// directory that is a walk up its parents' handles.
func (b *Brick) ReplyGFIDAbs(g afr.GFID, pendingKeys []string) (afr.Reply, string, error) {
	var st syscall.Stat_t
	a, abs, ok, err := b.statGFIDAt(g, &st)
	if err != nil {
		return afr.Reply{Name: b.Root}, "", err
	}
	if !ok {
		return afr.Reply{Name: b.Root, Answered: true, Pending: make([]afr.Changelog, len(pendingKeys))}, "", nil
	}
	defer a.close()
	r, err := b.replyAt(a, "<gfid:"+g.String()+">", &st, pendingKeys)
	return r, abs, err
}

// CountersGFID is ReplyGFID cut down to what heal info's classification
// (afr.HealInfo) reads: existence, type, size, owner, mode and the AFR
// counters. It leaves out the times and the other xattrs, and takes the
// gfid from the handle instead of reading it back, so a regular file costs
// one lstat and one getxattr per counter key; heal info over a million
// entries is mostly this.
func (b *Brick) CountersGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error) {
	r := afr.Reply{Name: b.Root, Pending: make([]afr.Changelog, len(pendingKeys))}
	var st syscall.Stat_t
	a, _, ok, err := b.statGFIDAt(g, &st)
	if err != nil || !ok {
		r.Answered = err == nil
		return r, err
	}
	defer a.close()
	b.fromStat(&r, &st)
	r.GFID = g
	if err := b.readCountersIf(&r, a, pendingKeys, nil); err != nil {
		return r, b.errorf("read", "<gfid:"+g.String()+">", err)
	}
	return r, nil
}

// statGFID lstats the inode behind g's handle into st and returns its
// path; ok is false when g has no handle. A regular file's handle is the
// file itself (a hard link), so most gfids cost a single lstat. A symlink
// handle is either a directory's (a symlink into its parent) or the hard
// link of a symlink file; AbsOfGFID tells them apart.
func (b *Brick) statGFID(g afr.GFID, st *syscall.Stat_t) (abs string, ok bool, err error) {
	a, abs, ok, err := b.statGFIDAt(g, st)
	if ok {
		a.close()
	}
	return abs, ok, err
}

// statGFIDAt is statGFID that also returns the copy resolved for further
// calls (its parent's descriptor, which the caller closes when ok), so
// that reading its xattrs next does not resolve the path again: heal info
// reads a million of them.
func (b *Brick) statGFIDAt(g afr.GFID, st *syscall.Stat_t) (a at, abs string, ok bool, err error) {
	abs = b.HandlePath(g)
	if a, err = b.resolve("stat", abs); err == nil {
		if err = a.lstat(st); err != nil {
			a.close()
			err = &fs.PathError{Op: "stat", Path: abs, Err: err}
		}
	}
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return at{}, "", false, nil
		}
		return at{}, "", false, b.errorf("stat", HandleRel(g), err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		return a, abs, true, nil
	}
	a.close()
	abs, err = b.AbsOfGFID(g)
	if errors.Is(err, ErrNoHandle) {
		return at{}, "", false, nil
	}
	if err != nil {
		return at{}, "", false, err
	}
	if a, err = b.resolve("stat", abs); err == nil {
		if err = a.lstat(st); err != nil {
			a.close()
		}
	}
	if err != nil {
		return at{}, "", false, b.errorf("stat", "<gfid:"+g.String()+">", err)
	}
	return a, abs, true, nil
}

// fromStat fills the reply's inode facts.
func (b *Brick) fromStat(r *afr.Reply, st *syscall.Stat_t) { FromStat(r, st) }

// FromStat fills a reply's inode facts from a copy's lstat, as every
// Reader does: Answered and Exists, type, size (0 for a directory), mode,
// owner and times.
func FromStat(r *afr.Reply, st *syscall.Stat_t) {
	r.Answered, r.Exists = true, true
	r.Type = FileType(st.Mode)
	r.Size = st.Size
	if r.Type == afr.TypeDirectory {
		r.Size = 0 // directory sizes differ between filesystems and mean nothing to AFR heal
	}
	r.Mode = st.Mode & 0o7777
	r.UID, r.GID = st.Uid, st.Gid
	r.Mtime = afr.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec}
	r.Ctime = afr.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec}
	r.InodeMtime = r.Mtime
}

// readCountersIf reads the pending keys and the dirty key into r, only
// the keys present reports (all of them when present is nil); the others
// read as zeros, as absent keys do. Its
// errors name the key but not the entry, which the caller adds: building
// the entry's name for every read would cost an allocation per entry.
func (b *Brick) readCountersIf(r *afr.Reply, a at, pendingKeys []string, present func(k string) bool) error {
	var errs []error
	read := func(k string) afr.Changelog {
		if present != nil && !present(k) {
			return afr.Changelog{}
		}
		c, err := readChangelog(a, b.key(k))
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", b.key(k), err))
		}
		return c
	}
	for j, k := range pendingKeys {
		r.Pending[j] = read(k)
	}
	r.Dirty = read(KeyDirty)
	return errors.Join(errs...)
}

func (b *Brick) replyAbs(abs, volPath string, pendingKeys []string) (afr.Reply, error) {
	var st syscall.Stat_t
	return b.replyAbsStat(abs, volPath, pendingKeys, &st)
}

// ReplyAtStat is ReplyAt that also fills st with the copy's lstat (left
// alone when the copy is not there): a FUSE lookup answers with both.
func (b *Brick) ReplyAtStat(abs, name string, pendingKeys []string, st *syscall.Stat_t) (afr.Reply, error) {
	r, err := b.replyAbsStat(abs, name, pendingKeys, st)
	r.Name = b.Root
	return r, err
}

func (b *Brick) replyAbsStat(abs, volPath string, pendingKeys []string, st *syscall.Stat_t) (afr.Reply, error) {
	r := afr.Reply{Name: b.Root, Pending: make([]afr.Changelog, len(pendingKeys))}
	a, err := b.resolve("stat", abs)
	if errors.Is(err, fs.ErrNotExist) {
		r.Answered = true
		return r, nil
	}
	if err != nil {
		return r, b.errorf("stat", volPath, err)
	}
	defer a.close()
	if err := a.lstat(st); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			r.Answered = true
			return r, nil
		}
		return r, b.errorf("stat", volPath, err)
	}
	return b.replyAt(a, volPath, st, pendingKeys)
}

// replyStat is the rest of a full reply once the entry's lstat is known.
//
// The xattr names are listed first, and a key the list lacks is not read:
// a copy made by entry heal has no counters yet, and most copies have only
// some of them, so reading every key cost a failing getxattr per absent
// one. The list is trusted only when it shows the gfid, which every brick
// entry has; without it (a name made on the brick directly, or a trusted.*
// namespace hidden from an unprivileged listxattr, where getxattr would
// fail instead) every key is read as before.
func (b *Brick) replyAt(a at, volPath string, st *syscall.Stat_t, pendingKeys []string) (afr.Reply, error) {
	r := afr.Reply{Name: b.Root, Pending: make([]afr.Changelog, len(pendingKeys))}
	b.fromStat(&r, st)
	var errs []error
	names, err := a.listxattr()
	switch {
	case errors.Is(err, ErrXattrListTooLong):
		// Every key the reply needs is read by name below.
		r.XattrsUnlisted = true
	case err != nil:
		errs = append(errs, b.errorf("list xattrs", volPath, err))
	}
	listed := err == nil && b.hasKey(names, KeyGFID)
	present := func(k string) bool { return !listed || b.hasKey(names, k) }
	if g, err := b.gfidAt(a, volPath); err == nil {
		r.GFID = g
	} else if !errors.Is(err, ErrNoGFID) {
		errs = append(errs, err)
	}
	if err := b.readCountersIf(&r, a, pendingKeys, present); err != nil {
		errs = append(errs, b.errorf("read", volPath, err))
	}
	// With features.ctime on, GlusterFS reports the times kept in mdata,
	// not the inode's, so those are the times AFR compares.
	if !present(KeyMdata) {
		// No mdata: the inode's times stand.
	} else if v, err := a.getxattr(b.key(KeyMdata)); err == nil {
		if m, derr := DecodeMdata(v); derr == nil {
			r.Mtime, r.Ctime = m.Mtime, m.Ctime
		} else {
			errs = append(errs, b.errorf("read "+b.key(KeyMdata), volPath, derr))
		}
	} else if !errors.Is(err, ErrNoAttr) {
		errs = append(errs, b.errorf("read "+b.key(KeyMdata), volPath, err))
	}
	for _, full := range names {
		if IsInternalXattr(b.NS, full) {
			continue
		}
		v, err := a.getxattr(full)
		if err != nil {
			errs = append(errs, b.errorf("read "+full, volPath, err))
			continue
		}
		if r.Xattrs == nil {
			r.Xattrs = map[string]string{}
		}
		r.Xattrs[full] = string(v)
	}
	return r, errors.Join(errs...)
}

// NewEntry describes an entry to create on a brick with a known gfid.
type NewEntry struct {
	Path    string       // volume path of the new entry
	GFID    afr.GFID     // gfid to give it (the same on every brick)
	Type    afr.FileType // TypeRegular, TypeDirectory, TypeSymlink or TypeOther
	Mode    fs.FileMode  // permission bits
	Content io.Reader    // regular files: the data
	Target  string       // symlinks: the target
	// Special is the file type (unix.S_IFIFO, S_IFSOCK, S_IFCHR or
	// S_IFBLK) of a TypeOther entry, which mknod makes; Rdev is a
	// device's number.
	Special uint32
	Rdev    uint64
	// Owner, when set, is who the new entry belongs to: the caller of the
	// fop, as GlusterFS's posix gives it the frame's uid and gid. Nil
	// leaves it this process's.
	Owner *Owner
	Times *Mdata // mdata to record; nil takes the inode's times
	// Parent is the parent directory's gfid when the caller knows it
	// (entry heal does: it heals that directory); zero reads it from the
	// parent.
	Parent afr.GFID
	// NoSync skips the fsync of a new regular file. Heal sets it: it makes
	// a whole batch durable with one syncfs, and the pending counter it
	// set on the source before creating keeps the new copy a sink until
	// then.
	NoSync bool
}

// permBits are the mode bits a new entry keeps: permissions, set-id and
// sticky.
const permBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Owner is who an entry belongs to.
type Owner struct{ UID, GID uint32 }

// Create makes a new entry the way GlusterFS's posix does for a create,
// mkdir, symlink or mknod fop: the entry, its trusted.gfid, its handle, for
// non-directories its gfid2path, and its mdata. The parent must exist on the
// brick with a gfid. Regular files are written and fsynced before they get
// their gfid, so a crash never leaves a named, gfid-carrying partial file
// that looks complete.
func (b *Brick) Create(e NewEntry) error {
	_, err := b.create(e, false) // closes the file it made
	return err
}

// CreateOpen is Create for a regular file (e.Type afr.TypeRegular), which
// it returns open for reading and writing: what a FUSE create answers
// with, without opening the copy again. The caller closes it.
func (b *Brick) CreateOpen(e NewEntry) (*os.File, error) {
	if e.Type != afr.TypeRegular {
		return nil, b.errorf("create", e.Path, fmt.Errorf("cannot open a new %s", e.Type))
	}
	return b.create(e, true)
}

// create is Create; with keep, a regular file is made open for reading
// and writing and returned open.
func (b *Brick) create(e NewEntry, keep bool) (*os.File, error) {
	abs, err := b.Abs(e.Path)
	if err != nil {
		return nil, err
	}
	if e.Path == "/" || e.GFID.IsZero() {
		return nil, b.errorf("create", e.Path, fmt.Errorf("%w: need a non-root path and a gfid", ErrBadGFID))
	}
	parent, name := path.Split(path.Clean(e.Path))
	pgfid := e.Parent
	if pgfid.IsZero() {
		if pgfid, err = b.GFIDOf(parent); err != nil {
			return nil, err
		}
	}
	// Every step acts on the new entry through its parent, resolved once.
	a, err := b.resolve("create", abs)
	if err != nil {
		return nil, b.errorf("create", e.Path, err)
	}
	defer a.close()
	// A regular file's content is written once it has its gfid and
	// handle, as GlusterFS writes it in a writev after the create: a
	// write that fails (a full disk) leaves an entry heal can fill in, not
	// a nameless copy with part of the data.
	var f *os.File
	made := false
	defer func() {
		if f != nil && !made {
			f.Close()
		}
	}()
	switch e.Type {
	case afr.TypeRegular:
		acc := unix.O_WRONLY
		if keep {
			// The creating open is never refused for the mode it gives.
			acc = unix.O_RDWR
		}
		if f, err = a.createFile(abs, acc, e.Mode.Perm()); err != nil {
			return nil, b.errorf("create", e.Path, err)
		}
		// chown before chmod: a chown clears the set-id bits.
		if e.Owner != nil {
			if err := f.Chown(int(e.Owner.UID), int(e.Owner.GID)); err != nil {
				return nil, b.errorf("chown", e.Path, err)
			}
		}
		// The umask may have cut bits the caller asked for; fchmod on the
		// open file spares the path lookup of a chmod.
		if err := f.Chmod(e.Mode & permBits); err != nil {
			return nil, b.errorf("chmod", e.Path, err)
		}
	case afr.TypeDirectory:
		if err := unix.Mkdirat(a.dir, a.name, uint32(e.Mode.Perm())); err != nil {
			return nil, b.errorf("mkdir", e.Path, err)
		}
	case afr.TypeSymlink:
		if err := unix.Symlinkat(e.Target, a.dir, a.name); err != nil {
			return nil, b.errorf("symlink", e.Path, err)
		}
	case afr.TypeOther:
		if err := a.mknod(e.Special, e.Mode, e.Rdev); err != nil {
			return nil, b.errorf("mknod", e.Path, err)
		}
	default:
		return nil, b.errorf("create", e.Path, fmt.Errorf("cannot create a %s", e.Type))
	}
	if e.Owner != nil && e.Type != afr.TypeRegular {
		if err := unix.Fchownat(a.dir, a.name, int(e.Owner.UID), int(e.Owner.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return nil, b.errorf("chown", e.Path, err)
		}
	}
	if e.Type == afr.TypeDirectory || e.Type == afr.TypeOther {
		// The umask may have cut bits the caller asked for (and a chown
		// the set-id bits).
		if err := b.chmodAt(a, abs, e.Mode&permBits); err != nil {
			return nil, b.errorf("chmod", e.Path, err)
		}
	}
	if err := b.setGFIDAt(a, e.Path, e.GFID); err != nil {
		return nil, err
	}
	if e.Type == afr.TypeDirectory {
		if err := b.SymlinkDirHandle(e.GFID, pgfid, name); err != nil {
			return nil, err
		}
	} else {
		if err := b.linkFileHandleAt(a, abs, e.GFID); err != nil {
			return nil, err
		}
		if err := a.setxattr(b.key(Gfid2pathKey(pgfid, name)), []byte(Gfid2pathValue(pgfid, name)), xattr.XATTR_CREATE); err != nil && !errors.Is(normalizeXattrErr(err), fs.ErrExist) {
			return nil, b.errorf("write gfid2path", e.Path, normalizeXattrErr(err))
		}
	}
	if f != nil {
		if e.Content != nil {
			if _, err := io.Copy(f, e.Content); err != nil {
				return nil, b.errorf("write", e.Path, err)
			}
		}
		if !e.NoSync {
			if err := f.Sync(); err != nil {
				return nil, b.errorf("fsync", e.Path, err)
			}
		}
		if !keep {
			err := f.Close()
			f = nil
			if err != nil {
				return nil, b.errorf("close", e.Path, err)
			}
		}
	}
	m := e.Times
	if m != nil {
		// The inode keeps the times the mdata records, so that a copy
		// stat'ed by descriptor (an open file unlinked) answers as the
		// volume does.
		ts := []unix.Timespec{unix.NsecToTimespec(m.Atime.Sec*1e9 + m.Atime.Nsec), unix.NsecToTimespec(m.Mtime.Sec*1e9 + m.Mtime.Nsec)}
		if err := unix.UtimesNanoAt(a.dir, a.name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return nil, b.errorf("utimes", e.Path, err)
		}
	}
	if m == nil {
		var st syscall.Stat_t
		if err := a.lstat(&st); err != nil {
			return nil, b.errorf("stat", e.Path, err)
		}
		m = &Mdata{
			Ctime: afr.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
			Mtime: afr.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
			Atime: afr.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
		}
	}
	if err := a.setxattr(b.key(KeyMdata), m.Encode(), 0); err != nil {
		return nil, b.errorf("write "+b.key(KeyMdata), e.Path, normalizeXattrErr(err))
	}
	made = true
	return f, nil
}

// WriteMdata writes the mdata xattr of the entry at volPath.
func (b *Brick) WriteMdata(volPath string, m Mdata) error {
	abs, err := b.Abs(volPath)
	if err != nil {
		return err
	}
	if err := b.setXattr(abs, KeyMdata, m.Encode(), false); err != nil {
		return b.errorf("write "+b.key(KeyMdata), volPath, err)
	}
	return nil
}
