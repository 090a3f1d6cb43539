package mount

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/engine"
)

// node is one inode of the mount. Its identity is its gfid; its volume
// path is where go-fuse's tree has it now.
type node struct {
	gofs.Inode
	m    *Volume
	gfid afr.GFID
	typ  afr.FileType

	// data serializes the data fops on this inode across its open files,
	// as GlusterFS's inodelk on the data domain does: two writes that
	// overlap land in the same order on every brick. Metadata fops hold
	// it too: they must end the data session first (see endSession).
	data sync.Mutex
	// holder is the open file whose data session holds the inode's data
	// lock (nil: none). It is set under data, and cleared by the session's
	// end, which may come from the post-op timer.
	holder atomic.Pointer[file]
	// names is a directory's entrylk: a fop that changes a name in it
	// holds it for writing, a lookup or listing for reading, so no lookup
	// sees a rename done on one brick and not yet on the next (which
	// would look like a gfid split-brain).
	names sync.RWMutex

	// choice is the copy a person chose (replica.split-brain-choice) to
	// read this file from while it is in split-brain.
	choiceMu sync.Mutex
	choice   *choice

	// src is the copy the last full lookup found readable, as AFR keeps
	// the read subvolume in the inode's context until the next lookup;
	// -1 until one has run. srcGen is the volume's generation (Volume.gen)
	// before that lookup read the copies, when src was readable for data;
	// 0 otherwise.
	src    atomic.Int32
	srcGen atomic.Uint64
}

// setSource records the copy a full lookup that began at generation gen
// found: src, readable for data or not.
func (n *node) setSource(src int, readable bool, gen uint64) {
	n.src.Store(int32(src))
	if !readable {
		gen = 0
	}
	n.srcGen.Store(gen)
}

// trustedSource is the copy a stat may come from alone: the last full
// lookup's, when it was readable for data and nothing since may have
// left it behind; -1 when a full lookup must look again.
func (n *node) trustedSource() int {
	g := n.srcGen.Load()
	if g == 0 || g != n.m.gen.Load() {
		return -1
	}
	return int(n.src.Load())
}

// newNode is a node for the inode g of type t, whose readable copy is
// src (-1: not known yet).
func newNode(m *Volume, g afr.GFID, t afr.FileType, src int) *node {
	n := &node{m: m, gfid: g, typ: t}
	n.src.Store(int32(src))
	return n
}

// endSession ends the data session an open file holds on the node, if
// any: a fop that takes the inode's lock otherwise would wait for the
// session's delayed post-op, as AFR lets go of its eager lock for a
// conflicting fop of its own client. n.data is held.
func (n *node) endSession() {
	h := n.holder.Load()
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.endLocked(context.Background()); err != nil {
		n.m.logf("%s: post-op: %v", n.path(), err)
	}
}

// lockNames takes the entry locks of the directories a fop changes names
// in, always in inode-number order, so two renames between the same two
// directories cannot deadlock; the returned func releases them.
func lockNames(dirs ...*node) func() {
	if len(dirs) == 2 && dirs[0] == dirs[1] {
		dirs = dirs[:1]
	}
	if len(dirs) == 2 && dirs[1].StableAttr().Ino < dirs[0].StableAttr().Ino {
		dirs[0], dirs[1] = dirs[1], dirs[0]
	}
	for _, d := range dirs {
		d.names.Lock()
	}
	return func() {
		for _, d := range dirs {
			d.names.Unlock()
		}
	}
}

var (
	_ gofs.NodeLookuper      = (*node)(nil)
	_ gofs.NodeGetattrer     = (*node)(nil)
	_ gofs.NodeSetattrer     = (*node)(nil)
	_ gofs.NodeMkdirer       = (*node)(nil)
	_ gofs.NodeMknoder       = (*node)(nil)
	_ gofs.NodeCreater       = (*node)(nil)
	_ gofs.NodeSymlinker     = (*node)(nil)
	_ gofs.NodeLinker        = (*node)(nil)
	_ gofs.NodeUnlinker      = (*node)(nil)
	_ gofs.NodeRmdirer       = (*node)(nil)
	_ gofs.NodeRenamer       = (*node)(nil)
	_ gofs.NodeOpener        = (*node)(nil)
	_ gofs.NodeReadlinker    = (*node)(nil)
	_ gofs.NodeStatfser      = (*node)(nil)
	_ gofs.NodeGetxattrer    = (*node)(nil)
	_ gofs.NodeSetxattrer    = (*node)(nil)
	_ gofs.NodeListxattrer   = (*node)(nil)
	_ gofs.NodeRemovexattrer = (*node)(nil)
)

