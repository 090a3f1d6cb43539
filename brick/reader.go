package brick

import (
	"io"
	"os"

	"github.com/afrkit/afrkit/afr"
)

// Reader reads one brick's copies without writing and without locks: what
// heal info, explain and heal status read. A brick directory on this host is
// read through Brick (LocalReader); a brick on another host, or one whose
// brick process serves it, over GlusterFS's own protocol (package
// brick/remote). Both meet one contract, checked by the suite in package
// brick/readertest.
//
// A Reader is safe for concurrent use. Every path is a volume path ("/",
// "/d/f"); a brick's internal names (.glusterfs, the anonymous-inode
// directory) are never part of what it returns.
type Reader interface {
	// String names the brick in messages (host:/path or the local path).
	String() string
	// Reply is what the brick holds for the entry at a volume path: a
	// missing entry gives Exists=false and no error; a copy the brick
	// cannot read gives an error naming the brick and the path, with the
	// fields read so far.
	Reply(volPath string, pendingKeys []string) (afr.Reply, error)
	// ReplyGFID is Reply for the inode with gfid g; a gfid the brick does
	// not have gives Exists=false and no error.
	ReplyGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error)
	// CountersGFID is ReplyGFID cut down to what afr.HealInfo reads:
	// existence, type, size, mode, owner and the AFR counters.
	CountersGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error)
	// PathOf is the volume path of the inode with gfid g, as the brick's
	// own records (its directory handles and gfid2path xattrs) give it.
	PathOf(g afr.GFID) (string, error)
	// ReadDir lists the names in the directory at a volume path.
	ReadDir(volPath string) ([]string, error)
	// OpenGFID opens the regular file with gfid g for reading; anything
	// else (a directory, a symlink, a FIFO) is refused without being
	// opened.
	OpenGFID(g afr.GFID) (File, error)
}

// File is a copy opened for reading.
type File interface {
	io.ReaderAt
	io.Closer
}

// LocalReader reads b through its directory. dirs (which may be nil)
// remembers directory paths across PathOf calls.
func LocalReader(b *Brick, dirs *DirCache) Reader { return localReader{b, dirs} }

type localReader struct {
	*Brick
	dirs *DirCache
}

func (r localReader) PathOf(g afr.GFID) (string, error) { return r.PathOfCached(g, r.dirs) }

func (r localReader) OpenGFID(g afr.GFID) (File, error) {
	f, err := r.OpenFile(r.HandlePath(g), os.O_RDONLY)
	if err != nil {
		return nil, r.errorf("open", "<gfid:"+g.String()+">", err)
	}
	return f, nil
}

func (r localReader) ReadDir(volPath string) ([]string, error) {
	abs, err := r.Abs(volPath)
	if err != nil {
		return nil, err
	}
	return r.ReadDirNames(abs, volPath)
}
