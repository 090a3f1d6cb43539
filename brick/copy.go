package brick

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNoSpace reports that a copy would not fit in the free space of the
// brick's filesystem; it is checked before the copy starts, so a failed
// copy never half-fills a brick.
var ErrNoSpace = errors.New("brick: not enough free space for the copy")

// CopyFile copies the regular file at srcAbs to a new file at dstAbs on the
// same brick (afrkit's keep store), durably: data, then fsync of the file
// and of its directory. Holes stay holes, so a sparse file's copy takes the
// space its data takes, and that space is checked to be free before the
// copy starts. A copy that fails is removed: a partial copy is never left
// for somebody to take for the real thing.
func (b *Brick) CopyFile(srcAbs, dstAbs string) error {
	src, err := b.OpenFile(srcAbs, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := b.CreateFile(dstAbs, 0o600)
	if err != nil {
		return err
	}
	err = b.copyContent(dst, src, srcAbs)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = b.SyncDir(filepath.Dir(dstAbs))
	}
	if err != nil {
		if rerr := b.Remove(dstAbs); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("copy %s: %w (and the partial copy %s could not be removed: %v)", b.RelToRoot(srcAbs), err, dstAbs, rerr)
		}
		return fmt.Errorf("copy %s: %w", b.RelToRoot(srcAbs), err)
	}
	return nil
}

// copyContent makes dst hold src's content, holes kept, and fsyncs it,
// once the free space for the blocks it will add is checked.
func (b *Brick) copyContent(dst, src *os.File, srcAbs string) error {
	var ss, ds syscall.Stat_t
	if err := syscall.Fstat(int(src.Fd()), &ss); err != nil {
		return &fs.PathError{Op: "stat", Path: srcAbs, Err: err}
	}
	if err := syscall.Fstat(int(dst.Fd()), &ds); err != nil {
		return &fs.PathError{Op: "stat", Path: dst.Name(), Err: err}
	}
	if err := b.checkFree((ss.Blocks - ds.Blocks) * 512); err != nil {
		return err
	}
	if err := dst.Truncate(0); err != nil {
		return err
	}
	if err := copySparse(dst, src, ss.Size); err != nil {
		return err
	}
	return dst.Sync()
}

// RoomToCopy fails with ErrNoSpace unless the brick has room for a copy
// of the regular file at abs made by CopyFile: the blocks its data takes.
// A caller about to make several changes, one of them a copy, asks first.
func (b *Brick) RoomToCopy(abs string) error {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return err
	}
	return b.checkFree(st.Blocks * 512)
}

