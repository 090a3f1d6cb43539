package mount

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/engine"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
	"golang.org/x/sys/unix"
)

// Event is a brick going down or coming back.
type Event struct {
	Brick int    // position in the replica set
	Label string // the brick as GlusterFS names it, host:/path
	Up    bool
	// Reason says why a brick went down (the error that took it).
	Reason string
}

// Options tune a Volume.
type Options struct {
	// PostOpDelay is how long a file's data transaction stays open after
	// its last write before the post-op is written (GlusterFS's
	// cluster.post-op-delay-secs, 1 s). fsync, flush and close write it
	// at once.
	PostOpDelay time.Duration
	// ProbeInterval is how often a brick that is down is checked.
	ProbeInterval time.Duration
	// Events, when set, is called for each brick going down or up, from
	// one goroutine at a time, in order; it must not block for long.
	Events func(Event)
	// Log receives what the mount cannot tell a caller: a brick going
	// down, a post-op that failed. Nil discards it.
	Log *log.Logger
	// HistoryPath is the volume's history (heal.HistoryPath): where a
	// split-brain resolved through replica.split-brain-heal-finalize is
	// recorded, so it can be undone. Without it finalize is refused.
	HistoryPath string
}

// Volume is one replica set served: its bricks, which are up, and the
// transaction settings its volume options give.
type Volume struct {
	vol     *volume.Volume
	id      afr.GFID
	labels  []string
	keys    []string
	afrOpts afr.Options
	opts    Options

	mu      sync.Mutex
	bricks  []*brick.Brick // nil while down
	indexes []*index.Index
	down    []string // why each brick is down; "" when up
	// needFree is, for a brick taken down for want of space, the free
	// bytes it must have to be taken back: what it had when it failed,
	// plus the reserve (a file system with delayed allocation refuses a
	// write with space still free).
	needFree []uint64
	// unlock releases each brick's mount lock (volume.LockMount), held
	// while the brick is up, so that no other mount serves it; nil while
	// down.
	unlock []func()
	// locks are the bricks' AFR lock tables (nil while down): every
	// transaction locks in them, as heal does.
	locks  []*lock.Table
	files  map[*file]struct{}
	events chan Event

	// live admits the fops that write bricks (read-locked by each) until
	// Close (write-locked) sets closed.
	live   sync.RWMutex
	closed bool

	// gen counts what may leave a copy behind: a brick going down or
	// coming back, a fop that failed on a brick or left one out. A read
	// source found readable at one generation is trusted while the
	// generation stands (see node.trustedSource), as AFR trusts the read
	// subvolume in its inode context until its event generation moves.
	gen atomic.Uint64

	stop chan struct{}
	wg   sync.WaitGroup
}

// DefaultPostOpDelay is GlusterFS's cluster.post-op-delay-secs.
const DefaultPostOpDelay = time.Second

