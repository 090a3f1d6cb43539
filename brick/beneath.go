package brick

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Every access to a brick resolves its path beneath the brick root without
// following a symlink anywhere on the way: brick content is written by
// clients, and afrkit runs as root. A client that replaces a directory by a
// symlink to /usr/bin between afrkit's check and its chmod must get a
// refusal, not a setuid binary. So a path is never handed to the kernel as
// a string from "/": the parent directory is opened with openat2 and
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS from a descriptor of the brick root,
// and the final component is acted on through that descriptor with the
// no-follow form of each call (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, lgetxattr).
// Calls that have no *at form (xattrs, chmod) go through
// /proc/self/fd/<fd>, a name for the very object the descriptor holds.
//
// Paths are resolved in chunks shorter than PATH_MAX, so entries deeper than
// PATH_MAX work too.

// ErrSymlinkInPath reports a symlink where afrkit needs a directory or the
// object itself: a component of a brick path that afrkit will not follow.
// It wraps ErrOutsideBrick: a symlink is a way out.
var ErrSymlinkInPath = fmt.Errorf("%w: refusing to follow a symlink", ErrOutsideBrick)

// ErrNotRegular reports an object afrkit was asked to read or write as a
// file that is a FIFO, socket, device, directory or symlink: such objects
// are never opened for content (a FIFO would block, a device would be read).
var ErrNotRegular = errors.New("brick: not a regular file")

// beneathResolve is how every brick path is resolved.
const beneathResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// chunkMax bounds one openat2 call's path, below PATH_MAX.
const chunkMax = 3072

// rootDir holds the descriptor of a brick root, opened on first use and
// closed by Close or when the Brick is garbage collected. Every use holds
// mu for reading, so Close never pulls the descriptor from under an
// openat2 that resolves beneath it (a reused descriptor number would
// resolve beneath some other directory).
type rootDir struct {
	mu      sync.RWMutex
	opened  bool
	closed  bool
	fd      int
	err     error
	cleanup runtime.Cleanup
}

// ErrClosed is returned by a Brick after Close.
var ErrClosed = errors.New("brick: closed")

// withRoot calls f with the root's descriptor, open until f returns.
func (b *Brick) withRoot(f func(fd int) error) error {
	r := b.rootDir
	if r == nil {
		return &fs.PathError{Op: "open brick root", Path: b.Root, Err: errors.New("brick: made without Open or Beneath")}
	}
	r.mu.RLock()
	if !r.opened && !r.closed {
		r.mu.RUnlock()
		r.mu.Lock()
		if !r.opened && !r.closed {
			r.opened = true
			r.fd, r.err = unix.Open(b.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if r.err != nil {
				r.err = &fs.PathError{Op: "open brick root", Path: b.Root, Err: r.err}
			} else {
				r.cleanup = runtime.AddCleanup(b, func(fd int) { unix.Close(fd) }, r.fd)
			}
		}
		r.mu.Unlock()
		r.mu.RLock()
	}
	defer r.mu.RUnlock()
	switch {
	case r.closed:
		return &fs.PathError{Op: "open brick root", Path: b.Root, Err: ErrClosed}
	case r.err != nil:
		return r.err
	}
	return f(r.fd)
}

// Close closes the brick root's descriptor, which holds the brick's
// filesystem busy: a mount lets a failed disk go this way, so that it can
// be unmounted. Every later access fails with ErrClosed; open a new Brick
// to use the directory again.
func (b *Brick) Close() error {
	if b.locks != nil {
		b.closeCounterLocks()
	}
	if b.dirFDs != nil {
		b.dirFDs.close()
	}
	r := b.rootDir
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if !r.opened || r.err != nil {
		return nil
	}
	r.cleanup.Stop()
	return unix.Close(r.fd)
}

// rel returns abs relative to the brick root, without the leading slash
// ("" for the root). abs must be the root or below it.
func (b *Brick) rel(abs string) (string, error) {
	rest, ok := strings.CutPrefix(abs, b.Root)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", &fs.PathError{Op: "resolve", Path: abs, Err: ErrOutsideBrick}
	}
	rest = strings.TrimLeft(rest, "/")
	for _, c := range strings.Split(rest, "/") {
		if c == ".." {
			return "", &fs.PathError{Op: "resolve", Path: abs, Err: ErrOutsideBrick}
		}
	}
	return rest, nil
}