// checkFree fails with ErrNoSpace unless need bytes are free on the brick's
// filesystem for an unprivileged writer (root's reserve is for the system).
func (b *Brick) checkFree(need int64) error {
	var sf unix.Statfs_t
	err := b.withRoot(func(fd int) error {
		if err := unix.Fstatfs(fd, &sf); err != nil {
			return &fs.PathError{Op: "statfs", Path: b.Root, Err: err}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if free := int64(sf.Bavail) * sf.Bsize; need > free {
		return fmt.Errorf("%w: it needs %d bytes, %d are free on %s", ErrNoSpace, need, free, b.Root)
	}
	return nil
}

// copySparse copies the first size bytes of src to the empty dst, writing
// only src's data segments; the rest stays a hole.
func copySparse(dst, src *os.File, size int64) error {
	if err := dst.Truncate(size); err != nil {
		return err
	}
	for off := int64(0); off < size; {
		data, err := SeekData(src, off)
		if err != nil {
			return err
		}
		if data < 0 || data >= size {
			return nil // only a hole is left
		}
		end, err := HoleAfter(src, data, size)
		if err != nil {
			return err
		}
		if err := copyRange(dst, src, data, end-data); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// copyRange copies n bytes at off from src to the same offset of dst, in
// the kernel where it can.
func copyRange(dst, src *os.File, off, n int64) error {
	roff, woff := off, off
	for n > 0 {
		m, err := unix.CopyFileRange(int(src.Fd()), &roff, int(dst.Fd()), &woff, int(min(n, 1<<30)), 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if CopyRangeUnsupported(err) {
			_, err := io.Copy(io.NewOffsetWriter(dst, woff), io.NewSectionReader(src, roff, n))
			return err
		}
		if err != nil {
			return err
		}
		if m == 0 {
			return io.ErrUnexpectedEOF
		}
		n -= int64(m)
	}
	return nil
}

// CopyRangeUnsupported reports whether copy_file_range failed because it
// cannot copy between these files at all (another filesystem on an older
// kernel, a filesystem without it), not because of an I/O error.
func CopyRangeUnsupported(err error) bool {
	return errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) ||
		errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)
}

// SeekData is lseek with SEEK_DATA: where the data at or after off starts
// in f, -1 when there is none (ENXIO), off when the filesystem cannot tell
// (all of it is data then).
func SeekData(f *os.File, off int64) (int64, error) {
	n, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return -1, nil
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return off, nil
	}
	return n, err
}

// HoleAfter is where the data at off ends in f (SEEK_HOLE), at most size;
// size when the filesystem cannot tell.
func HoleAfter(f *os.File, off, size int64) (int64, error) {
	n, err := unix.Seek(int(f.Fd()), off, unix.SEEK_HOLE)
	if errors.Is(err, unix.ENXIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return size, nil
	}
	if err != nil {
		return 0, err
	}
	if n <= off {
		// Not a hole after data at off; read on to the end.
		return size, nil
	}
	return min(n, size), nil
}

// WriteFileDurable writes a new file at abs with data, and fsyncs it and
// its directory.
func (b *Brick) WriteFileDurable(abs string, data []byte) error {
	f, err := b.CreateFile(abs, 0o600)
	if err != nil {
		return err
	}
	if err := writeSyncClose(f, data); err != nil {
		return &fs.PathError{Op: "write", Path: abs, Err: err}
	}
	return b.SyncDir(filepath.Dir(abs))
}

// writeSyncClose writes data to f, fsyncs and closes it, returning the
// first error.
func writeSyncClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Walk calls fn for abs and, when it is a directory, everything under it,
// parents before children, never following a symlink. fn sees each
// object's lstat.
func (b *Brick) Walk(abs string, fn func(abs string, st *syscall.Stat_t) error) error {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return err
	}
	if err := fn(abs, &st); err != nil {
		return err
	}
	if !isDir(st.Mode) {
		return nil
	}
	names, err := b.ReadNames(abs)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := b.Walk(abs+"/"+n, fn); err != nil {
			return err
		}
	}
	return nil
}

// CopyInto makes the existing regular file at dstAbs hold the content of
// the regular file at srcAbs (undo putting a kept copy back under the
// inode's every name), keeping holes, and fsyncs it.
func (b *Brick) CopyInto(srcAbs, dstAbs string) error {
	src, err := b.OpenFile(srcAbs, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := b.OpenFile(dstAbs, os.O_RDWR)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := b.copyContent(dst, src, srcAbs); err != nil {
		return fmt.Errorf("copy %s: %w", b.RelToRoot(srcAbs), err)
	}
	return nil
}

// ReadFile reads the regular file at abs (afrkit's own small files in the
// keep store).
func (b *Brick) ReadFile(abs string) ([]byte, error) {
	f, err := b.OpenFile(abs, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// OpenOrCreate opens the regular file at abs with flag (os.O_RDWR,
// os.O_WRONLY|os.O_APPEND, ...), creating it with perm when absent. What
// is there already is opened as OpenFile opens it: a symlink, FIFO, device
// or directory is refused without being opened (an open with O_CREAT
// would open an existing device).
func (b *Brick) OpenOrCreate(abs string, flag int, perm fs.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := b.OpenFile(abs, flag)
		if !errors.Is(err, fs.ErrNotExist) || try == 3 {
			return f, err
		}
		f, err = b.createFile(abs, flag, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		// Made by somebody else between the two calls: open that.
	}
}

// AppendDurable appends data to the file at abs, creating it (mode 0600)
// when absent, and fsyncs it.
func (b *Brick) AppendDurable(abs string, data []byte) error {
	f, err := b.OpenOrCreate(abs, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if err := writeSyncClose(f, data); err != nil {
		return &fs.PathError{Op: "append", Path: abs, Err: err}
	}
	return nil
}