// Open opens the volume's bricks for serving. It serves one replica set:
// a volume of several (distributed) sets is refused, since which set
// holds a name is DHT's to decide. A brick that cannot be opened starts
// down, as GlusterFS's client starts with a brick it cannot reach.
func Open(v *volume.Volume, opts Options) (*Volume, error) {
	sets := heal.ReplicaSets(v)
	if len(sets) != 1 {
		return nil, fmt.Errorf("volume %s has %d replica sets: afrkit mounts a single replica set (distribute count 1)", v.Name, len(sets))
	}
	afrOpts, err := heal.Options(v)
	if err != nil {
		return nil, err
	}
	id, err := brick.ParseGFID(v.ID)
	if err != nil {
		return nil, fmt.Errorf("volume %s: volume-id: %w", v.Name, err)
	}
	if opts.PostOpDelay == 0 {
		opts.PostOpDelay = DefaultPostOpDelay
	}
	if opts.ProbeInterval == 0 {
		opts.ProbeInterval = 2 * time.Second
	}
	rs := sets[0]
	n := len(rs.Bricks)
	m := &Volume{vol: v, id: id, labels: rs.Labels, keys: rs.Keys, afrOpts: afrOpts, opts: opts,
		bricks: make([]*brick.Brick, n), indexes: make([]*index.Index, n), down: make([]string, n), needFree: make([]uint64, n), unlock: make([]func(), n), locks: make([]*lock.Table, n),
		files: map[*file]struct{}{}, events: make(chan Event, 64), stop: make(chan struct{})}
	for i, vb := range rs.Bricks {
		if rs.Err[i] != nil {
			m.down[i] = rs.Err[i].Error()
			continue
		}
		unlock, err := v.LockMount(vb)
		if err != nil {
			m.release()
			return nil, err
		}
		m.bricks[i], m.indexes[i], m.unlock[i] = rs.Open[i], rs.Indexes[i], unlock
		if m.locks[i], err = lock.OnBrick(rs.Open[i]); err != nil {
			m.release()
			return nil, err
		}
	}
	if m.upCount() == 0 {
		return nil, fmt.Errorf("volume %s: no brick can be opened: %s", v.Name, m.down[0])
	}
	// Generation 0 means "not trusted" to node.setSource.
	m.gen.Store(1)
	m.wg.Add(2)
	go m.deliver()
	go m.probe()
	return m, nil
}

// Close writes every open file's post-op, waits for the fops under way,
// stops probing and delivering events, and lets go of the bricks. The
// caller unmounts first; a fop that comes after (a release the kernel
// sent late) writes nothing.
func (m *Volume) Close() {
	if err := m.Flush(context.Background()); err != nil {
		m.logf("closing: %v", err)
	}
	m.live.Lock()
	m.closed = true
	m.live.Unlock()
	close(m.stop)
	m.wg.Wait()
	m.release()
}

// release closes every brick and releases its locks.
func (m *Volume) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, b := range m.bricks {
		if b != nil {
			b.Close()
			m.indexes[i].Close()
		}
		if m.locks[i] != nil {
			m.locks[i].Close()
		}
		if m.unlock[i] != nil {
			m.unlock[i]()
		}
		m.bricks[i], m.indexes[i], m.unlock[i], m.locks[i] = nil, nil, nil, nil
	}
}

func (m *Volume) logf(format string, args ...any) {
	if m.opts.Log != nil {
		m.opts.Log.Printf(format, args...)
	}
}

func (m *Volume) upCount() int {
	n := 0
	for _, b := range m.bricks {
		if b != nil {
			n++
		}
	}
	return n
}

// Down reports why each brick is down ("" for a brick that is up).
func (m *Volume) Down() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.down...)
}

// set is a snapshot of the replica set for one transaction: the bricks up
// now. A brick going down during the transaction fails its fop there and
// is blamed.
func (m *Volume) set() *engine.Set {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &engine.Set{Bricks: make([]*brick.Brick, len(m.bricks)), Indexes: make([]*index.Index, len(m.bricks)),
		Keys: m.keys, Up: make([]bool, len(m.bricks)), Locks: slices.Clone(m.locks), QuorumCount: m.afrOpts.QuorumCount,
		Optimistic: m.vol.Option("cluster.optimistic-change-log", "on") != "off", Granular: m.afrOpts.GranularEntryHeal,
		// The bricks are separate disks: each step goes to all at once,
		// as AFR winds a fop to every child before any answers.
		Parallel: true, Arbiter: m.vol.ArbiterPosition() >= 0}
	for i, b := range m.bricks {
		// A down brick keeps a stand-in so the set's shape stays; Up
		// false means it is never touched.
		s.Bricks[i], s.Indexes[i], s.Up[i] = b, m.indexes[i], b != nil
		if b == nil {
			s.Bricks[i] = brick.Beneath("/nonexistent")
		}
	}
	return s
}