// openBeneath opens the directory rel (relative to the directory dirfd)
// with O_PATH, never following a symlink and never leaving dirfd. Long
// paths are opened a chunk of components at a time.
func openBeneath(dirfd int, rel string) (int, error) {
	cur, owned := dirfd, false
	for {
		chunk, rest := rel, ""
		if len(rel) > chunkMax {
			cut := strings.LastIndexByte(rel[:chunkMax], '/')
			if cut <= 0 {
				if owned {
					unix.Close(cur)
				}
				return -1, unix.ENAMETOOLONG
			}
			chunk, rest = rel[:cut], rel[cut+1:]
		}
		// Without O_NOFOLLOW a trailing symlink fails with ELOOP
		// (RESOLVE_NO_SYMLINKS), rather than ENOTDIR.
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneathResolve}
		var fd int
		var err error
		for try := 0; ; try++ {
			fd, err = unix.Openat2(cur, chunk, &how)
			// EAGAIN: a rename raced the lookup; the kernel asks to retry.
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) || try > 16 {
				break
			}
		}
		if owned {
			unix.Close(cur)
		}
		if err != nil {
			if errors.Is(err, unix.ELOOP) {
				return -1, fmt.Errorf("%w (%w)", ErrSymlinkInPath, unix.ELOOP)
			}
			if errors.Is(err, unix.EXDEV) {
				return -1, fmt.Errorf("%w (%w)", ErrOutsideBrick, unix.EXDEV)
			}
			return -1, err
		}
		if rest == "" {
			return fd, nil
		}
		cur, owned, rel = fd, true, rest
	}
}

// at is a brick object as its parent directory's descriptor and its name.
type at struct {
	dir   int
	name  string
	owned bool // dir is ours to close
	// kept is the kept descriptor dir is (see dirFDs), given back by
	// close to from.
	kept *dirFD
	from *dirFDs
}

func (a at) close() {
	switch {
	case a.kept != nil:
		a.from.put(a.kept)
	case a.owned:
		unix.Close(a.dir)
	}
}

