package brick

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/afrkit/afrkit/afr"
)

// maxDepth bounds the walk from a directory handle up to the root, so that a
// cycle of handle symlinks is reported instead of followed forever.
const maxDepth = 4096

// HandleRel is the path of gfid's handle relative to the brick root:
// ".glusterfs/<g0>/<g1>/<gfid>" (posix_handle_path).
func HandleRel(g afr.GFID) string {
	return string(appendHandleRel(nil, g))
}

// appendHandleRel appends HandleRel(g) to dst. Handles are built once per
// brick per index entry, so this avoids fmt and its allocations.
func appendHandleRel(dst []byte, g afr.GFID) []byte {
	var buf [len(GlusterDir) + 7 + 36]byte
	n := copy(buf[:], GlusterDir)
	buf[n] = '/'
	hex.Encode(buf[n+1:], g[0:1])
	buf[n+3] = '/'
	hex.Encode(buf[n+4:], g[1:2])
	buf[n+6] = '/'
	g.Encode(buf[n+7:])
	return append(dst, buf[:]...)
}

// HandlePath is the absolute path of gfid's handle. Root is absolute and
// clean (Open makes it so), so joining needs no Clean.
func (b *Brick) HandlePath(g afr.GFID) string {
	p := make([]byte, 0, len(b.Root)+1+len(GlusterDir)+7+36)
	p = append(p, b.Root...)
	if len(b.Root) == 0 || b.Root[len(b.Root)-1] != '/' {
		p = append(p, '/')
	}
	return string(appendHandleRel(p, g))
}

// DirHandleTarget is the symlink target of a directory handle:
// "../../<p0>/<p1>/<pgfid>/<name>" (posix_handle_relpath), or "../../.." for
// the root.
func DirHandleTarget(pgfid afr.GFID, name string) string {
	return fmt.Sprintf("../../%02x/%02x/%s/%s", pgfid[0], pgfid[1], pgfid, name)
}

// ensureHandleDir creates .glusterfs/<g0>/<g1> with mode 0700 as posix does.
// It tries the mkdir first: os.MkdirAll stats the directory and then its
// parent before making it, two lookups more per new handle, and most
// handles a heal makes on an emptied brick need a new directory. Something
// else in the way of the directory is found by the link or symlink made
// in it next.
func (b *Brick) ensureHandleDir(g afr.GFID) error {
	n := int(g[0])<<8 | int(g[1])
	word, bit := n/64, uint64(1)<<(n%64)
	if b.handleDirs != nil && b.handleDirs[word].Load()&bit != 0 {
		return nil
	}
	dir := filepath.Dir(b.HandlePath(g))
	err := b.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrNotExist) {
		err = b.MkdirAll(dir, 0o700)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return b.errorf("create handle directory", dir, err)
	}
	if b.handleDirs != nil {
		b.handleDirs[word].Or(bit)
	}
	return nil
}

// handleDirGone forgets that g's handle directory exists, and the
// descriptor kept of it, and makes it again: it was removed behind
// afrkit's back.
func (b *Brick) handleDirGone(g afr.GFID) error {
	if b.handleDirs != nil {
		n := int(g[0])<<8 | int(g[1])
		b.handleDirs[n/64].And(^(uint64(1) << (n % 64)))
	}
	if b.dirFDs != nil {
		dir := filepath.Dir(HandleRel(g))
		b.dirFDs.forget(dir)
		b.dirFDs.forget(filepath.Dir(dir))
	}
	return b.ensureHandleDir(g)
}

// LinkFileHandle creates the hard-link handle of a non-directory at abs.
// An existing handle that is already the same inode is accepted.
func (b *Brick) LinkFileHandle(abs string, g afr.GFID) error {
	a, err := b.resolve("link", abs)
	if err != nil {
		return b.errorf("link handle", HandleRel(g), err)
	}
	defer a.close()
	return b.linkFileHandleAt(a, abs, g)
}

// linkFileHandleAt is LinkFileHandle of the resolved object a.
func (b *Brick) linkFileHandleAt(a at, abs string, g afr.GFID) error {
	if err := b.ensureHandleDir(g); err != nil {
		return err
	}
	h := b.HandlePath(g)
	err := b.linkAt(a, abs, h)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory was known, and is gone (removed behind afrkit's
		// back): make it again.
		if err := b.handleDirGone(g); err != nil {
			return err
		}
		err = b.linkAt(a, abs, h)
	}
	if errors.Is(err, fs.ErrExist) {
		if same, serr := b.sameFile(abs, h); serr == nil && same {
			return nil
		}
		return b.errorf("link handle", HandleRel(g), fmt.Errorf("handle exists for another inode: %w", fs.ErrExist))
	}
	if err != nil {
		return b.errorf("link handle", HandleRel(g), err)
	}
	return nil
}