// Root is the node of the volume's root directory, for gofs.Mount.
func (m *Volume) Root() gofs.InodeEmbedder {
	return newNode(m, brick.RootGFID, afr.TypeDirectory, -1)
}

// path is the node's volume path now.
func (n *node) path() string {
	return "/" + n.Path(n.Root())
}

func (n *node) child(name string) string {
	return brick.Join(n.path(), name)
}

// inode names the node for a transaction: by gfid, which a rename does
// not move, except for directories, whose handles are symlinks.
func (n *node) inode() engine.Inode {
	if n.typ == afr.TypeDirectory {
		return engine.Inode{Path: n.path()}
	}
	return engine.Inode{Path: n.path(), GFID: n.gfid}
}

// stableAttr is what go-fuse keys inodes by.
func stableAttr(g afr.GFID, mode uint32) gofs.StableAttr {
	return gofs.StableAttr{Mode: mode & syscall.S_IFMT, Ino: ino(g)}
}

// Lookup finds name on the bricks, as afr_lookup: the copies must agree
// on gfid and type; the attributes come from a readable copy.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	n.names.RLock()
	defer n.names.RUnlock()
	return n.lookupChild(ctx, n.child(name), out)
}

func (n *node) lookupChild(ctx context.Context, p string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	gen := n.m.gen.Load()
	c := n.m.lookup(p)
	g, t, src, errno := c.entry()
	if errno != 0 {
		return nil, errno
	}
	st := &c.stats[src]
	fillAttr(&out.Attr, st, c.replies[src])
	child := newNode(n.m, g, t, src)
	in := n.NewInode(ctx, child, stableAttr(g, st.Mode))
	// An inode go-fuse knew already keeps its node: it learns the copy.
	in.Operations().(*node).setSource(src, c.readable(src), gen)
	return in, 0
}

// Getattr stats the node on a readable copy, or, for an open file,
// on the copy it reads.
func (n *node) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if f, ok := fh.(*file); ok {
		if errno := f.stat(&out.Attr); errno != syscall.EBADF {
			return errno
		}
	}
	chosen := n.chosen()
	if chosen < 0 && n.trustedSource() >= 0 {
		// As afr_stat: from the read subvolume alone while nothing
		// may have left it behind.
		if errno := n.statSource(out); errno == 0 {
			return 0
		}
	}
	gen := n.m.gen.Load()
	c := n.copies()
	_, _, src, errno := c.entry()
	if errno != 0 {
		return errno
	}
	if chosen >= 0 && c.replies[chosen].Exists {
		// A person chose the copy this file in split-brain is read from:
		// its size is the file's.
		src = chosen
	}
	n.setSource(src, c.readable(src), gen)
	fillAttr(&out.Attr, &c.stats[src], c.replies[src])
	return 0
}

// Setattr changes size (a data transaction), mode, owner and times (one
// metadata transaction), as afr_setattr and afr_truncate.
func (n *node) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if errno := n.truncate(ctx, fh, int64(size)); errno != 0 {
			return errno
		}
	}
	mode, setMode := in.GetMode()
	uid, setUID := in.GetUID()
	gid, setGID := in.GetGID()
	atime, setA := in.GetATime()
	mtime, setM := in.GetMTime()
	if setMode || setUID || setGID || setA || setM {
		now := time.Now()
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			atime, setA = now, true
		}
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			mtime, setM = now, true
		}
		op := func(_ int, b *brick.Brick, abs string) error {
			if setUID || setGID {
				u, g := -1, -1
				if setUID {
					u = int(uid)
				}
				if setGID {
					g = int(gid)
				}
				if err := b.Lchown(abs, u, g); err != nil {
					return err
				}
			}
			if setMode {
				if err := b.Chmod(abs, modeBits(mode)); err != nil {
					return err
				}
			}
			return setTimes(b, abs, n.path(), now, setA, atime, setM, mtime)
		}
		if errno := n.inodeOp(ctx, afr.Metadata, op); errno != 0 {
			return errno
		}
	}
	if errno := n.statSource(out); errno == 0 {
		return 0
	}
	return n.Getattr(ctx, fh, out)
}