// lstat stats the object without following it.
func (a at) lstat(st *syscall.Stat_t) error {
	// syscall.Stat_t and unix.Stat_t are the same kernel struct.
	return unix.Fstatat(a.dir, a.name, (*unix.Stat_t)(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW)
}

// proc is a path naming the object through the parent's descriptor, for
// the calls that have no *at form. Used with the l* (no-follow) calls it
// acts on the object itself, whatever it is.
func (a at) proc() string { return procFD(a.dir) + "/" + a.name }

// procFD names the object a descriptor holds: the same inode, whatever
// has happened to its name since.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// readlink reads the object as a symlink.
func (a at) readlink() (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(a.dir, a.name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// resolve opens abs's parent directory beneath the brick root. The root
// itself resolves to (root, ".").
func (b *Brick) resolve(op, abs string) (at, error) {
	rel, err := b.rel(abs)
	if err != nil {
		return at{}, err
	}
	var a at
	err = b.withRoot(func(root int) error {
		parent, name := "", rel
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			parent, name = rel[:i], rel[i+1:]
		}
		if rel == "" {
			name = "."
		} else if name == "" || name == "." {
			return &fs.PathError{Op: op, Path: abs, Err: ErrOutsideBrick}
		}
		if parent == "" {
			// The root's own descriptor may be closed by Close while
			// the caller uses it: the caller gets a duplicate.
			fd, err := unix.FcntlInt(uintptr(root), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return &fs.PathError{Op: op, Path: abs, Err: err}
			}
			a = at{dir: fd, name: name, owned: true}
			return nil
		}
		if b.dirFDs != nil && cacheable(parent) {
			d, err := b.dirFDs.get(root, parent)
			if err != nil {
				return &fs.PathError{Op: op, Path: abs, Err: err}
			}
			a = at{dir: d.fd, name: name, kept: d, from: b.dirFDs}
			return nil
		}
		fd, err := openBeneath(root, parent)
		if err != nil {
			return &fs.PathError{Op: op, Path: abs, Err: err}
		}
		a = at{dir: fd, name: name, owned: true}
		return nil
	})
	return a, err
}

// Lstat stats the object at abs without following a symlink, anywhere.
func (b *Brick) Lstat(abs string, st *syscall.Stat_t) error {
	a, err := b.resolve("stat", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.lstat(st); err != nil {
		return &fs.PathError{Op: "stat", Path: abs, Err: err}
	}
	return nil
}

// Exists reports whether something (of any type) is at abs.
func (b *Brick) Exists(abs string) (bool, error) {
	var st syscall.Stat_t
	err := b.Lstat(abs, &st)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Readlink reads the symlink at abs.
func (b *Brick) Readlink(abs string) (string, error) {
	a, err := b.resolve("readlink", abs)
	if err != nil {
		return "", err
	}
	defer a.close()
	t, err := a.readlink()
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: abs, Err: err}
	}
	return t, nil
}

// openPath opens the object at abs with O_PATH and checks its type, so
// that the caller can act on exactly the object it checked.
func (b *Brick) openPath(op, abs string, ok func(mode uint32) bool) (int, error) {
	a, err := b.resolve(op, abs)
	if err != nil {
		return -1, err
	}
	defer a.close()
	fd, err := unix.Openat(a.dir, a.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: op, Path: abs, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &fs.PathError{Op: op, Path: abs, Err: err}
	}
	if !ok(st.Mode) {
		unix.Close(fd)
		return -1, wrongType(op, abs, st.Mode)
	}
	return fd, nil
}

// wrongType is the error of an object at abs whose mode an open refused:
// a symlink met where no path may go through one, or another type.
func wrongType(op, abs string, mode uint32) error {
	if mode&unix.S_IFMT == unix.S_IFLNK {
		return &fs.PathError{Op: op, Path: abs, Err: ErrSymlinkInPath}
	}
	return &fs.PathError{Op: op, Path: abs, Err: fmt.Errorf("%w (%s)", ErrNotRegular, modeTypeName(mode))}
}

func isReg(m uint32) bool { return m&unix.S_IFMT == unix.S_IFREG }
func isDir(m uint32) bool { return m&unix.S_IFMT == unix.S_IFDIR }

// notSymlink accepts what chmod may change: a chmod through a symlink
// would change the symlink's target.
func notSymlink(m uint32) bool { return m&unix.S_IFMT != unix.S_IFLNK }

func modeTypeName(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "unknown type"
}

// OpenFile opens the regular file at abs for reading (flag os.O_RDONLY),
// writing or both (os.O_WRONLY, os.O_RDWR, with os.O_APPEND). Anything other than a regular file is
// refused without being opened: a FIFO would block, a device would be read.
func (b *Brick) OpenFile(abs string, flag int) (*os.File, error) {
	pfd, err := b.openPath("open", abs, isReg)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pfd)
	fd, err := unix.Open(procFD(pfd), flag&(unix.O_ACCMODE|unix.O_APPEND)|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	return os.NewFile(uintptr(fd), abs), nil
}

// OpenDir opens the directory at abs for reading its names; a symlink or
// any other type is refused.
func (b *Brick) OpenDir(abs string) (*os.File, error) {
	a, err := b.resolve("open directory", abs)
	if err != nil {
		return nil, err
	}
	defer a.close()
	fd, err := unix.Openat(a.dir, a.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		err = ErrSymlinkInPath
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open directory", Path: abs, Err: err}
	}
	return os.NewFile(uintptr(fd), abs), nil
}

// CreateFile creates a new regular file at abs (O_EXCL: never through an
// existing name or symlink) and opens it for writing.
func (b *Brick) CreateFile(abs string, perm fs.FileMode) (*os.File, error) {
	return b.createFile(abs, os.O_WRONLY, perm)
}

// createFile is CreateFile opening the new file with flag's access mode
// and O_APPEND.
func (b *Brick) createFile(abs string, flag int, perm fs.FileMode) (*os.File, error) {
	a, err := b.resolve("create", abs)
	if err != nil {
		return nil, err
	}
	defer a.close()
	f, err := a.createFile(abs, flag, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: abs, Err: err}
	}
	return f, nil
}

// createFile is createFile on the resolved object a (at abs).
func (a at) createFile(abs string, flag int, perm fs.FileMode) (*os.File, error) {
	fd, err := unix.Openat(a.dir, a.name, flag&(unix.O_ACCMODE|unix.O_APPEND)|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), abs), nil
}