// SymlinkDirHandle creates the symlink handle of a directory named name in
// the directory whose gfid is pgfid.
func (b *Brick) SymlinkDirHandle(g, pgfid afr.GFID, name string) error {
	if err := b.ensureHandleDir(g); err != nil {
		return err
	}
	target := DirHandleTarget(pgfid, name)
	if g == RootGFID {
		target = "../../.."
	}
	h := b.HandlePath(g)
	err := b.Symlink(target, h)
	if errors.Is(err, fs.ErrNotExist) {
		if err := b.handleDirGone(g); err != nil {
			return err
		}
		err = b.Symlink(target, h)
	}
	if errors.Is(err, fs.ErrExist) {
		if cur, rerr := b.Readlink(h); rerr == nil && cur == target {
			return nil
		}
		return b.errorf("symlink handle", HandleRel(g), fmt.Errorf("handle exists with another target: %w", fs.ErrExist))
	}
	if err != nil {
		return b.errorf("symlink handle", HandleRel(g), err)
	}
	return nil
}

// SameFile reports whether x and y (brick paths) are one inode.
func (b *Brick) SameFile(x, y string) (bool, error) { return b.sameFile(x, y) }

func (b *Brick) sameFile(x, y string) (bool, error) {
	var sx, sy syscall.Stat_t
	if err := b.Lstat(x, &sx); err != nil {
		return false, err
	}
	if err := b.Lstat(y, &sy); err != nil {
		return false, err
	}
	return sx.Dev == sy.Dev && sx.Ino == sy.Ino, nil
}

// PathOf resolves a gfid to its volume path on this brick. Directories are
// resolved by following their handle symlinks up to the root; other files
// by their gfid2path xattrs (the first that resolves), since a file handle is
// a hard link that carries no name.
func (b *Brick) PathOf(g afr.GFID) (string, error) { return b.PathOfCached(g, nil) }

// DirCache remembers the paths of directories met while resolving gfids,
// so that resolving many files of one directory walks its handles once. It
// holds at most a fixed number of directories (it forgets them all when
// full, keeping memory flat), and is safe for concurrent use. It assumes
// the directories do not move while it is in use.
type DirCache struct {
	mu    sync.Mutex
	limit int
	paths map[afr.GFID]string
}

// NewDirCache returns a cache of at most limit directories.
func NewDirCache(limit int) *DirCache {
	return &DirCache{limit: limit, paths: make(map[afr.GFID]string)}
}

func (c *DirCache) get(g afr.GFID) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.paths[g]
	return p, ok
}

func (c *DirCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.paths)
}

func (c *DirCache) put(g afr.GFID, p string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.paths) >= c.limit {
		clear(c.paths)
	}
	c.paths[g] = p
}

// PathOfCached is PathOf using and filling cache (which may be nil) for
// the directories above g.
func (b *Brick) PathOfCached(g afr.GFID, cache *DirCache) (string, error) {
	var names []string
	var dirs []afr.GFID // dirs[i] is the parent whose name is names[i+1]
	prefix := ""
	cur := g
	gIsDir := false
	for depth := 0; cur != RootGFID; depth++ {
		if depth > maxDepth {
			return "", b.errorf("resolve", g.String(), ErrResolveLoop)
		}
		if p, ok := cache.get(cur); ok {
			prefix = p
			break
		}
		pgfid, name, isDir, err := b.parentOf(cur)
		if err != nil {
			return "", err
		}
		if depth == 0 {
			gIsDir = isDir
		}
		names = append(names, name)
		dirs = append(dirs, pgfid)
		cur = pgfid
	}
	// names run from g upwards; build the path downwards from the prefix,
	// remembering each directory on the way, g too when it is one: the
	// next gfid resolved is often its child.
	path := prefix
	for i := len(names) - 1; i >= 0; i-- {
		path += "/" + names[i]
		if i > 0 {
			cache.put(dirs[i-1], path)
		} else if gIsDir {
			cache.put(g, path)
		}
	}
	if path == "" {
		path = "/"
	}
	return path, nil
}

