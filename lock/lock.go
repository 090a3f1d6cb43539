// Package lock is AFR's inodelk and entrylk between the afrkit processes
// of one host: the mount and heal (split-brain resolution included) take
// the same locks on a brick, so heal runs while the volume is mounted and
// written; so do fsck's repairs of a named entry and of the heal index
// (those of the handle tree and the brick root take none, and are
// refused while the volume is mounted).
//
// GlusterFS keeps these locks in each brick process's locks xlator;
// afrkit has no brick process, so a brick's locks are OFD locks (fcntl
// F_OFD_SETLK) on the bytes of one file per brick (see OnBrick), which
// holds no data. An OFD lock belongs to an
// open file description, which plays GlusterFS's lk-owner: each Owner
// opens its own, so the locks of two owners conflict whether they live in
// one process or in two, and the kernel drops the locks of a process
// that dies, as the locks xlator drops those of a client that
// disconnects.
//
// Every lock is a byte range of that file. An inode's locks live in a
// region its gfid chooses, one space in it for each kind of lock (the
// data domain's ranges, the self-heal domain's, each domain's entry
// names); a name is hashed to one byte of its directory's entry space,
// and a lock of the whole directory (entrylk with no name) takes all of
// it. Two inodes or two names may share bytes: their locks then wait for
// each other needlessly, but no conflict GlusterFS would see is missed,
// because the mapping keeps every overlap.
package lock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// Domain is an inodelk or entrylk domain of one replica set.
type Domain uint8

const (
	// Data is AFR's own domain (its xlator's name, VOL-replicate-N): the
	// fops' data, metadata and entry transactions lock in it, and heal
	// locks in it what it inspects and changes.
	Data Domain = iota
	// SelfHeal is VOL-replicate-N:self-heal: a healer holds it on an
	// inode for the whole heal, so two healers never heal one inode at
	// once, while the fops, which do not take it, go on.
	SelfHeal
)

func (d Domain) String() string {
	switch d {
	case Data:
		return "data"
	case SelfHeal:
		return "self-heal"
	}
	return fmt.Sprintf("Domain(%d)", uint8(d))
}

// Key is one lock: an inode's byte range in a domain (inodelk), or a
// name in a directory in a domain (entrylk).
type Key struct {
	Domain Domain
	// GFID is the inode: the file for an inodelk, the directory for an
	// entrylk.
	GFID afr.GFID
	// Entry makes this an entrylk on Name in the directory; Name ""
	// locks the whole directory (entrylk with a NULL basename).
	Entry bool
	Name  string
	// Start and Len are an inodelk's range; Len 0 reaches to the end, so
	// (0, 0) is the whole file, as in GlusterFS.
	Start, Len int64
}

// Range is the inodelk on the bytes [start, start+n) of the file g in
// domain d; n 0 reaches to the end.
func Range(d Domain, g afr.GFID, start, n int64) Key {
	return Key{Domain: d, GFID: g, Start: start, Len: n}
}

// Whole is the inodelk on all of the file g in domain d, (0, 0).
func Whole(d Domain, g afr.GFID) Key { return Range(d, g, 0, 0) }

// Metadata is the inodelk AFR's metadata transactions and metadata heal
// take: the range from LLONG_MAX-1 in the data domain, which a whole-file
// data lock covers and a write's range does not.
func Metadata(g afr.GFID) Key { return Range(Data, g, math.MaxInt64-1, 0) }

// Name is the entrylk on name in directory dir, in domain d.
func Name(d Domain, dir afr.GFID, name string) Key {
	return Key{Domain: d, GFID: dir, Entry: true, Name: name}
}

// Dir is the entrylk on every name of directory dir, in domain d.
func Dir(d Domain, dir afr.GFID) Key { return Name(d, dir, "") }

func (k Key) String() string {
	if k.Entry {
		if k.Name == "" {
			return fmt.Sprintf("entrylk %s %s", k.Domain, k.GFID)
		}
		return fmt.Sprintf("entrylk %s %s/%s", k.Domain, k.GFID, k.Name)
	}
	return fmt.Sprintf("inodelk %s %s [%d,+%d)", k.Domain, k.GFID, k.Start, k.Len)
}