// Mkdir makes the directory abs.
func (b *Brick) Mkdir(abs string, perm fs.FileMode) error {
	a, err := b.resolve("mkdir", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := unix.Mkdirat(a.dir, a.name, uint32(perm.Perm())); err != nil {
		return &fs.PathError{Op: "mkdir", Path: abs, Err: err}
	}
	return nil
}

// EnsureDir makes the directory abs unless a directory is there already;
// a symlink or anything else in the way is refused. Its parent must exist.
func (b *Brick) EnsureDir(abs string, perm fs.FileMode) error {
	err := b.Mkdir(abs, perm)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	var st syscall.Stat_t
	if serr := b.Lstat(abs, &st); serr != nil {
		return serr
	}
	if !isDir(st.Mode) {
		return &fs.PathError{Op: "mkdir", Path: abs, Err: fmt.Errorf("%w: a %s is in the way", ErrSymlinkInPath, modeTypeName(st.Mode))}
	}
	return nil
}

// MkdirAll makes abs and its missing parents, refusing a symlink where a
// directory should be.
func (b *Brick) MkdirAll(abs string, perm fs.FileMode) error {
	err := b.EnsureDir(abs, perm)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := abs[:strings.LastIndexByte(abs, '/')]
	if len(parent) < len(b.Root) {
		return err
	}
	if perr := b.MkdirAll(parent, perm); perr != nil {
		return perr
	}
	if err := b.Mkdir(abs, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// Symlink makes a symlink at abs with target. The target is stored, never
// resolved.
func (b *Brick) Symlink(target, abs string) error {
	a, err := b.resolve("symlink", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := unix.Symlinkat(target, a.dir, a.name); err != nil {
		return &fs.PathError{Op: "symlink", Path: abs, Err: err}
	}
	return nil
}

// Mknod makes a fifo, socket or device node at abs: special is its type
// (unix.S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK), rdev a device's number.
func (b *Brick) Mknod(abs string, special uint32, perm fs.FileMode, rdev uint64) error {
	a, err := b.resolve("mknod", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.mknod(special, perm, rdev); err != nil {
		return &fs.PathError{Op: "mknod", Path: abs, Err: err}
	}
	return nil
}

// mknod is Mknod on the resolved object a.
func (a at) mknod(special uint32, perm fs.FileMode, rdev uint64) error {
	switch special {
	case unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR, unix.S_IFBLK:
	default:
		return fmt.Errorf("file type %#o is not a fifo, socket or device", special)
	}
	return unix.Mknodat(a.dir, a.name, special|uint32(perm.Perm()), int(rdev))
}

// Link makes newAbs a hard link of the object at oldAbs (not of a
// symlink's target).
func (b *Brick) Link(oldAbs, newAbs string) error {
	o, err := b.resolve("link", oldAbs)
	if err != nil {
		return err
	}
	defer o.close()
	return b.linkAt(o, oldAbs, newAbs)
}

// linkAt is Link of the resolved object o (at oldAbs).
func (b *Brick) linkAt(o at, oldAbs, newAbs string) error {
	n, err := b.resolve("link", newAbs)
	if err != nil {
		return err
	}
	defer n.close()
	if err := unix.Linkat(o.dir, o.name, n.dir, n.name, 0); err != nil {
		return &os.LinkError{Op: "link", Old: oldAbs, New: newAbs, Err: err}
	}
	return nil
}

// Rename renames oldAbs to newAbs; with noReplace it fails rather than
// replace something at newAbs.
func (b *Brick) Rename(oldAbs, newAbs string, noReplace bool) error {
	o, err := b.resolve("rename", oldAbs)
	if err != nil {
		return err
	}
	defer o.close()
	n, err := b.resolve("rename", newAbs)
	if err != nil {
		return err
	}
	defer n.close()
	var flags uint
	if noReplace {
		flags = unix.RENAME_NOREPLACE
	}
	if err := unix.Renameat2(o.dir, o.name, n.dir, n.name, flags); err != nil {
		return &os.LinkError{Op: "rename", Old: oldAbs, New: newAbs, Err: err}
	}
	return nil
}

// Remove unlinks a non-directory, or removes an empty directory, at abs.
func (b *Brick) Remove(abs string) error {
	a, err := b.resolve("remove", abs)
	if err != nil {
		return err
	}
	defer a.close()
	err = unix.Unlinkat(a.dir, a.name, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		if rerr := unix.Unlinkat(a.dir, a.name, unix.AT_REMOVEDIR); rerr == nil || !errors.Is(rerr, unix.ENOTDIR) {
			err = rerr
		}
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: abs, Err: err}
	}
	return nil
}

// RemoveAll removes abs and everything under it, never following a
// symlink. An absent abs is not an error.
func (b *Brick) RemoveAll(abs string) error {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if isDir(st.Mode) {
		names, err := b.ReadNames(abs)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := b.RemoveAll(abs + "/" + n); err != nil {
				return err
			}
		}
	}
	if err := b.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ReadNames lists the directory at abs, refusing a symlink.
func (b *Brick) ReadNames(abs string) ([]string, error) {
	d, err := b.OpenDir(abs)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// Chmod sets the permission and set-id bits of the object at abs. A
// symlink is refused: chmod would change its target.
func (b *Brick) Chmod(abs string, mode fs.FileMode) error {
	a, err := b.resolve("chmod", abs)
	if err != nil {
		return err
	}
	defer a.close()
	return b.chmodAt(a, abs, mode)
}

// chmodAt is Chmod on the resolved object a: fchmodat2 (Linux 6.6) with
// AT_SYMLINK_NOFOLLOW, which refuses a symlink; where the kernel lacks
// it, or the object is a symlink, the object is opened with O_PATH,
// checked and changed through its descriptor.
func (b *Brick) chmodAt(a at, abs string, mode fs.FileMode) error {
	err := unix.Fchmodat(a.dir, a.name, unixMode(mode), unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS):
		return &fs.PathError{Op: "chmod", Path: abs, Err: err}
	}
	fd, err := b.openPath("chmod", abs, notSymlink)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Chmod(procFD(fd), unixMode(mode)); err != nil {
		return &fs.PathError{Op: "chmod", Path: abs, Err: err}
	}
	return nil
}

// unixMode turns an fs.FileMode's permission and set-id bits into st_mode
// bits.
func unixMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		o |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		o |= unix.S_ISVTX
	}
	return o
}

// Lchown sets the owner of the object at abs (a symlink's own).
func (b *Brick) Lchown(abs string, uid, gid int) error {
	a, err := b.resolve("chown", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := unix.Fchownat(a.dir, a.name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "chown", Path: abs, Err: err}
	}
	return nil
}

// KeepTime, given to Utimes for a time, leaves that time as it is.
const KeepTime = -1

// Utimes sets the atime and mtime (ns) of the object at abs (a symlink's
// own); KeepTime for either leaves it.
func (b *Brick) Utimes(abs string, atimeNs, mtimeNs int64) error {
	a, err := b.resolve("utimes", abs)
	if err != nil {
		return err
	}
	defer a.close()
	spec := func(ns int64) unix.Timespec {
		if ns == KeepTime {
			return unix.Timespec{Nsec: unix.UTIME_OMIT}
		}
		return unix.NsecToTimespec(ns)
	}
	ts := []unix.Timespec{spec(atimeNs), spec(mtimeNs)}
	if err := unix.UtimesNanoAt(a.dir, a.name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimes", Path: abs, Err: err}
	}
	return nil
}

// SyncDir fsyncs the directory at abs.
func (b *Brick) SyncDir(abs string) error {
	d, err := b.OpenDir(abs)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
