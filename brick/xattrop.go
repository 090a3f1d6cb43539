package brick

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// xattropLockName is the file whose bytes lock the changelog counters of
// the brick's inodes, one byte per slot, under .glusterfs/afrkit.
const xattropLockName = "xattrop.lock"

// xattropSlots is how many slots the inodes share: two inodes on one slot
// only wait for each other.
const xattropSlots = 4096

// lockCounters takes the lock on the changelog counters of the inode at
// abs, so that a read-modify-write of them is atomic against every other
// afrkit process and goroutine on this host (posix's xattrop holds the
// inode's lock for the same reason). It is an OFD write lock on one byte
// of the brick's lock file, chosen by the inode number; each call opens
// the file anew, because OFD locks belong to an open file description and
// two holders sharing one would not exclude each other. The lock file is
// made the first time, beneath the brick like everything else.
func (b *Brick) lockCounters(abs string) (unlock func(), err error) {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return nil, err
	}
	f, err := b.openLockFile()
	if err != nil {
		return nil, fmt.Errorf("lock the counters: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: int64(st.Ino % xattropSlots), Len: 1}
	for {
		err = unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLKW, &lk)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the counters: %w", err)
	}
	return func() { f.Close() }, nil // closing the description drops its lock
}

func (b *Brick) openLockFile() (*os.File, error) {
	p := b.GlusterPath(AfrkitDir, xattropLockName)
	f, err := b.OpenFile(p, os.O_RDWR)
	if !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	if err := b.MkdirAll(b.GlusterPath(AfrkitDir), 0o700); err != nil {
		return nil, err
	}
	f, err = b.createFile(p, os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return b.OpenFile(p, os.O_RDWR)
	}
	return f, err
}