// statSource answers a stat from the copy the last lookup found readable
// alone, without reading every brick: what a setattr answers with.
func (n *node) statSource(out *fuse.AttrOut) syscall.Errno {
	src := int(n.src.Load())
	if src < 0 {
		return syscall.ENOENT
	}
	bs := n.m.upBricks()
	if src >= len(bs) || bs[src] == nil {
		return syscall.ENOTCONN
	}
	b := bs[src]
	var abs string
	var err error
	if n.typ == afr.TypeDirectory {
		abs, err = b.Abs(n.path())
	} else {
		abs = b.HandlePath(n.gfid)
	}
	if err != nil {
		return toErrno(err)
	}
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return toErrno(err)
	}
	r := afr.Reply{GFID: n.gfid, Type: n.typ, Size: st.Size}
	if md, ok, err := b.ReadMdata(abs, n.path()); err == nil && ok {
		r.Mtime, r.Ctime = md.Mtime, md.Ctime
	}
	fillAttr(&out.Attr, &st, r)
	return 0
}

// modeBits turns st_mode permission, set-id and sticky bits into an
// fs.FileMode.
func modeBits(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	if mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// setTimes sets the copy's atime and mtime where asked, keeping the
// other, and records them, with the change time now, in the mdata xattr
// (one read and one write), as posix_setattr does with the ctime feature.
func setTimes(b *brick.Brick, abs, p string, now time.Time, setA bool, atime time.Time, setM bool, mtime time.Time) error {
	if setA || setM {
		a, mt := int64(brick.KeepTime), int64(brick.KeepTime)
		if setA {
			a = atime.UnixNano()
		}
		if setM {
			mt = mtime.UnixNano()
		}
		if err := b.Utimes(abs, a, mt); err != nil {
			return err
		}
	}
	return b.UpdateMdata(abs, p, func(md *brick.Mdata) {
		if setA {
			md.Atime = afr.TimespecOf(atime)
		}
		if setM {
			md.Mtime = afr.TimespecOf(mtime)
		}
		md.Ctime = afr.TimespecOf(now)
	})
}

// touchCtime records a change time in the copy's mdata xattr (when it has
// one), as posix does for every fop that changes an inode.
func touchCtime(b *brick.Brick, abs, p string, now time.Time) error {
	return b.UpdateMdata(abs, p, func(md *brick.Mdata) { md.Ctime = afr.TimespecOf(now) })
}

// touchModified records a content change at now: the copy's mtime, and
// mtime and ctime in its mdata xattr. Every copy gets the same time, so
// whichever answers a stat agrees with the others, and with fstat.
func touchModified(b *brick.Brick, abs, p string, now time.Time) error {
	if err := b.Utimes(abs, brick.KeepTime, now.UnixNano()); err != nil {
		return err
	}
	return b.UpdateMdata(abs, p, func(md *brick.Mdata) {
		md.Mtime, md.Ctime = afr.TimespecOf(now), afr.TimespecOf(now)
	})
}

// uninterrupted is the context a transaction runs in: a signal to the
// process in the syscall (go-fuse cancels the request's context on the
// kernel's FUSE_INTERRUPT) does not stop a transaction half-way through
// the bricks, which would blame the bricks it had not reached yet; the
// kernel waits for the reply either way.
func uninterrupted(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// inodeOp runs op as a transaction of kind on the node, and takes down
// the bricks that failed as failing disks do.
func (n *node) inodeOp(ctx context.Context, kind afr.Kind, op func(i int, b *brick.Brick, abs string) error) syscall.Errno {
	s, errs, done, errno := n.m.watchedSet()
	if errno != 0 {
		return errno
	}
	defer done()
	n.data.Lock()
	defer n.data.Unlock()
	n.endSession()
	_, err := s.InodeOpOn(uninterrupted(ctx), kind, n.inode(), op)
	n.m.checkFailed(upOnly(s), errs)
	return toErrno(err)
}

// truncate sets the file's size on every copy, as one data transaction.
func (n *node) truncate(ctx context.Context, fh gofs.FileHandle, size int64) syscall.Errno {
	if n.typ == afr.TypeDirectory {
		return syscall.EISDIR
	}
	if f, ok := fh.(*file); ok {
		return f.truncate(ctx, size)
	}
	now := time.Now()
	return n.inodeOp(ctx, afr.Data, func(_ int, b *brick.Brick, abs string) error {
		f, err := b.OpenFile(abs, os.O_WRONLY)
		if err != nil {
			return err
		}
		err = f.Truncate(size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return touchModified(b, abs, n.path(), now)
	})
}

func oneErr(n, i int, err error) []error {
	errs := make([]error, n)
	errs[i] = err
	return errs
}

// owner is who a new entry in this directory belongs to: the caller, with
// the directory's group when the directory is set-group-id (as
// posix_gfid_set's callers give it).
func (n *node) owner(ctx context.Context, dirMode uint32, dirGID uint32) *brick.Owner {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return nil
	}
	o := &brick.Owner{UID: caller.Uid, GID: caller.Gid}
	if dirMode&syscall.S_ISGID != 0 {
		o.GID = dirGID
	}
	return o
}

// newEntry makes name in this directory as one entry transaction, then
// looks it up.
func (n *node) newEntry(ctx context.Context, name string, e brick.NewEntry, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	child, _, errno := n.makeEntry(ctx, name, e, out, false)
	return child, errno
}

// makeEntry makes name in this directory as one entry transaction and
// answers for the new entry from a copy the transaction made (every copy
// it made is the same): no lookup of every brick. It returns, for each
// brick, the new regular file open there when open is set (nil where the
// brick did not make it), or nil.
func (n *node) makeEntry(ctx context.Context, name string, e brick.NewEntry, out *fuse.EntryOut, open bool) (*gofs.Inode, []*os.File, syscall.Errno) {
	p := n.child(name)
	var dir syscall.Stat_t
	if errno := n.statOne(n.path(), &dir); errno != 0 {
		return nil, nil, errno
	}
	e.Path = p
	e.Owner = n.owner(ctx, dir.Mode, dir.Gid)
	if e.Type == afr.TypeDirectory && dir.Mode&syscall.S_ISGID != 0 {
		e.Mode |= fs.ModeSetgid
	}
	e.NoSync = true
	if e.Times == nil {
		e.Times = now()
	}
	defer lockNames(n)()
	s, errs, done, errno := n.m.watchedSet()
	if errno != 0 {
		return nil, nil, errno
	}
	defer done()
	gen := n.m.gen.Load()
	var g afr.GFID
	var failed []bool
	var files []*os.File
	var err error
	if open {
		g, failed, files, err = s.CreateOpen(uninterrupted(ctx), e)
	} else {
		g, failed, err = s.Create(uninterrupted(ctx), e, nil)
	}
	n.m.checkFailed(upOnly(s), errs)
	if err != nil {
		return nil, nil, toErrno(err)
	}
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	src := -1
	for i := range failed {
		if s.Up[i] && !failed[i] {
			src = i
			break
		}
	}
	if src < 0 || (files != nil && files[src] == nil) {
		closeAll()
		return nil, nil, syscall.EIO
	}
	var st syscall.Stat_t
	if files != nil {
		err = syscall.Fstat(int(files[src].Fd()), &st)
	} else {
		b := s.Bricks[src]
		var abs string
		if abs, err = b.Abs(p); err == nil {
			err = b.Lstat(abs, &st)
		}
	}
	if err != nil {
		closeAll()
		return nil, nil, toErrno(err)
	}
	r := afr.Reply{GFID: g, Type: e.Type, Size: st.Size}
	if e.Times != nil {
		r.Mtime, r.Ctime = e.Times.Mtime, e.Times.Ctime
	}
	fillAttr(&out.Attr, &st, r)
	child := newNode(n.m, g, e.Type, src)
	// Every copy made is the same; a brick left out moved the generation.
	child.setSource(src, true, gen)
	return n.NewInode(ctx, child, stableAttr(g, st.Mode)), files, 0
}

// now is the time a new entry records on every copy.
func now() *brick.Mdata {
	t := time.Now()
	ts := afr.TimespecOf(t)
	return &brick.Mdata{Ctime: ts, Mtime: ts, Atime: ts}
}

// statOne stats volume path p on the first brick that is up and has it:
// enough for what a create needs of its directory (mode and group).
func (n *node) statOne(p string, st *syscall.Stat_t) syscall.Errno {
	var last error = syscall.ENOTCONN
	for _, b := range n.m.upBricks() {
		if b == nil {
			continue
		}
		abs, err := b.Abs(p)
		if err == nil {
			if err = b.Lstat(abs, st); err == nil {
				return 0
			}
		}
		last = err
	}
	return toErrno(last)
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.newEntry(ctx, name, brick.NewEntry{Type: afr.TypeDirectory, Mode: modeBits(mode)}, out)
}

func (n *node) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	e := brick.NewEntry{Type: afr.TypeOther, Mode: modeBits(mode), Special: mode & syscall.S_IFMT, Rdev: uint64(dev)}
	if mode&syscall.S_IFMT == syscall.S_IFREG || mode&syscall.S_IFMT == 0 {
		e = brick.NewEntry{Type: afr.TypeRegular, Mode: modeBits(mode)}
	}
	return n.newEntry(ctx, name, e, out)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.newEntry(ctx, name, brick.NewEntry{Type: afr.TypeSymlink, Target: target, Mode: 0o777}, out)
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	e := brick.NewEntry{Type: afr.TypeRegular, Mode: modeBits(mode), Times: now()}
	child, files, errno := n.makeEntry(ctx, name, e, out, true)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	f, errno := child.Operations().(*node).openNew(flags&^(syscall.O_CREAT|syscall.O_EXCL|syscall.O_TRUNC), files)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return child, f, 0, 0
}

func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t := target.EmbeddedInode().Operations().(*node)
	p := n.child(name)
	defer lockNames(n)()
	s, errs, done, errno := n.m.watchedSet()
	if errno != 0 {
		return nil, errno
	}
	defer done()
	_, err := s.Link(uninterrupted(ctx), t.path(), p)
	n.m.checkFailed(upOnly(s), errs)
	if err != nil {
		return nil, toErrno(err)
	}
	return n.lookupChild(ctx, p, out)
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.remove(ctx, name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.remove(ctx, name)
}

func (n *node) remove(ctx context.Context, name string) syscall.Errno {
	defer lockNames(n)()
	s, errs, done, errno := n.m.watchedSet()
	if errno != 0 {
		return errno
	}
	defer done()
	_, err := s.Remove(uninterrupted(ctx), n.child(name))
	n.m.checkFailed(upOnly(s), errs)
	return toErrno(err)
}

func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags&^unix.RENAME_NOREPLACE != 0 {
		// RENAME_EXCHANGE and RENAME_WHITEOUT: GlusterFS has neither.
		return syscall.EINVAL
	}
	np := newParent.EmbeddedInode().Operations().(*node)
	defer lockNames(n, np)()
	s, errs, done, errno := n.m.watchedSet()
	if errno != 0 {
		return errno
	}
	defer done()
	_, err := s.Rename(uninterrupted(ctx), n.child(name), np.child(newName), flags&unix.RENAME_NOREPLACE != 0)
	n.m.checkFailed(upOnly(s), errs)
	return toErrno(err)
}

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_TRUNC != 0 {
		if errno := n.truncate(ctx, nil, 0); errno != 0 {
			return nil, 0, errno
		}
	}
	f, errno := n.open(flags &^ syscall.O_TRUNC)
	if errno != 0 {
		return nil, 0, errno
	}
	var fuseFlags uint32
	if flags&syscall.O_DIRECT != 0 {
		fuseFlags |= fuse.FOPEN_DIRECT_IO
	}
	return f, fuseFlags, 0
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	c := n.copies()
	_, t, src, errno := c.entry()
	if errno != 0 {
		return nil, errno
	}
	if t != afr.TypeSymlink {
		return nil, syscall.EINVAL
	}
	target, err := c.bricks[src].Readlink(c.abs[src])
	if err != nil {
		return nil, toErrno(err)
	}
	return []byte(target), 0
}

// Statfs answers with the smallest free space of the bricks that are up:
// what can still be written to every copy. The arbiter's, which holds no
// data, does not count (afr_statfs).
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	found := false
	arbiter := n.m.vol.ArbiterPosition()
	for i, b := range n.m.upBricks() {
		if b == nil || i == arbiter {
			continue
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(b.Root, &st); err != nil {
			continue
		}
		var o fuse.StatfsOut
		o.FromStatfsT(&st)
		if !found || o.Bavail*uint64(o.Bsize) < out.Bavail*uint64(out.Bsize) {
			*out = o
		}
		found = true
	}
	if !found {
		return syscall.ENOTCONN
	}
	return 0
}
