package brick

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// xattropLockName is the file whose bytes lock the changelog counters of
// the brick's inodes, one byte per slot, under .glusterfs/afrkit.
const xattropLockName = "xattrop.lock"

// xattropSlots is how many slots the inodes share: two inodes on one slot
// only wait for each other.
const xattropSlots = 4096

// counterLocks is a brick's lock file, opened once, and the in-process
// half of each slot's lock. An OFD lock belongs to an open file
// description, so the goroutines of one process sharing the descriptor
// do not exclude each other through it: they take the slot's mutex first.
type counterLocks struct {
	mu    sync.Mutex
	f     *os.File
	slots [xattropSlots]sync.Mutex
}

// lockCounters takes the lock on the changelog counters of the inode at
// abs, so that a read-modify-write of them is atomic against every other
// afrkit process and goroutine on this host (posix's xattrop holds the
// inode's lock for the same reason): the slot's mutex in this process,
// then an OFD write lock on the slot's byte of the brick's lock file. The
// lock file is made the first time, beneath the brick like everything
// else, and kept open until Close.
func (b *Brick) lockCounters(abs string) (unlock func(), err error) {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return nil, err
	}
	f, err := b.counterLockFile()
	if err != nil {
		return nil, fmt.Errorf("lock the counters: %w", err)
	}
	slot := st.Ino % xattropSlots
	b.locks.slots[slot].Lock()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: int64(slot), Len: 1}
	for {
		err = unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLKW, &lk)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		b.locks.slots[slot].Unlock()
		return nil, fmt.Errorf("lock the counters: %w", err)
	}
	return func() {
		lk.Type = unix.F_UNLCK
		unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		b.locks.slots[slot].Unlock()
	}, nil
}

// counterLockFile is the brick's lock file, opened (made) on first use.
func (b *Brick) counterLockFile() (*os.File, error) {
	b.locks.mu.Lock()
	defer b.locks.mu.Unlock()
	if b.locks.f != nil {
		return b.locks.f, nil
	}
	f, err := b.openLockFile()
	if err != nil {
		return nil, err
	}
	b.locks.f = f
	return f, nil
}

// closeCounterLocks closes the lock file (Close).
func (b *Brick) closeCounterLocks() {
	b.locks.mu.Lock()
	defer b.locks.mu.Unlock()
	if b.locks.f != nil {
		b.locks.f.Close()
		b.locks.f = nil
	}
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
