package brick

import (
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// dirFDs keeps open the directories under .glusterfs that fops resolve
// over and over: a file's handle directory .glusterfs/xx/yy, which every
// fop on the file by gfid, every changelog update and every handle link
// goes through, and the heal index directories. Resolving one cost an
// openat2 and a close each time; a small file written through the mount
// resolved them some forty times.
//
// Only directories that are never renamed or removed are kept: the
// handle directories .glusterfs/xx and .glusterfs/xx/yy and the index's
// own (.glusterfs/indices and its xattrop, dirty and entry-changes). No
// client names anything there, so such a path names the same directory
// for as long as it is open. Not kept: an entry-changes directory of one
// parent, which the index removes once empty, and afrkit's kept and
// quarantined trees, which undo moves back into the volume. A handle
// directory removed behind afrkit's back (by hand on the host) fails the
// fops through it (ENOENT) until forget drops it, as LinkFileHandle does
// when it makes the directory again.
//
// Each descriptor counts its users: one evicted or forgotten while in
// use is closed by its last user, so no fop ever acts through a number
// the kernel has since given to another file.
type dirFDs struct {
	mu     sync.Mutex
	closed bool
	byPath map[string]*dirFD
}

type dirFD struct {
	fd      int
	users   int
	dropped bool // no longer in byPath: the last user closes it
}

// dirFDLimit bounds the descriptors a brick keeps open. A file's fops
// come close together, so few handle directories are in use at a time.
const dirFDLimit = 1024

// cacheable reports whether rel (a directory relative to the brick root)
// is one dirFDs keeps.
func cacheable(rel string) bool {
	rest, ok := strings.CutPrefix(rel, GlusterDir+"/")
	if !ok {
		return false
	}
	switch rest {
	case "indices", "indices/xattrop", "indices/dirty", "indices/entry-changes":
		return true
	}
	// xx or xx/yy, two hex digits each.
	hex2 := func(s string) bool { return len(s) == 2 && isHex(s[0]) && isHex(s[1]) }
	first, second, two := strings.Cut(rest, "/")
	return hex2(first) && (!two || hex2(second))
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// get returns rel's descriptor, opening it beneath root when it is not
// kept yet; put gives it back.
func (c *dirFDs) get(root int, rel string) (*dirFD, error) {
	c.mu.Lock()
	if d, ok := c.byPath[rel]; ok && !c.closed {
		d.users++
		c.mu.Unlock()
		return d, nil
	}
	c.mu.Unlock()
	fd, err := openBeneath(root, rel)
	if err != nil {
		return nil, err
	}
	d := &dirFD{fd: fd, users: 1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		d.dropped = true
		return d, nil
	}
	if _, ok := c.byPath[rel]; ok {
		// Another fop opened it meanwhile: keep theirs, this one is
		// closed by its only user.
		d.dropped = true
		return d, nil
	}
	if c.byPath == nil {
		c.byPath = make(map[string]*dirFD)
	}
	if len(c.byPath) >= dirFDLimit {
		// Drop any one: map order is random, which is as good as
		// least-recently-used when most directories are used once.
		for p, e := range c.byPath {
			c.dropLocked(p, e)
			break
		}
	}
	c.byPath[rel] = d
	return d, nil
}

// put ends a use of d.
func (c *dirFDs) put(d *dirFD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d.users--
	if d.dropped && d.users == 0 {
		unix.Close(d.fd)
	}
}

// forget drops rel, which was found gone.
func (c *dirFDs) forget(rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.byPath[rel]; ok {
		c.dropLocked(rel, d)
	}
}

func (c *dirFDs) dropLocked(rel string, d *dirFD) {
	delete(c.byPath, rel)
	d.dropped = true
	if d.users == 0 {
		unix.Close(d.fd)
	}
}

// close drops every descriptor; later gets open and close their own.
func (c *dirFDs) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for p, d := range c.byPath {
		c.dropLocked(p, d)
	}
}