// The lock file's layout: 2^20 regions of 2^42 bytes, each cut into
// eight spaces of 2^39.
const (
	spaceBits  = 39
	spaceSize  = int64(1) << spaceBits
	regionBits = spaceBits + 3
	regions    = 1 << 20
)

// The spaces of a region.
const (
	spaceInodeData = iota
	spaceInodeSelfHeal
	spaceEntryData
	spaceEntrySelfHeal
	// spaceWant holds one byte per other space: a read lock on it says an
	// owner waits for a lock in that space (see Owner.Contended).
	spaceWant
)

func region(g afr.GFID) int64 {
	h := fnv.New64a()
	h.Write(g[:])
	return int64(h.Sum64() % regions)
}

func (k Key) space() int64 {
	switch {
	case k.Entry && k.Domain == SelfHeal:
		return spaceEntrySelfHeal
	case k.Entry:
		return spaceEntryData
	case k.Domain == SelfHeal:
		return spaceInodeSelfHeal
	}
	return spaceInodeData
}

// span is the key's bytes in the lock file: [start, start+n).
func (k Key) span() (start, n int64) {
	base := region(k.GFID)<<regionBits + k.space()<<spaceBits
	if k.Entry {
		if k.Name == "" {
			return base, spaceSize
		}
		h := fnv.New64a()
		h.Write([]byte(k.Name))
		return base + 1 + int64(h.Sum64()%uint64(spaceSize-1)), 1
	}
	// Offsets past the space are clamped to its last byte: the mapping
	// never decreases, so ranges that overlap still overlap.
	clamp := func(o int64) int64 { return min(max(o, 0), spaceSize-1) }
	lo := clamp(k.Start)
	if k.Len <= 0 || k.Start > math.MaxInt64-k.Len {
		return base + lo, spaceSize - lo
	}
	hi := clamp(k.Start+k.Len-1) + 1
	return base + lo, hi - lo
}

// want is the byte whose read lock says someone waits in k's space.
func (k Key) want() int64 {
	return region(k.GFID)<<regionBits + spaceWant<<spaceBits + k.space()
}

// Table is one brick's lock file. Its descriptors are pooled: an Owner
// takes one for as long as it holds locks and gives it back without any.
// A Table is safe for concurrent use.
type Table struct {
	open func() (*os.File, error)

	mu     sync.Mutex
	free   []*os.File
	closed bool
}

// OnBrick is brick b's lock table. Its file is not on the brick, so
// that a command which changes nothing leaves the brick as it found it:
// it is in FileDir, named by the brick root's device and inode numbers,
// which every process on the host sees the same while the brick's file
// system is mounted. It is made the first time a lock is taken.
func OnBrick(b *brick.Brick) (*Table, error) {
	var st syscall.Stat_t
	if err := b.Lstat(b.Root, &st); err != nil {
		return nil, fmt.Errorf("lock table of %s: %w", b.Root, err)
	}
	dir := FileDir()
	p := filepath.Join(dir, fmt.Sprintf("%x-%x", st.Dev, st.Ino))
	return NewTable(func() (*os.File, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	}), nil
}

// FileDir is where the lock files are: /run/afrkit/locks for root, a
// directory of the user's under the temporary directory for anyone else
// (afrkit processes of two users do not share locks; a user's processes
// are the only ones that write the user's bricks, root's aside).
func FileDir() string {
	if os.Geteuid() == 0 {
		return "/run/afrkit/locks"
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("afrkit-locks-%d", os.Geteuid()))
}

// NewTable is the lock table whose file open opens: each call must
// return a new open file description of the same file.
func NewTable(open func() (*os.File, error)) *Table {
	return &Table{open: open}
}

// ErrClosed is returned by an Owner whose Table was closed.
var ErrClosed = errors.New("lock table closed")

// Close closes the pooled descriptors; those Owners hold are closed as
// they are released. After Close, new locks fail with ErrClosed.
func (t *Table) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, f := range t.free {
		f.Close()
	}
	t.free = nil
}

func (t *Table) take() (*os.File, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(t.free); n > 0 {
		f := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return f, nil
	}
	t.mu.Unlock()
	f, err := t.open()
	if err != nil {
		return nil, fmt.Errorf("open the lock file: %w", err)
	}
	return f, nil
}

