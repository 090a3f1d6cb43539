// Package index keeps a brick's heal index exactly as GlusterFS's index
// xlator does (xlators/features/index/src/index.c), so that afrkit and
// GlusterFS's self-heal daemon and glfsheal read each other's entries.
//
// # Layout
//
// Under <brick>/.glusterfs/indices:
//
//   - xattrop/<gfid>: one hard link per inode with a non-zero
//     trusted.afr.<VOL>-client-* counter, all linked to a base file
//     xattrop-<uuid> (mode 0) so that an entry costs an inode link, not an
//     inode;
//   - dirty/<gfid>: the same for a non-zero trusted.afr.dirty, with base
//     dirty-<uuid>;
//   - entry-changes/<pgfid>/<name>: granular entry heal, one name per entry
//     created or removed in directory pgfid while a brick was down, linked to
//     entry-changes/entry-changes-<uuid>.
//
// Directories are created with mode 0600, as index_dir_create does. Base
// files are never listed as entries. Listing streams names in batches so a
// million-entry index is never held in memory.
package index

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// Subdir names one of the gfid-keyed index directories.
type Subdir string

const (
	Xattrop      Subdir = "xattrop"
	Dirty        Subdir = "dirty"
	EntryChanges Subdir = "entry-changes"
)

// glusterDirMode is the mode index_dir_create gives every index
// directory: no search bit, which root does not need.
const glusterDirMode = 0o600

// userDirMode is the mode of a new index directory on an ordinary user's
// volume (user.* xattrs): the owner's search bit too, without which the
// user could not reach the entries it made.
const userDirMode = 0o700

// batch is how many names one readdir call returns while streaming.
const batch = 4096

// Index is the heal index of one brick. It is safe for concurrent use.
type Index struct {
	// Dir is <brick>/.glusterfs/indices.
	Dir string
	// fs resolves every index path beneath the brick root, so that a
	// symlink planted in the index never sends a link or an unlink
	// beyond the brick.
	fs *brick.Brick
	// dirMode is the mode of the directories it makes.
	dirMode fs.FileMode

	// bases caches the base file of each directory, found or made on first
	// use, as the index xlator keeps it in memory: finding it means reading
	// the whole directory, which must not happen once per Add.
	mu    sync.Mutex
	bases map[string]string
}

// Open returns the index of the brick rooted at brickRoot. It does not
// touch the disk.
func Open(brickRoot string) *Index {
	return OpenNS(brickRoot, brick.NSTrusted)
}

// OpenNS is Open for a brick whose xattrs are in namespace ns: a volume
// in the user namespace is an ordinary user's, whose index directories
// that user must be able to search.
func OpenNS(brickRoot, ns string) *Index {
	b := brick.Beneath(brickRoot)
	mode := fs.FileMode(glusterDirMode)
	if ns == brick.NSUser {
		mode = userDirMode
	}
	return &Index{Dir: filepath.Join(b.Root, brick.GlusterDir, "indices"), fs: b, dirMode: mode}
}

// Close lets go of the brick's file system (see brick.Brick.Close).
func (ix *Index) Close() error { return ix.fs.Close() }

// Init creates the index directories. It is idempotent.
func (ix *Index) Init() error {
	for _, d := range []string{ix.Dir, ix.path(Xattrop), ix.path(Dirty), ix.path(EntryChanges)} {
		if err := ix.fs.EnsureDir(d, ix.dirMode); err != nil {
			return fmt.Errorf("index: create %s: %w", d, err)
		}
	}
	return nil
}

func (ix *Index) path(sub Subdir, rest ...string) string {
	return filepath.Join(append([]string{ix.Dir, string(sub)}, rest...)...)
}

// basePrefix is the name prefix of a directory's base file.
func basePrefix(sub Subdir) string { return string(sub) + "-" }

// IsBase reports whether name is a base file of sub rather than an entry.
func IsBase(sub Subdir, name string) bool { return strings.HasPrefix(name, basePrefix(sub)) }

// base returns the path of a base file in dir for sub, creating one if none
// exists or if fresh is set (the old one hit EMLINK or vanished).
func (ix *Index) base(dir string, sub Subdir, fresh bool) (string, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if cached, ok := ix.bases[dir]; ok && !fresh {
		return cached, nil
	}
	p, err := ix.findOrMakeBase(dir, sub, fresh)
	if err != nil {
		return "", err
	}
	if ix.bases == nil {
		ix.bases = map[string]string{}
	}
	ix.bases[dir] = p
	return p, nil
}

func (ix *Index) findOrMakeBase(dir string, sub Subdir, fresh bool) (string, error) {
	if !fresh {
		bases, err := ix.listBases(dir, sub)
		if err != nil {
			return "", err
		}
		if len(bases) > 0 {
			return filepath.Join(dir, bases[0]), nil
		}
	}
	p := filepath.Join(dir, basePrefix(sub)+brick.NewGFID().String())
	f, err := ix.fs.CreateFile(p, 0)
	if err != nil {
		return "", fmt.Errorf("index: create base %s: %w", p, err)
	}
	return p, f.Close()
}

