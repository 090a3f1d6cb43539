package brick

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
)

// Namespaces an xattr key may live in. GlusterFS always uses trusted;
// user lets afrkit's own volumes work without root.
const (
	NSTrusted = "trusted"
	NSUser    = "user"
)

// GlusterDir is the name of the metadata directory at the root of a brick.
const GlusterDir = ".glusterfs"

// Brick is one brick directory. Its methods are safe for concurrent use: a
// Brick's only mutable state is its caches, each safe for concurrent use.
type Brick struct {
	// Root is the absolute path of the brick directory.
	Root string
	// NS is the xattr namespace ("trusted" or "user") of every key afrkit
	// reads and writes on this brick.
	NS string

	rootDir *rootDir // the root's descriptor, every path is resolved beneath
	// dirs remembers directory paths for AbsOfGFID, which verifies what
	// it takes from it: without it every directory's handle chain was
	// walked up to the root, and a chain of directories cost the square
	// of its depth.
	dirs *DirCache
	// locks serializes counter updates (lockCounters); handleDirs marks
	// the .glusterfs/xx/yy directories known to exist, so a new handle
	// does not try to make its directory every time.
	locks      *counterLocks
	handleDirs *[handleDirWords]atomic.Uint64
	// dirFDs keeps .glusterfs's directories open (see dirFDs).
	dirFDs *dirFDs
}

// handleDirWords is the size of the bitmap of handle directories: one bit
// for each of the 65,536 .glusterfs/xx/yy.
const handleDirWords = 65536 / 64

// dirCacheLimit bounds a brick's directory cache (see DirCache).
const dirCacheLimit = 1 << 14

// Open returns the brick at root using namespace ns. It checks only that
// root is a directory; Check validates the brick's GlusterFS layout.
func Open(root, ns string) (*Brick, error) {
	if ns != NSTrusted && ns != NSUser {
		return nil, fmt.Errorf("brick %s: unknown xattr namespace %q (want %q or %q)", root, ns, NSTrusted, NSUser)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("brick %s: %w", root, err)
	}
	b := &Brick{Root: abs, NS: ns, rootDir: new(rootDir), dirs: NewDirCache(dirCacheLimit), locks: new(counterLocks), handleDirs: new([handleDirWords]atomic.Uint64)}
	b.keepDirFDs()
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, b.errorf("open", "/", err)
	}
	if !fi.IsDir() {
		return nil, b.errorf("open", "/", fmt.Errorf("not a directory"))
	}
	return b, nil
}

// Beneath returns a Brick for path operations only (the heal index's
// files): it checks nothing and does not touch the disk until it is used,
// and every path it is given is resolved beneath root like any brick's.
func Beneath(root string) *Brick {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = filepath.Clean(root)
	}
	b := &Brick{Root: abs, NS: NSTrusted, rootDir: new(rootDir), locks: new(counterLocks), handleDirs: new([handleDirWords]atomic.Uint64)}
	b.keepDirFDs()
	return b
}

// keepDirFDs gives b its kept directories, closed by Close or, for a
// Brick never closed, when it is garbage collected.
func (b *Brick) keepDirFDs() {
	b.dirFDs = new(dirFDs)
	runtime.AddCleanup(b, func(c *dirFDs) { c.close() }, b.dirFDs)
}

// DefaultNS is the namespace a process can use: trusted as root, user
// otherwise.
func DefaultNS() string {
	if os.Geteuid() == 0 {
		return NSTrusted
	}
	return NSUser
}

// String returns the brick's root path.
func (b *Brick) String() string { return b.Root }

// CleanPath turns a volume path ("/a/b", "a/b") into its canonical form
// ("/a/b"). A path with a ".." component that would climb above the volume
// root is rejected rather than silently clamped, because it always means the
// caller was handed something hostile or confused.
func CleanPath(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%q: %w", p, ErrOutsideBrick)
	}
	depth := 0
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return "", fmt.Errorf("%q: %w", p, ErrOutsideBrick)
			}
		default:
			depth++
		}
	}
	return filepath.Clean("/" + p), nil
}

// Abs maps a volume path to the path of the brick's copy. It refuses paths
// that climb out of the brick and paths into .glusterfs. Whether the parent
// directories on the brick are symlinks (which could point anywhere) is
// checked by every operation on the path, when it resolves it: a check
// here would be stale by then.
func (b *Brick) Abs(volPath string) (string, error) {
	clean, err := CleanPath(volPath)
	if err != nil {
		return "", b.errorf("resolve", volPath, err)
	}
	if clean == "/"+GlusterDir || strings.HasPrefix(clean, "/"+GlusterDir+"/") {
		return "", b.errorf("resolve", volPath, fmt.Errorf("%w: .glusterfs is internal", ErrOutsideBrick))
	}
	if clean == "/" {
		return b.Root, nil
	}
	return b.Root + clean, nil
}

// GlusterPath returns the absolute path of rel inside .glusterfs.
func (b *Brick) GlusterPath(rel ...string) string {
	return filepath.Join(append([]string{b.Root, GlusterDir}, rel...)...)
}
