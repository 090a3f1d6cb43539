package fsck

import (
	"sync"
	"sync/atomic"
	"syscall"
)

// A tally lets the handle tree and the heal index of a brick be checked
// by listing them, without reading every file again.
//
// The namespace walk reads each file's gfid and counters and checks its
// handle and its index entry. Going over every file a second time from the
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
//   - indexed counts distinct proven inodes and directories with a counter
//     set whose xattrop index entry exists. Their gfids are distinct too,
//     so when the xattrop index holds exactly as many entries, none of them
//     is stale.
//
// When a count differs, the entries are checked one by one, as without the
// tally: the tally changes how fast a sound brick is checked, never what
// is found.
type tally struct {
	files, indexed atomic.Int64
	// handleEntries and xattropEntries are what the listings found.
	handleEntries, xattropEntries atomic.Int64

	mu sync.Mutex
	// linked holds the hard-linked inodes (more than one name besides the
	// handle) already counted. Only those need remembering, so memory grows
	// with hard links, not with files.
	linked map[uint64]struct{}
}

// prove records a copy whose handle is proven, and whether its counters
// are set with an xattrop entry. A hard-linked file counts once, whichever
// of its names the walk reaches first: all its names read the same inode.
func (t *tally) prove(st *syscall.Stat_t, indexed bool) {
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
	if indexed {
		t.indexed.Add(1)
	}
}

// handlesProven reports whether every handle entry that is not a symlink
// is the proven handle of a file of the namespace.
func (t *tally) handlesProven() bool { return t.handleEntries.Load() == t.files.Load() }

// indexProven reports whether every xattrop entry is the entry of a
// proven file or directory whose counters are set.
func (t *tally) indexProven() bool { return t.xattropEntries.Load() == t.indexed.Load() }