func (t *Table) give(f *os.File) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		f.Close()
		return
	}
	t.free = append(t.free, f)
}

// Owner holds locks on one Table: GlusterFS's lk-owner. Its own locks
// never conflict with each other; another Owner's do, in this process or
// another. An Owner is not safe for concurrent use.
type Owner struct {
	t *Table
	f *os.File
}

// Owner is a new lock owner on t, holding nothing.
func (t *Table) Owner() *Owner { return &Owner{t: t} }

func (o *Owner) file() (*os.File, error) {
	if o.f != nil {
		return o.f, nil
	}
	f, err := o.t.take()
	if err != nil {
		return nil, err
	}
	o.f = f
	return f, nil
}

// pollMax bounds the wait between two tries of a lock someone else holds.
const pollMax = 20 * time.Millisecond

// Lock takes every key for writing, in the order of their bytes in the
// lock file, so that two owners locking overlapping sets never wait for
// each other in a circle; it waits for keys other owners hold until ctx
// ends. On error the owner may hold some of the keys: Release lets go of
// them. (There is no giving one key back: an owner's locks on shared
// bytes merge, as GlusterFS's of one lk-owner do, so releasing one key's
// bytes would release another's too.)
//
// While it waits for a key, it marks the key's space wanted, so that an
// owner holding a lock there long (a mount's eager data lock) learns of
// it through Contended and lets go.
func (o *Owner) Lock(ctx context.Context, keys ...Key) error {
	for _, k := range sorted(keys) {
		if err := o.lock(ctx, k); err != nil {
			return fmt.Errorf("lock %s: %w", k, err)
		}
	}
	return nil
}

// TryLock takes every key if none is held by another owner, and reports
// whether it did; it never waits. When it did not, the owner may hold
// some of the keys, as after a failed Lock.
func (o *Owner) TryLock(keys ...Key) (bool, error) {
	for _, k := range sorted(keys) {
		ok, err := o.try(k)
		if err != nil || !ok {
			if err != nil {
				return false, fmt.Errorf("lock %s: %w", k, err)
			}
			return false, nil
		}
	}
	return true, nil
}

func sorted(keys []Key) []Key {
	keys = slices.Clone(keys)
	slices.SortStableFunc(keys, func(a, b Key) int {
		sa, _ := a.span()
		sb, _ := b.span()
		switch {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	return keys
}

func (o *Owner) lock(ctx context.Context, k Key) error {
	ok, err := o.try(k)
	if err != nil || ok {
		return err
	}
	f := o.f
	want := unix.Flock_t{Type: unix.F_RDLCK, Start: k.want(), Len: 1}
	if err := setlk(f, &want); err != nil {
		return err
	}
	defer func() {
		want.Type = unix.F_UNLCK
		setlk(f, &want)
	}()
	wait := 100 * time.Microsecond
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		ok, err := o.try(k)
		if err != nil || ok {
			return err
		}
		wait = min(2*wait, pollMax)
		t.Reset(wait)
	}
}

// try takes k if no other owner holds any of its bytes.
func (o *Owner) try(k Key) (bool, error) {
	f, err := o.file()
	if err != nil {
		return false, err
	}
	start, n := k.span()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: start, Len: n}
	err = setlk(f, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return false, nil
	}
	return err == nil, err
}

func setlk(f *os.File, lk *unix.Flock_t) error {
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, lk)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// Contended reports whether another owner waits for a lock in k's space
// of k's inode: the holder of a long-lived lock (an eager data lock)
// then releases it, as AFR releases its eager lock when the locks xlator
// tells it of a conflict.
func (o *Owner) Contended(k Key) bool {
	if o.f == nil {
		return false
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: k.want(), Len: 1}
	if err := unix.FcntlFlock(o.f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}

// Release releases every lock of the owner and gives its descriptor back
// to the table. The Owner may lock again afterwards.
func (o *Owner) Release() {
	if o.f == nil {
		return
	}
	all := unix.Flock_t{Type: unix.F_UNLCK, Start: 0, Len: 0}
	if err := setlk(o.f, &all); err != nil {
		// A descriptor whose locks cannot be dropped is not reused:
		// closing it drops them.
		o.f.Close()
	} else {
		o.t.give(o.f)
	}
	o.f = nil
}
