package mount

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/engine"
)

// file is an open regular file: a descriptor on every brick that had the
// file when it was opened, the copy reads come from, and the data
// transaction its writes run in (eager lock, delayed post-op).
type file struct {
	n *node
	m *Volume
	// acc is the access mode the brick descriptors are opened with.
	acc int

	// mu guards everything below. Lock order: node.data, then mu.
	mu       sync.Mutex
	bricks   []*brick.Brick
	fds      []*os.File // nil where not open (down, or without the file)
	readFrom int        // -1: no copy may be read (split-brain)
	// readable are the copies afr.Readable allowed when the file was
	// opened: the only ones reads may move to.
	readable []bool
	sess     *engine.DataSession
	// written: the session changed content, so its post-op records a
	// modification time in the copies' mdata.
	written bool
	timer   *time.Timer
	closed  bool
}

var (
	_ gofs.FileReader    = (*file)(nil)
	_ gofs.FileWriter    = (*file)(nil)
	_ gofs.FileFlusher   = (*file)(nil)
	_ gofs.FileFsyncer   = (*file)(nil)
	_ gofs.FileReleaser  = (*file)(nil)
	_ gofs.FileAllocater = (*file)(nil)
	_ gofs.FileLseeker   = (*file)(nil)
)

// open opens the file's copy on every brick that is up, through its gfid
// handle, and chooses the copy to read: one afr.Readable allows.
func (n *node) open(flags uint32) (*file, syscall.Errno) {
	if n.typ != afr.TypeRegular {
		return nil, syscall.EINVAL
	}
	c := n.copies()
	_, _, _, errno := c.entry()
	if errno != 0 {
		return nil, errno
	}
	// The brick descriptors never append: the kernel gives every write
	// its offset, and pwrite on an O_APPEND descriptor ignores it.
	acc := int(flags) & syscall.O_ACCMODE
	f := &file{n: n, m: n.m, acc: acc, bricks: c.bricks, fds: make([]*os.File, len(c.bricks)), readFrom: -1}
	errs := make([]error, len(c.bricks))
	for i, b := range c.bricks {
		if b == nil || !c.replies[i].Exists {
			continue
		}
		fd, err := b.OpenFile(b.HandlePath(n.gfid), acc)
		if err != nil {
			errs[i] = err
			continue
		}
		f.fds[i] = fd
	}
	n.m.checkFailed(c.bricks, errs)
	f.readable = afr.Readable(c.replies, afr.Data, true)
	for i := range f.readable {
		if f.readable[i] && f.fds[i] != nil {
			f.readFrom = i
			break
		}
	}
	opened := 0
	for _, fd := range f.fds {
		if fd != nil {
			opened++
		}
	}
	if opened == 0 {
		for _, err := range errs {
			if err != nil {
				return nil, toErrno(err)
			}
		}
		return nil, syscall.ENOENT
	}
	n.m.mu.Lock()
	n.m.files[f] = struct{}{}
	n.m.mu.Unlock()
	return f, 0
}

// openNew is the file a create answers with: the new copies, made open
// by the create on each brick that made them (files, nil elsewhere).
// Every copy made is the same, so each is readable.
func (n *node) openNew(flags uint32, files []*os.File) (*file, syscall.Errno) {
	bs := n.m.upBricks()
	readable := make([]bool, len(files))
	f := &file{n: n, m: n.m, acc: int(flags) & syscall.O_ACCMODE, bricks: bs, fds: make([]*os.File, len(bs)), readFrom: -1, readable: readable}
	for i, fd := range files {
		if fd == nil {
			continue
		}
		if i >= len(bs) || bs[i] == nil {
			// The brick went down since: the create's descriptor there
			// is let go, as letGo does.
			fd.Close()
			continue
		}
		f.fds[i], readable[i] = fd, true
		if f.readFrom < 0 {
			f.readFrom = i
		}
	}
	if f.readFrom < 0 {
		return nil, syscall.EIO
	}
	n.m.mu.Lock()
	n.m.files[f] = struct{}{}
	n.m.mu.Unlock()
	return f, 0
}

// letGo closes the file's descriptor on brick i, which went down.
func (f *file) letGo(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fds[i] != nil {
		f.fds[i].Close()
		f.fds[i] = nil
	}
	if f.readFrom == i {
		f.readFrom = f.otherSource(i)
	}
}

// reopen opens the file's copy on brick b, which came back as brick i,
// as GlusterFS's client reopens a file's descriptors when a brick
// reconnects: the file's next data transactions write it again instead
// of blaming it. The copy is behind (the survivors blame it until heal),
// so reads never come from it. A copy the brick does not have (made while
// it was down) is left to heal.
func (f *file) reopen(i int, b *brick.Brick) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.fds[i] != nil {
		return
	}
	fd, err := b.OpenFile(b.HandlePath(f.n.gfid), f.acc)
	if err != nil {
		return
	}
	// It may have missed writes while it was down.
	f.fds[i], f.bricks[i], f.readable[i] = fd, b, false
}

