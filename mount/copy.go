package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

var _ gofs.NodeCopyFileRanger = (*node)(nil)

// CopyFileRange copies length bytes of the file open as fhIn, from offIn,
// into the file open as fhOut at offOut, on the bricks themselves, as
// GlusterFS's copy_file_range fop has each brick's posix copy between its
// own copies: one data transaction on the destination, with no byte
// passing through the mount. A brick whose copy of the source may not be
// read (it is blamed, or not open) is given the bytes of a copy that may.
// A copy within one file is left to the kernel, which then reads and
// writes.
func (n *node) CopyFileRange(ctx context.Context, fhIn gofs.FileHandle, offIn uint64, out *gofs.Inode,
	fhOut gofs.FileHandle, offOut uint64, length uint64, flags uint64) (uint32, syscall.Errno) {
	src, ok1 := fhIn.(*file)
	dst, ok2 := fhOut.(*file)
	if !ok1 || !ok2 || src.n == dst.n || flags != 0 {
		return 0, syscall.ENOSYS
	}
	from, err := src.sources()
	if err != nil {
		return 0, toErrno(err)
	}
	defer from.close()
	// What the source holds from offIn, by its readable copy: every brick
	// copies that much, so the copies stay the same.
	n64, err := from.available(int64(offIn), int64(length))
	if err != nil {
		return 0, toErrno(err)
	}
	if n64 == 0 {
		return 0, 0
	}
	errno := dst.dataOp(ctx, true, func(i int, fd *os.File) error {
		return from.copyTo(i, fd, int64(offIn), int64(offOut), n64)
	})
	if errno != 0 {
		return 0, errno
	}
	return uint32(n64), 0
}

// copySources are the descriptors of a source file's copies taken for a
// copy: duplicates, so that the source's own lock is not held while the
// destination's transaction runs (two copies between the same two files
// in opposite directions would otherwise wait for each other).
type copySources struct {
	fds      []*os.File // nil where the copy may not be read
	readFrom int
}

// sources duplicates the descriptors of the copies reads may come from.
func (f *file) sources() (*copySources, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mayRead := f.mayRead()
	c := &copySources{fds: make([]*os.File, len(f.fds)), readFrom: -1}
	for i, fd := range f.fds {
		if !mayRead(i) {
			continue
		}
		d, err := unix.Dup(int(fd.Fd()))
		if err != nil {
			c.close()
			return nil, err
		}
		c.fds[i] = os.NewFile(uintptr(d), fd.Name())
	}
	if f.readFrom >= 0 && c.fds[f.readFrom] != nil {
		c.readFrom = f.readFrom
	}
	if c.readFrom < 0 {
		c.close()
		return nil, syscall.EIO // no copy may be read: a data split-brain
	}
	return c, nil
}

func (c *copySources) close() {
	for _, fd := range c.fds {
		if fd != nil {
			fd.Close()
		}
	}
}

// available is how many of the n bytes from off the source holds.
func (c *copySources) available(off, n int64) (int64, error) {
	st, err := c.fds[c.readFrom].Stat()
	if err != nil {
		return 0, err
	}
	return max(0, min(n, st.Size()-off)), nil
}

// copyTo copies n bytes at off of the source into dst at at, on brick i:
// from brick i's own copy of the source when it may be read, else from
// the copy reads come from.
func (c *copySources) copyTo(i int, dst *os.File, off, at, n int64) error {
	if src := c.fds[i]; src != nil {
		for n > 0 {
			k, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), &at, int(n), 0)
			if err != nil && !errors.Is(err, unix.EXDEV) && !errors.Is(err, unix.EOPNOTSUPP) {
				return err
			}
			if err != nil || k == 0 {
				break // the file systems cannot copy: by hand below
			}
			n -= int64(k)
		}
		if n == 0 {
			return nil
		}
	}
	_, err := io.Copy(io.NewOffsetWriter(dst, at), io.NewSectionReader(c.fds[c.readFrom], off, n))
	return err
}
