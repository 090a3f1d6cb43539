package mount

import (
	"errors"
	"io/fs"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// copies is what the bricks that are up hold for one volume path: their
// replies, and each copy's absolute path.
type copies struct {
	bricks  []*brick.Brick
	abs     []string
	replies []afr.Reply
	// stats are the copies' lstat, read with the replies.
	stats []syscall.Stat_t
	errs  []error
}

// lookup reads volume path p on every brick that is up.
func (m *Volume) lookup(p string) copies {
	return m.read(p, func(b *brick.Brick) (string, error) { return b.Abs(p) })
}

// copies reads the node's copies: a directory by its path, anything
// else by its gfid handle, which renames elsewhere in the volume do not
// move.
func (n *node) copies() copies {
	if n.typ == afr.TypeDirectory {
		return n.m.lookup(n.path())
	}
	return n.m.read(n.path(), func(b *brick.Brick) (string, error) { return b.HandlePath(n.gfid), nil })
}

// read reads, on every brick that is up, the copy at the path where
// finds it; p names it in errors.
func (m *Volume) read(p string, where func(b *brick.Brick) (string, error)) copies {
	bs := m.upBricks()
	c := copies{bricks: bs, abs: make([]string, len(bs)), replies: make([]afr.Reply, len(bs)),
		stats: make([]syscall.Stat_t, len(bs)), errs: make([]error, len(bs))}
	// Every brick at once, as afr_lookup winds to every child.
	var wg sync.WaitGroup
	for i, b := range bs {
		if b == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			abs, err := where(b)
			if err == nil {
				var r afr.Reply
				r, err = b.ReplyAtStat(abs, p, m.keys, &c.stats[i])
				switch {
				case err == nil:
					c.replies[i] = r
				case errors.Is(err, fs.ErrNotExist):
					// Answered, without the entry.
					c.replies[i] = afr.Reply{Name: b.Root, Answered: true}
					err = nil
				}
			}
			c.abs[i], c.errs[i] = abs, err
		}()
	}
	wg.Wait()
	if a := m.vol.ArbiterPosition(); a >= 0 && a < len(c.replies) {
		c.replies[a].Arbiter = true // never read (afr.Readable)
	}
	m.checkFailed(bs, c.errs)
	return c
}

// entry is what lookup makes of the copies: the gfid and type they agree
// on, and which copy to stat, or the errno the kernel gets.
func (c copies) entry() (g afr.GFID, t afr.FileType, src int, errno syscall.Errno) {
	exists := 0
	for _, r := range c.replies {
		if !r.Answered || !r.Exists {
			continue
		}
		if exists > 0 && (r.GFID != g || r.Type != t) {
			// A gfid or type split-brain: GlusterFS's lookup fails
			// with EIO until a person picks the copy.
			return g, t, -1, syscall.EIO
		}
		g, t = r.GFID, r.Type
		exists++
	}
	if exists == 0 {
		for _, err := range c.errs {
			if err != nil {
				return g, t, -1, toErrno(err)
			}
		}
		return g, t, -1, syscall.ENOENT
	}
	// stat goes to a data-readable copy, as afr_stat reads with a data
	// transaction's read subvolume; a copy with no source for data (a
	// split-brain) still answers the stat from a metadata source.
	for _, kind := range []afr.Kind{afr.Data, afr.Metadata} {
		if i := first(afr.Readable(c.replies, kind, true)); i >= 0 {
			return g, t, i, 0
		}
	}
	held := present(c.replies)
	for i, r := range c.replies {
		held[i] = held[i] && !r.Arbiter
	}
	if first(held) < 0 {
		// Only the arbiter holds it: GlusterFS's lookup fails rather
		// than answer from a copy with no data (afr_lookup_done).
		return g, t, -1, syscall.ENOTCONN
	}
	return g, t, first(held), 0
}

// readable reports whether copy i is readable for data.
func (c copies) readable(i int) bool {
	return i >= 0 && afr.Readable(c.replies, afr.Data, true)[i]
}

func present(replies []afr.Reply) []bool {
	out := make([]bool, len(replies))
	for i, r := range replies {
		out[i] = r.Answered && r.Exists
	}
	return out
}

func first(b []bool) int {
	for i, v := range b {
		if v {
			return i
		}
	}
	return -1
}

// ino is the inode number GlusterFS's FUSE client gives gfid g: its last
// eight bytes (gfid_to_ino), 1 for the root.
func ino(g afr.GFID) uint64 {
	var n uint64
	for _, b := range g[8:] {
		n = n<<8 | uint64(b)
	}
	return n
}

// fillAttr fills out from the copy's stat, with the times the volume
// records (the mdata xattr GlusterFS's ctime feature keeps, which every
// copy agrees on) where the reply has them.
func fillAttr(out *fuse.Attr, st *syscall.Stat_t, r afr.Reply) {
	out.FromStat(st)
	out.Ino = ino(r.GFID)
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR && out.Nlink > 0 {
		// A file's gfid handle is one more hard link on the brick, which
		// is no name of the volume.
		out.Nlink--
	}
	if r.Type != afr.TypeDirectory {
		out.Size = uint64(r.Size)
	}
	if r.Mtime.Sec != 0 || r.Mtime.Nsec != 0 {
		out.Mtime, out.Mtimensec = uint64(r.Mtime.Sec), uint32(r.Mtime.Nsec)
	}
	if r.Ctime.Sec != 0 || r.Ctime.Nsec != 0 {
		out.Ctime, out.Ctimensec = uint64(r.Ctime.Sec), uint32(r.Ctime.Nsec)
	}
}

// toErrno is the errno the kernel gets for err: the one it wraps, or EIO
// for what has none (a brick that is not what it should be).
func toErrno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, brick.ErrNoAttr):
		return syscall.ENODATA
	case errors.Is(err, brick.ErrXattrUnsupported):
		return syscall.ENOTSUP
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return syscall.EIO
}