// watchedSet is set, with each brick's fop error recorded in errs, for
// checkFailed, for a fop that writes the bricks: done ends it. After
// Close it fails with ENOTCONN, as a client whose bricks are gone.
func (m *Volume) watchedSet() (s *engine.Set, errs []error, done func(), errno syscall.Errno) {
	done, errno = m.enter()
	if errno != 0 {
		return nil, nil, nil, errno
	}
	s = m.set()
	errs = make([]error, len(s.Bricks))
	s.OnError = func(i int, err error) { errs[i] = err }
	return s, errs, done, 0
}

// enter admits a fop that writes the bricks, until Close: Close waits
// for every fop admitted to end, so nothing is written to a brick after
// it returns. done ends the fop.
func (m *Volume) enter() (done func(), errno syscall.Errno) {
	m.live.RLock()
	if m.closed {
		m.live.RUnlock()
		return nil, syscall.ENOTCONN
	}
	return m.live.RUnlock, 0
}

// upOnly leaves the bricks of s that are down out, for checkFailed.
func upOnly(s *engine.Set) []*brick.Brick {
	out := make([]*brick.Brick, len(s.Bricks))
	for i, b := range s.Bricks {
		if s.Up[i] {
			out[i] = b
		}
	}
	return out
}

// upBricks returns the bricks that are up now (nil where down).
func (m *Volume) upBricks() []*brick.Brick {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*brick.Brick(nil), m.bricks...)
}

// failingDisk reports whether err is how a failing or full disk answers:
// the fop's failure says nothing about the file, everything about the
// brick.
func failingDisk(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}

// checkFailed looks at the errors a fop met on each brick and takes down
// the bricks that failed as a dying disk does, or whose root is no longer
// the brick (an unmounted disk leaves an empty directory behind).
//
// A failing-disk error counts only when the fop succeeded on another
// brick: the same error everywhere is the fop's (a value too large for
// any brick's xattr space answers ENOSPC), not one disk's.
func (m *Volume) checkFailed(b []*brick.Brick, errs []error) {
	succeeded := func(i int) bool {
		for k := range b {
			if k != i && b[k] != nil && errs[k] == nil {
				return true
			}
		}
		return false
	}
	for i, err := range errs {
		if err == nil || b[i] == nil {
			continue
		}
		m.leftBehind()
		if failingDisk(err) && succeeded(i) {
			m.takeDown(b[i], err)
			continue
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE) {
			if cerr := b[i].CheckVolumeID(m.id); cerr != nil {
				m.takeDown(b[i], cerr)
			}
		}
	}
}

// takeDown marks brick b down for err, unless it is already: nothing is
// written to it any more, and every open file closes its descriptor
// there, so the disk can be unmounted.
func (m *Volume) takeDown(b *brick.Brick, err error) {
	reason := err.Error()
	var need uint64
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		if free, size, serr := space(b.Root); serr == nil {
			need = free + size/100
		}
	}
	m.mu.Lock()
	i := -1
	for k, x := range m.bricks {
		if x == b {
			i = k
		}
	}
	if i < 0 {
		m.mu.Unlock()
		return
	}
	m.needFree[i] = need
	ix, unlock, locks := m.indexes[i], m.unlock[i], m.locks[i]
	m.bricks[i], m.indexes[i], m.unlock[i], m.locks[i], m.down[i] = nil, nil, nil, nil, reason
	files := make([]*file, 0, len(m.files))
	for f := range m.files {
		files = append(files, f)
	}
	m.mu.Unlock()
	b.Close()
	ix.Close()
	// Locks that transactions under way hold are let go as they end.
	locks.Close()
	unlock()
	for _, f := range files {
		f.letGo(i)
	}
	m.leftBehind()
	m.logf("brick %s is down: %s", m.labels[i], reason)
	m.emit(Event{Brick: i, Label: m.labels[i], Up: false, Reason: reason})
}

// leftBehind records that a copy may have been left behind: every read
// source found before is looked up again.
func (m *Volume) leftBehind() { m.gen.Add(1) }