// leaveBehind records that the copies a data session failed are behind
// from now on (its post-op blames them): the file neither reads nor stats
// them again, also after the session ends. f.mu is held.
func (f *file) leaveBehind(failed []bool) {
	for i, fl := range failed {
		if fl {
			f.readable[i] = false
		}
	}
	if f.readFrom >= 0 && !f.readable[f.readFrom] {
		f.readFrom = f.otherSource(f.readFrom)
	}
}

// otherSource is a copy to read instead of brick i's: one that is open
// and has not failed a write of this file's session. A copy that was not
// readable when the file was opened never becomes so here.
func (f *file) otherSource(i int) int {
	mayRead := f.mayRead()
	for k := range f.fds {
		if k != i && mayRead(k) {
			return k
		}
	}
	return -1
}

// mayRead tells which copies reads may come from now: open, readable
// when the file was opened (or reopened), and not failed by the file's
// data session. f.mu is held while it is used.
func (f *file) mayRead() func(k int) bool {
	var failed []bool
	if f.sess != nil {
		failed = f.sess.Failed()
	}
	return func(k int) bool {
		return f.fds[k] != nil && f.readable[k] && (failed == nil || !failed[k])
	}
}

// Read reads from the chosen copy; a copy that fails as a dying disk does
// is taken down and the read goes to another.
func (f *file) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		i := f.readFrom
		if i < 0 {
			// No copy may be read (a data split-brain): the copy a person
			// chose, while the choice lasts, or EIO, as GlusterFS answers.
			i = f.n.chosen()
		}
		if i < 0 || f.fds[i] == nil {
			return nil, syscall.EIO
		}
		n, err := f.fds[i].ReadAt(dest, off)
		if err == nil || errors.Is(err, io.EOF) {
			return fuse.ReadResultData(dest[:n]), 0
		}
		if !failingDisk(err) {
			return nil, toErrno(err)
		}
		f.mu.Unlock()
		f.m.takeDown(f.bricks[i], err)
		f.mu.Lock()
		if f.readFrom == i {
			f.readFrom = f.otherSource(i)
		}
	}
}

// dataOp runs op on every copy as part of the file's data session,
// beginning one if none is open. A copy op fails on is blamed: the
// post-op is written at once (as AFR does when a fop failed), and a
// failing disk is taken down. Otherwise the post-op waits PostOpDelay
// for more writes.
func (f *file) dataOp(ctx context.Context, modifies bool, op func(i int, fd *os.File) error) syscall.Errno {
	done, errno := f.m.enter()
	if errno != 0 {
		return errno
	}
	defer done()
	f.n.data.Lock()
	defer f.n.data.Unlock()
	if h := f.n.holder.Load(); h != nil && h != f {
		// Another open file of the inode holds its data lock.
		f.n.endSession()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return syscall.EBADF
	}
	if f.sess == nil {
		s := f.m.set()
		for i := range s.Up {
			// A brick the file is not open on takes no part, and is
			// blamed.
			s.Up[i] = s.Up[i] && f.fds[i] != nil && s.Bricks[i] == f.bricks[i]
		}
		sess, err := s.BeginData(uninterrupted(ctx), f.n.inode())
		if err != nil {
			return toErrno(err)
		}
		if count(sess.Locked()) == 0 {
			// The file has no name left on any brick (unlinked while
			// open): there is nothing to heal, and nothing to lock.
			sess.End(context.Background())
			return f.direct(op)
		}
		if count(sess.Failed()) > 0 {
			// A brick the file is not open on, or whose pre-op failed,
			// is blamed.
			f.m.leftBehind()
			f.leaveBehind(sess.Failed())
		}
		f.sess = sess
		f.n.holder.Store(f)
	}
	errs := make([]error, len(f.fds))
	ran := make([]*brick.Brick, len(f.fds))
	before := count(f.sess.Failed())
	err := f.sess.Write(uninterrupted(ctx), func(i int, _ *brick.Brick) error {
		ran[i] = f.bricks[i]
		if f.fds[i] == nil {
			errs[i] = syscall.ENOTCONN
		} else {
			errs[i] = op(i, f.fds[i])
		}
		return errs[i]
	})
	f.written = f.written || modifies
	if err != nil || count(f.sess.Failed()) > before {
		f.leaveBehind(f.sess.Failed())
		perr := f.endLocked(context.Background())
		f.mu.Unlock()
		f.m.checkFailed(ran, errs)
		f.mu.Lock()
		if err != nil {
			return toErrno(err)
		}
		return toErrno(perr)
	}
	if f.sess.Contended() {
		// Someone waits for the file's lock (a heal): let go now
		// rather than after the delay.
		if err := f.endLocked(context.Background()); err != nil {
			return toErrno(err)
		}
		return 0
	}
	f.armPostOp()
	return 0
}

