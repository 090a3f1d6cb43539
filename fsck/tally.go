package fsck

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/afrkit/afrkit/afr"
)

// A tally lets the handle tree and the heal index of a brick be checked
// by listing them, without reading every file again.
//
// The namespace walk reads each file's gfid and counters and checks its
// handle. Going over every file a second time from the
// handle tree, and a third time from the index, reads the files in gfid
// order, which is random on disk: on a brick of a million files those two
// walks cost more than the namespace walk itself, as soon as the files'
// xattrs no longer fit in the page cache. So the namespace walk counts
// what it proved, and the handle tree and the index are first only listed:
//
//   - files counts distinct inodes, neither directories nor symlinks,
//     whose handle is that very inode. Two such inodes cannot share a gfid
//     (a handle is one inode), so each owns one handle entry that is not a
//     symlink; when the handle tree holds exactly as many such entries,
//     every one of them is a proven handle: no orphan, no handle that names
//     another gfid than its file's.
//   - indexed is the set of gfids of distinct proven inodes and
//     directories that must have an xattrop entry: those whose pending
//     counters are set, and those with only trusted.afr.dirty set that
//     the walk found in xattrop. It is kept as a count and a keyed 128-bit
//     multiset hash, never as a list, so that memory does not grow with the
//     files. When the xattrop listing has the same count and hash, every
//     copy that needs an entry has one, and no entry is stale, without one
//     lookup in an index directory of a million names per file.
//
// When a count or hash differs, the entries are checked one by one, as
// without the tally (for the index: the stale ones by checkXattrop, the
// missing ones by a second namespace walk that only looks them up): the
// tally changes how fast a sound brick is checked, never what is found.
type tally struct {
	files   atomic.Int64
	indexed gfidSet
	// handleEntries and xattrop are what the listings found.
	handleEntries atomic.Int64
	xattrop       gfidSet

	mu sync.Mutex
	// linked holds the hard-linked inodes (more than one name besides the
	// handle) already counted. Only those need remembering, so memory grows
	// with hard links, not with files.
	linked map[uint64]struct{}
}

// gfidSet is a set of gfids, each added once, kept as its size and a
// multiset hash: the sum of two keyed hashes of each member. Two sets that
// differ have the same hash by chance only (about 2^-128).
type gfidSet struct {
	seeds [2]maphash.Seed
	n     atomic.Int64
	sum   [2]atomic.Uint64
}

func (s *gfidSet) add(g afr.GFID) {
	s.n.Add(1)
	for i := range s.sum {
		s.sum[i].Add(maphash.Bytes(s.seeds[i], g[:]))
	}
}

func (s *gfidSet) equal(o *gfidSet) bool {
	return s.n.Load() == o.n.Load() && s.sum[0].Load() == o.sum[0].Load() && s.sum[1].Load() == o.sum[1].Load()
}

func newTally() *tally {
	t := &tally{}
	// Both sets hash with the same keys, or their sums could never match.
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	t.indexed.seeds, t.xattrop.seeds = seeds, seeds
	return t
}

// prove records a copy whose handle is proven and, when it must have an
// xattrop entry, its gfid. A hard-linked file counts once, whichever of
// its names the walk reaches first: all its names read the same inode.
func (t *tally) prove(st *syscall.Stat_t, indexed *afr.GFID) {
	typ := st.Mode & syscall.S_IFMT
	if typ != syscall.S_IFDIR && st.Nlink > 2 {
		t.mu.Lock()
		_, seen := t.linked[st.Ino]
		if !seen {
			if t.linked == nil {
				t.linked = map[uint64]struct{}{}
			}
			t.linked[st.Ino] = struct{}{}
		}
		t.mu.Unlock()
		if seen {
			return
		}
	}
	if typ != syscall.S_IFDIR && typ != syscall.S_IFLNK {
		t.files.Add(1)
	}
	if indexed != nil {
		t.indexed.add(*indexed)
	}
}

// handlesProven reports whether every handle entry that is not a symlink
// is the proven handle of a file of the namespace.
func (t *tally) handlesProven() bool { return t.handleEntries.Load() == t.files.Load() }

// indexProven reports whether the xattrop entries are exactly those of
// the proven files and directories that must have one.
func (t *tally) indexProven() bool { return t.xattrop.equal(&t.indexed) }
