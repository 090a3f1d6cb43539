package mount

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// dir is an open directory: its listing, read from one copy readable for
// entries, with every entry's attributes as that copy holds them, which
// a readdirplus answers with where no copy of the volume can be stale.
// AFR's readdirp answers from its read child alone too, and sends the
// kernel back to a full lookup for an entry whose copy there it cannot
// vouch for (afr_readdir_transform_entries).
//
// go-fuse calls Readdirent, Seekdir and Lookup for one handle one at a
// time (it holds the handle's lock around them), and Releasedir after;
// dir needs no lock of its own.
type dir struct {
	n       *node
	listed  bool
	entries []brick.DirEntry
	byName  map[string]int
	src     int
	// trusted is whether the entries' replies may answer lookups alone:
	// when the directory was listed, every brick was up and no brick's
	// heal index held an entry, so no copy was blamed or dirty.
	trusted bool
	gen     uint64 // the volume's generation before the listing
	next    int
}

var (
	_ gofs.NodeOpendirHandler = (*node)(nil)
	_ gofs.FileReaddirenter   = (*dir)(nil)
	_ gofs.FileSeekdirer      = (*dir)(nil)
	_ gofs.FileLookuper       = (*dir)(nil)
)

// OpendirHandle opens the directory; it is listed at the first read.
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if n.typ != afr.TypeDirectory {
		return nil, 0, syscall.ENOTDIR
	}
	return &dir{n: n}, 0, 0
}

// list reads the directory from a copy readable for entries, as AFR's
// readdir does, with each entry's reply.
func (d *dir) list() syscall.Errno {
	n := d.n
	n.names.RLock()
	defer n.names.RUnlock()
	// Read before the listing: a blame indexed after it is of a fop that
	// ran while the directory was listed, and the listing answers as of
	// before that fop, as any listing of a directory being changed does.
	gen := n.m.gen.Load()
	trusted := n.m.unblamed()
	p := n.path()
	c := n.m.lookup(p)
	_, t, _, errno := c.entry()
	if errno != 0 {
		return errno
	}
	if t != afr.TypeDirectory {
		return syscall.ENOTDIR
	}
	src := first(afr.Readable(c.replies, afr.Data, true))
	if src < 0 {
		// Every copy is blamed for entries: an entry split-brain lists
		// from the first copy, as GlusterFS's readdir still answers.
		src = first(present(c.replies))
	}
	b := c.bricks[src]
	ents, err := b.ReadDirReplies(c.abs[src], p, n.m.keys)
	if err != nil {
		n.m.checkFailed(c.bricks, oneErr(len(c.bricks), src, err))
		return toErrno(err)
	}
	d.entries, d.src, d.trusted, d.gen, d.next, d.listed = ents, src, trusted, gen, 0, true
	d.byName = make(map[string]int, len(ents))
	for i, e := range ents {
		d.byName[e.Name] = i
	}
	return 0
}

// Readdirent returns the next entry, listing the directory first.
func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if !d.listed {
		if errno := d.list(); errno != 0 {
			return nil, errno
		}
	}
	if d.next >= len(d.entries) {
		return nil, 0
	}
	e := &d.entries[d.next]
	d.next++
	// Off is the entry's place, which Seekdir goes back to.
	return &fuse.DirEntry{Name: e.Name, Mode: e.Mode, Ino: ino(e.GFID), Off: uint64(d.next)}, 0
}

// Seekdir goes back to the place after entry off; 0 lists the directory
// again, as rewinddir must show what changed since.
func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		d.listed = false
		return 0
	}
	if !d.listed || off > uint64(len(d.entries)) {
		return syscall.EINVAL
	}
	d.next = int(off)
	return 0
}

// Lookup answers a readdirplus's lookup of name from the listing when
// the listing is trusted and the entry's copy carries no changelog of
// its own, and with a full lookup of every copy otherwise.
func (d *dir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	i, ok := d.byName[name]
	if !ok || !d.trusted || !clean(d.entries[i].Reply) {
		return d.n.Lookup(ctx, name, out)
	}
	e := &d.entries[i]
	fillAttr(&out.Attr, &e.Stat, e.Reply)
	child := newNode(d.n.m, e.GFID, e.Reply.Type, d.src)
	in := d.n.NewInode(ctx, child, stableAttr(e.GFID, e.Stat.Mode))
	// No copy was blamed: the listed one is readable.
	in.Operations().(*node).setSource(d.src, true, d.gen)
	return in, 0
}

// clean reports whether a copy was read and blames no copy, itself
// included, and is not dirty.
func clean(r afr.Reply) bool {
	if !r.Answered || !r.Exists || !r.Dirty.IsZero() {
		return false
	}
	for _, p := range r.Pending {
		if !p.IsZero() {
			return false
		}
	}
	return true
}

// unblamed reports whether every brick is up and no brick's heal index
// holds an entry: then no copy is blamed or dirty anywhere, and any copy
// answers for the file. A transaction indexes its dirty mark before it
// changes a copy, and its blame before it lets go of its locks, so an
// index read empty means no copy was left behind by a fop that ended
// before the read.
func (m *Volume) unblamed() bool {
	m.mu.Lock()
	ixs := append([]*index.Index(nil), m.indexes...)
	m.mu.Unlock()
	for _, ix := range ixs {
		if ix == nil {
			return false
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			if empty, err := ix.Empty(sub); err != nil || !empty {
				return false
			}
		}
	}
	return true
}