// parentOf returns one (parent gfid, name) pair of g, and whether g's
// handle is a directory's.
func (b *Brick) parentOf(g afr.GFID) (afr.GFID, string, bool, error) {
	// The handle is resolved once for its stat, target and xattrs: a
	// path is built from one parentOf per directory level.
	a, err := b.resolve("resolve", b.HandlePath(g))
	var st syscall.Stat_t
	if err == nil {
		defer a.close()
		err = a.lstat(&st)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return afr.GFID{}, "", false, b.errorf("resolve", g.String(), ErrNoHandle)
	}
	if err != nil {
		return afr.GFID{}, "", false, b.errorf("resolve", g.String(), err)
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFLNK && st.Nlink == 1 {
		// A directory handle is a symlink; so is the hard-link handle of a
		// symlink file, which is told apart by its links (see isDirHandle)
		// and by its target not having the handle shape.
		target, err := a.readlink()
		if err != nil {
			return afr.GFID{}, "", false, b.errorf("resolve", HandleRel(g), err)
		}
		if pg, name, err := ParseDirHandleTarget(target); err == nil {
			return pg, name, true, nil
		}
	}
	names, err := a.listxattr()
	if err != nil {
		return afr.GFID{}, "", false, b.errorf("list xattrs", HandleRel(g), err)
	}
	var firstErr error
	for _, full := range names {
		k, ok := b.unkey(full)
		if !ok || !strings.HasPrefix(k, KeyGfid2pathPfx) {
			continue
		}
		v, err := a.getxattr(full)
		if err != nil {
			firstErr = cmpErr(firstErr, b.errorf("read "+full, HandleRel(g), err))
			continue
		}
		pg, name, err := ParseGfid2path(v)
		if err != nil {
			firstErr = cmpErr(firstErr, b.errorf("read "+full, HandleRel(g), err))
			continue
		}
		return pg, name, false, nil
	}
	if firstErr != nil {
		return afr.GFID{}, "", false, firstErr
	}
	return afr.GFID{}, "", false, b.errorf("resolve", g.String(), fmt.Errorf("%w: file handle has no gfid2path xattr", ErrNoHandle))
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// ParseDirHandleTarget parses "../../<p0>/<p1>/<pgfid>/<name>".
func ParseDirHandleTarget(target string) (afr.GFID, string, error) {
	rest, ok := strings.CutPrefix(target, "../../")
	parts := strings.SplitN(rest, "/", 4)
	if !ok || len(parts) != 4 || checkName(parts[3]) != nil {
		return afr.GFID{}, "", fmt.Errorf("%q: %w", target, ErrBadHandle)
	}
	pg, err := ParseGFID(parts[2])
	if err != nil || parts[0] != fmt.Sprintf("%02x", pg[0]) || parts[1] != fmt.Sprintf("%02x", pg[1]) {
		return afr.GFID{}, "", fmt.Errorf("%q: %w", target, ErrBadHandle)
	}
	return pg, parts[3], nil
}

// AbsOfGFID returns the absolute path of the inode behind gfid's handle:
// the handle itself for files (a hard link), the resolved directory for
// directories. It fails with ErrDanglingHandle when a directory handle
// points nowhere.
func (b *Brick) AbsOfGFID(g afr.GFID) (string, error) {
	h := b.HandlePath(g)
	var st syscall.Stat_t
	err := b.Lstat(h, &st)
	if errors.Is(err, fs.ErrNotExist) {
		return "", b.errorf("resolve", g.String(), ErrNoHandle)
	}
	if err != nil {
		return "", b.errorf("resolve", g.String(), err)
	}
	if !b.isDirHandle(h, &st) {
		return h, nil
	}
	if abs, ok := b.cachedDirAbs(g); ok {
		return abs, nil
	}
	p, err := b.PathOf(g)
	if err != nil {
		return "", err
	}
	abs, err := b.Abs(p)
	if err != nil {
		return "", err
	}
	var dst syscall.Stat_t
	if err := b.Lstat(abs, &dst); err != nil {
		return "", b.errorf("resolve", HandleRel(g), fmt.Errorf("%w: %s: %v", ErrDanglingHandle, p, err))
	}
	if dst.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		// A directory's handle that leads to a symlink or a file is not
		// that directory: a client may have replaced it, or may own a
		// symlink whose target looks like a handle.
		return "", b.errorf("resolve", HandleRel(g), fmt.Errorf("%w: %s is a %s, not a directory", ErrDanglingHandle, p, modeTypeName(dst.Mode)))
	}
	return abs, nil
}

// cachedDirAbs resolves the directory g through the brick's directory
// cache, and returns it only if what it reaches is a directory that
// carries gfid g: a directory renamed since it was cached, or a cached
// ancestor's, leads elsewhere, and then the cache is forgotten and the
// caller walks the handles as if there were none.
func (b *Brick) cachedDirAbs(g afr.GFID) (string, bool) {
	p, err := b.PathOfCached(g, b.dirs)
	if err != nil {
		return "", false
	}
	abs, err := b.Abs(p)
	if err != nil {
		return "", false
	}
	if got, err := b.dirGFID(abs); err == nil && got == g {
		return abs, true
	}
	b.dirs.forget()
	return "", false
}

// dirGFID reads the gfid of the directory at abs, failing for anything
// else.
func (b *Brick) dirGFID(abs string) (afr.GFID, error) {
	a, err := b.resolve("stat", abs)
	if err != nil {
		return afr.GFID{}, err
	}
	defer a.close()
	var st syscall.Stat_t
	if err := a.lstat(&st); err != nil {
		return afr.GFID{}, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return afr.GFID{}, ErrDanglingHandle
	}
	v, err := a.getxattr(b.key(KeyGFID))
	if err != nil {
		return afr.GFID{}, err
	}
	return DecodeGFID(v)
}

// isDirHandle reports whether the handle at h (with lstat info fi) is a
// directory's symlink handle rather than a hard link to a file or symlink.
func (b *Brick) isDirHandle(h string, st *syscall.Stat_t) bool {
	// A symlink file's handle is a hard link of it: two links at least (its
	// name and the handle), where a directory's handle is a symlink of its
	// own. A client chooses a symlink's target, and may make it look like a
	// handle's.
	if st.Mode&syscall.S_IFMT != syscall.S_IFLNK || st.Nlink > 1 {
		return false
	}
	target, err := b.Readlink(h)
	if err != nil {
		return false
	}
	if target == "../../.." {
		return true
	}
	_, _, err = ParseDirHandleTarget(target)
	return err == nil
}