func (ix *Index) listBases(dir string, sub Subdir) ([]string, error) {
	var bases []string
	err := ix.walkNames(dir, func(name string) error {
		if IsBase(sub, name) {
			bases = append(bases, name)
		}
		return nil
	})
	return bases, err
}

// Bases lists the base files of sub. More than one is legal (one per brick
// start) but worth reporting: stale bases have been seen to stall healing.
func (ix *Index) Bases(sub Subdir) ([]string, error) {
	return ix.listBases(ix.path(sub), sub)
}

// linkToBase hard-links link to the base file of sub in baseDir, retrying
// once with a fresh base on EMLINK as index_link_to_base does, or when the
// cached base vanished. An existing link is success.
func (ix *Index) linkToBase(baseDir string, sub Subdir, link string) error {
	for _, fresh := range []bool{false, true} {
		b, err := ix.base(baseDir, sub, fresh)
		if err != nil {
			return err
		}
		err = ix.fs.Link(b, link)
		switch {
		case err == nil, errors.Is(err, fs.ErrExist):
			return nil
		case errors.Is(err, syscall.EMLINK), errors.Is(err, fs.ErrNotExist):
			continue
		default:
			return fmt.Errorf("index: link %s: %w", link, err)
		}
	}
	return fmt.Errorf("index: link %s: no usable base file", link)
}

// Add records that g needs a look, in xattrop or dirty. Adding an entry
// that is there already is not an error.
func (ix *Index) Add(sub Subdir, g afr.GFID) error {
	if sub != Xattrop && sub != Dirty {
		return fmt.Errorf("index: Add to %q: want xattrop or dirty", sub)
	}
	return ix.linkToBase(ix.path(sub), sub, ix.path(sub, g.String()))
}

// Remove drops g from sub. Removing an absent entry is not an error.
func (ix *Index) Remove(sub Subdir, g afr.GFID) error {
	err := ix.fs.Remove(ix.path(sub, g.String()))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("index: remove %s/%s: %w", sub, g, err)
	}
	return nil
}

// Has reports whether g is in sub.
func (ix *Index) Has(sub Subdir, g afr.GFID) (bool, error) {
	ok, err := ix.fs.Exists(ix.path(sub, g.String()))
	if err != nil {
		return false, fmt.Errorf("index: stat %s/%s: %w", sub, g, err)
	}
	return ok, nil
}

// Entry is one name found in an index directory. Err is set, and GFID
// zero, when the name is not a gfid: GlusterFS would skip it, afrkit reports
// it.
type Entry struct {
	Name string
	GFID afr.GFID
	Err  error
}

// Lister lists a brick's index. Index lists a local brick's directory;
// package brick/remote lists one through the index translator's virtual
// directories, over the network. A Lister is safe for concurrent use.
type Lister interface {
	// Names calls fn with each name in sub in directory order, base files
	// included, "." and ".." not; a non-nil return from fn stops the
	// listing and is returned. fn runs in the caller's goroutine. A missing
	// directory lists nothing.
	Names(sub Subdir, fn func(name string) error) error
	// Has reports whether sub lists gfid g.
	Has(sub Subdir, g afr.GFID) (bool, error)
}

// Walk calls fn for every entry of sub (xattrop or dirty) that l lists, in
// directory order, leaving out the base file. fn is called in the caller's
// goroutine; a non-nil return stops the walk and is returned.
func Walk(l Lister, sub Subdir, fn func(Entry) error) error {
	return l.Names(sub, func(name string) error {
		if IsBase(sub, name) {
			return nil
		}
		e := Entry{Name: name}
		g, err := brick.ParseGFID(name)
		if err != nil {
			e.Err = fmt.Errorf("index: %s/%s: %w", sub, name, err)
		}
		e.GFID = g
		return fn(e)
	})
}

// Walk is Walk of this index, reading names in batches so memory does not
// grow with the index.
func (ix *Index) Walk(sub Subdir, fn func(Entry) error) error { return Walk(ix, sub, fn) }

// Names implements Lister.
func (ix *Index) Names(sub Subdir, fn func(name string) error) error {
	return ix.walkNames(ix.path(sub), fn)
}

// Count returns the number of entries in sub, base files excluded, which is
// what glusterfs.xattrop_index_count reports for xattrop.
func (ix *Index) Count(sub Subdir) (int, error) {
	n := 0
	err := ix.walkNames(ix.path(sub), func(name string) error {
		if !IsBase(sub, name) {
			n++
		}
		return nil
	})
	return n, err
}

// walkNames streams the names of dir in batches.
func (ix *Index) walkNames(dir string, fn func(name string) error) error {
	f, err := ix.fs.OpenDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("index: open %s: %w", dir, err)
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(batch)
		for _, n := range names {
			if ferr := fn(n); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("index: read %s: %w", dir, err)
		}
	}
}

// Empty reports whether sub holds no entry (base files aside), reading no
// further than the first.
func (ix *Index) Empty(sub Subdir) (bool, error) {
	errFound := errors.New("found")
	err := ix.walkNames(ix.path(sub), func(name string) error {
		if IsBase(sub, name) {
			return nil
		}
		return errFound
	})
	if err == errFound {
		return false, nil
	}
	return err == nil, err
}
