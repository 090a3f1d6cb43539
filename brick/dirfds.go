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
// Only .glusterfs is kept: no client names anything in it, so the path
// of a directory there names the same directory for as long as it is
// open, unless something on the host rearranges the brick's own
// directories behind afrkit's back. A handle directory removed that way
// fails the fops through it (ENOENT) until forget drops it, as
// LinkFileHandle does when it makes the directory again.
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
	return strings.HasPrefix(rel, GlusterDir+"/") && len(rel) < chunkMax
}

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