func (m *Volume) emit(e Event) {
	select {
	case m.events <- e:
	default:
		m.logf("event dropped: brick %s up=%v", e.Label, e.Up)
	}
}

// deliver calls Options.Events for each event, one at a time, in order.
func (m *Volume) deliver() {
	defer m.wg.Done()
	for {
		select {
		case <-m.stop:
			return
		case e := <-m.events:
			if m.opts.Events != nil {
				m.opts.Events(e)
			}
		}
	}
}

// probe checks the bricks that are down and takes each back once it is
// the volume's brick again (its root carries the volume-id) and can be
// written (not read-only, not full).
func (m *Volume) probe() {
	defer m.wg.Done()
	t := time.NewTicker(m.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		for i, vb := range m.vol.Bricks {
			m.mu.Lock()
			isDown := m.bricks[i] == nil
			m.mu.Unlock()
			if isDown {
				m.tryUp(i, vb)
			}
		}
	}
}

// tryUp takes brick i back if it is healthy again.
func (m *Volume) tryUp(i int, vb volume.Brick) {
	m.mu.Lock()
	need := m.needFree[i]
	m.mu.Unlock()
	b, err := heal.OpenBrick(m.vol, vb)
	var unlock func()
	var locks *lock.Table
	if err == nil {
		err = healthy(b, need)
		if err == nil {
			locks, err = lock.OnBrick(b)
		}
		if err == nil {
			unlock, err = m.vol.LockMount(vb)
		}
		if err != nil {
			b.Close()
		}
	}
	if err != nil {
		m.mu.Lock()
		m.down[i] = err.Error()
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	m.bricks[i], m.indexes[i], m.unlock[i], m.locks[i], m.down[i] = b, index.OpenNS(b.Root, b.NS), unlock, locks, ""
	files := make([]*file, 0, len(m.files))
	for f := range m.files {
		files = append(files, f)
	}
	m.mu.Unlock()
	for _, f := range files {
		f.reopen(i, b)
	}
	m.leftBehind()
	m.logf("brick %s is up", m.labels[i])
	m.emit(Event{Brick: i, Label: m.labels[i], Up: true})
}

// healthy reports why brick b cannot take writes: mounted read-only, or
// with no more than need bytes free, or less than GlusterFS's
// storage.reserve keeps (1% of the file system).
func healthy(b *brick.Brick, need uint64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(b.Root, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", b.Root, err)
	}
	if st.Flags&unix.ST_RDONLY != 0 {
		return fmt.Errorf("%s is mounted read-only", b.Root)
	}
	free, size := st.Bavail*uint64(st.Bsize), st.Blocks*uint64(st.Bsize)
	if free <= size/100 || free <= need {
		return fmt.Errorf("%s is full: %d bytes free of %d, %d needed", b.Root, free, size, max(need, size/100)+1)
	}
	return healthCheck(b)
}

// healthCheck writes the time to the brick's .glusterfs/health_check and
// fsyncs it, as GlusterFS's posix health check does: a disk that fails
// writes (an ext4 that aborted its journal answers EIO before it shows
// read-only) stays down.
func healthCheck(b *brick.Brick) error {
	f, err := b.OpenOrCreate(b.GlusterPath("health_check"), os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(time.Now().UTC().Format(time.RFC3339Nano)+"\n"), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("health check of %s: %w", b.Root, err)
	}
	return nil
}

// space is the free and whole size of the file system at dir, in bytes.
func space(dir string) (free, size uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// Flush writes the post-op of every file's open data transaction.
func (m *Volume) Flush(ctx context.Context) error {
	m.mu.Lock()
	files := make([]*file, 0, len(m.files))
	for f := range m.files {
		files = append(files, f)
	}
	m.mu.Unlock()
	var errs []error
	for _, f := range files {
		errs = append(errs, f.postOp(ctx))
	}
	return errors.Join(errs...)
}