// direct runs op on every open copy with no transaction.
func (f *file) direct(op func(i int, fd *os.File) error) syscall.Errno {
	var last error
	ok := 0
	for i, fd := range f.fds {
		if fd == nil {
			continue
		}
		if err := op(i, fd); err != nil {
			last = err
			continue
		}
		ok++
	}
	if ok == 0 && last != nil {
		return toErrno(last)
	}
	return 0
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// armPostOp (re)starts the delayed post-op's timer.
func (f *file) armPostOp() {
	if f.timer != nil {
		f.timer.Reset(f.m.opts.PostOpDelay)
		return
	}
	f.timer = time.AfterFunc(f.m.opts.PostOpDelay, func() {
		if err := f.postOp(context.Background()); err != nil {
			f.m.logf("%s: delayed post-op: %v", f.n.path(), err)
		}
	})
}

// postOp writes the open session's post-op now.
func (f *file) postOp(ctx context.Context) error {
	done, errno := f.m.enter()
	if errno != 0 {
		// Closed: Close wrote every post-op already.
		return nil
	}
	defer done()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.endLocked(uninterrupted(ctx))
}

// endLocked ends the session: the copies it wrote record the
// modification in their mdata, then the post-op blames the copies that
// failed and takes the dirty mark back. f.mu is held.
func (f *file) endLocked(ctx context.Context) error {
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.sess == nil {
		return nil
	}
	sess := f.sess
	f.sess = nil
	defer f.n.holder.CompareAndSwap(f, nil)
	if f.written {
		now := time.Now()
		sess.Write(ctx, func(i int, b *brick.Brick) error {
			return touchModified(b, b.HandlePath(f.n.gfid), f.n.path(), now)
		})
		f.written = false
	}
	_, err := sess.End(ctx)
	return err
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	errno := f.dataOp(ctx, true, func(_ int, fd *os.File) error {
		_, err := fd.WriteAt(data, off)
		return err
	})
	if errno != 0 {
		return 0, errno
	}
	return uint32(len(data)), 0
}

func (f *file) truncate(ctx context.Context, size int64) syscall.Errno {
	return f.dataOp(ctx, true, func(_ int, fd *os.File) error { return fd.Truncate(size) })
}

// Allocate is fallocate on every copy, as a data transaction.
func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	return f.dataOp(ctx, true, func(_ int, fd *os.File) error {
		return unix.Fallocate(int(fd.Fd()), mode, int64(off), int64(size))
	})
}

// Fsync makes every copy durable within the data session, so a copy whose
// fsync fails is blamed, and writes the post-op: what fsync returned for
// is on disk on every copy not blamed.
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	errno := f.dataOp(ctx, false, func(_ int, fd *os.File) error {
		if flags&1 != 0 {
			return unix.Fdatasync(int(fd.Fd()))
		}
		return fd.Sync()
	})
	if errno != 0 {
		return errno
	}
	return toErrno(f.postOp(ctx))
}

// Flush (each close of a descriptor) writes the post-op at once.
func (f *file) Flush(ctx context.Context) syscall.Errno {
	return toErrno(f.postOp(ctx))
}

func (f *file) Release(ctx context.Context) syscall.Errno {
	err := f.postOp(ctx)
	f.m.mu.Lock()
	delete(f.m.files, f)
	f.m.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for i, fd := range f.fds {
		if fd != nil {
			fd.Close()
			f.fds[i] = nil
		}
	}
	return toErrno(err)
}

// Lseek answers SEEK_DATA and SEEK_HOLE from the copy reads come from.
func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readFrom < 0 || f.fds[f.readFrom] == nil {
		return 0, syscall.EIO
	}
	n, err := unix.Seek(int(f.fds[f.readFrom].Fd()), int64(off), int(whence))
	if err != nil {
		return 0, toErrno(err)
	}
	return uint64(n), 0
}

// stat answers fstat from the copy reads come from (EBADF when it has
// none, and the node's Getattr answers): its size is the file's even
// while writes are in flight; times come from the mdata unless a session
// is writing, which records them only at its post-op.
func (f *file) stat(out *fuse.Attr) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.readFrom
	if i < 0 || f.fds[i] == nil {
		return syscall.EBADF
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.fds[i].Fd()), &st); err != nil {
		return toErrno(err)
	}
	r := afr.Reply{GFID: f.n.gfid, Type: afr.TypeRegular, Size: st.Size}
	if f.sess == nil && st.Nlink > 0 {
		b := f.bricks[i]
		h := b.HandlePath(f.n.gfid)
		if md, ok, err := b.ReadMdata(h, f.n.path()); err == nil && ok {
			r.Mtime, r.Ctime = md.Mtime, md.Ctime
		}
	}
	fillAttr(out, &st, r)
	return 0
}
