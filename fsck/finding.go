package fsck

import (
	"cmp"
	"slices"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/lock"
)

// Class names a kind of finding. The names are stable: they are what
// --json prints and what a script matches on.
type Class string

// Brick root.
const (
	ClassVolumeID     Class = "volume-id"      // volume-id missing or of another volume
	ClassRootGFID     Class = "root-gfid"      // the root's trusted.gfid is not 00…01
	ClassGlusterfsDir Class = "glusterfs-tree" // .glusterfs or one of its fixed parts missing
)

// Entries of the namespace.
const (
	ClassMissingGFID   Class = "missing-gfid"   // no trusted.gfid
	ClassMalformedGFID Class = "malformed-gfid" // trusted.gfid not 16 bytes, or all zero
	ClassMissingHandle Class = "missing-handle" // no .glusterfs handle for the entry's gfid
	ClassWrongHandle   Class = "wrong-handle"   // the handle is another file or leads elsewhere
	ClassGfid2path     Class = "gfid2path"      // a gfid2path key missing, stale or malformed
	ClassDuplicateGFID Class = "duplicate-gfid" // two names, one gfid, and not hard links
	// ClassXattrList: more xattr names than llistxattr returns (E2BIG),
	// as thousands of hard links with their gfid2path make on XFS.
	ClassXattrList Class = "xattr-list"
)

// The .glusterfs handle tree.
const (
	ClassOrphanHandle   Class = "orphan-handle"   // a file handle with no name in the volume
	ClassDanglingHandle Class = "dangling-handle" // a directory handle that leads nowhere
	ClassHandleGFID     Class = "handle-gfid"     // a handle whose target carries another gfid
)

// The heal index.
const (
	ClassStaleIndex        Class = "stale-index"         // entry for a gone file or zero counters
	ClassMissingIndex      Class = "missing-index"       // counters set, no index entry
	ClassIndexBase         Class = "index-base"          // more than one xattrop-* base file
	ClassStaleEntryChanges Class = "stale-entry-changes" // entry-changes of a gone directory
)

// AFR changelog xattrs.
const (
	ClassChangelogLength  Class = "changelog-length"  // not 12 bytes
	ClassForeignChangelog Class = "foreign-changelog" // a key for a client not in the replica set
	ClassSelfAccusation   Class = "self-accusation"   // a brick blames itself
)

// Across the bricks of a replica set.
const (
	ClassGFIDMismatch Class = "gfid-mismatch"
	ClassTypeMismatch Class = "type-mismatch"
	// ClassSplitBrain: the copies' counters blame each other, so no copy
	// is a source: what heal info split-brain lists.
	ClassSplitBrain Class = "split-brain"
	// ClassSilentDifference: copies differ (missing, size, mode, owner,
	// content with --deep) and no counter anywhere says which is right.
	ClassSilentDifference Class = "silent-difference"
	ClassStaleLinkfile    Class = "stale-linkfile" // a DHT link file whose target is gone
	ClassStaleTemp        Class = "stale-temp"     // an rsync temp file left behind
)

// classOrder is the order classes are reported in: from the brick root
// down to the content, so that a cause comes before its consequences.
var classOrder = []Class{
	ClassVolumeID, ClassRootGFID, ClassGlusterfsDir,
	ClassMissingGFID, ClassMalformedGFID, ClassMissingHandle, ClassWrongHandle, ClassGfid2path, ClassDuplicateGFID, ClassXattrList,
	ClassOrphanHandle, ClassDanglingHandle, ClassHandleGFID,
	ClassStaleIndex, ClassMissingIndex, ClassIndexBase, ClassStaleEntryChanges,
	ClassChangelogLength, ClassForeignChangelog, ClassSelfAccusation,
	ClassGFIDMismatch, ClassTypeMismatch, ClassSplitBrain, ClassSilentDifference, ClassStaleLinkfile, ClassStaleTemp,
}

// Classes lists every class in report order.
func Classes() []Class { return slices.Clone(classOrder) }

func classRank(c Class) int {
	if i := slices.Index(classOrder, c); i >= 0 {
		return i
	}
	return len(classOrder)
}

// Finding is one problem on one brick (or, for the classes that compare
// bricks, on a replica set: Brick then lists the bricks involved).
type Finding struct {
	Class Class `json:"class"`
	// Brick labels the brick ("b0", "host:/path"); BrickRoot is its path.
	Brick     string `json:"brick"`
	BrickRoot string `json:"brick_root,omitempty"`
	// Path is the entry's path in the volume, or a path under .glusterfs
	// (relative to the brick) for the handle tree and the index.
	Path string `json:"path"`
	GFID string `json:"gfid,omitempty"`
	// Detail says what is wrong, in a sentence.
	Detail string `json:"detail"`
	// Repair says what --repair would do; empty when nothing has one right
	// answer and a person must choose (Manual says how).
	Repair string `json:"repair,omitempty"`
	Manual string `json:"manual,omitempty"`
	// Size is the bytes an orphan handle holds.
	Size int64 `json:"size,omitempty"`
	// Versions are the competing copies of a stale temp file and its final
	// name, for a person to choose between.
	Versions []Version `json:"versions,omitempty"`
	// Candidate is set for a stale temp file whose suffix reads as a word:
	// it may be an ordinary dotfile, so its Repair runs only when
	// RepairOptions.RenamePaths names it, and Manual says how.
	Candidate bool `json:"candidate,omitempty"`
	// fix makes the repair that Repair describes; nil when there is none.
	fix func(q *quarantine) error
	// clash, for a stale temp file whose final name holds other content,
	// keeps the version a person chose (RepairOptions.ClashKeeps).
	clash func(q *quarantine, keep ClashKeep) error
	// inUse, for a stale temp file, reports whether it was written so
	// recently (at now) that a transfer through the mount may still be
	// writing it: a repair beside a mount leaves it.
	inUse func(now time.Time) bool
	// locks are the AFR locks the fix takes on every brick, as the mount's
	// fops on the same names and inodes take them, so that it can run
	// while the volume is mounted (RepairOptions.Lock); nil for a fix
	// that must wait for the volume to be unmounted.
	locks []lock.Key
}

// inodeLocks are the locks every fop of the mount on the inode g takes one
// of: its data and metadata (inodelk) and, for a directory, its names
// (entrylk on all of them). A fix of g's index entries holds them all.
func inodeLocks(g afr.GFID) []lock.Key {
	return []lock.Key{lock.Whole(lock.Data, g), lock.Dir(lock.Data, g)}
}

// Version describes one copy offered for a person to choose.
type Version struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mtime  string `json:"mtime"`
	Blake3 string `json:"blake3"`
}

// Repairable reports whether --repair has one right answer for f.
// A candidate is not: its Repair runs only when a person names it.
func (f Finding) Repairable() bool { return f.Repair != "" && !f.Candidate }

// Report is the result of a check.
type Report struct {
	Volume string `json:"volume,omitempty"`
	// Bricks are the bricks checked, by label.
	Bricks []string `json:"bricks"`
	// Remote are the bricks of Bricks read over the network: compared
	// with the other copies of their replica sets, not checked within.
	Remote []string `json:"remote_bricks,omitempty"`
	// Unreached are the bricks on other hosts that could not be read.
	Unreached []Unreached `json:"unreached,omitempty"`
	Entries   int64       `json:"entries"`
	Handles   int64       `json:"handles"`
	Indexed   int64       `json:"index_entries"`
	Findings  []Finding   `json:"findings"`
	// rechecked names the handle trees and xattrop indexes whose entries
	// had to be checked one by one because the tally did not prove them.
	rechecked []string
}

// Unreached is a brick that could not be read, and why.
type Unreached struct {
	Brick string `json:"brick"`
	Err   string `json:"error"`
}

// sort orders the findings by class, then path, then brick, so that
// reports are stable whatever order the walk found them in.
func (r *Report) sort() {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(classRank(a.Class), classRank(b.Class)),
			cmp.Compare(a.Path, b.Path), cmp.Compare(a.Brick, b.Brick))
	})
}

// Count is the number of findings of one class.
type Count struct {
	Class Class `json:"class"`
	N     int   `json:"n"`
}

// Counts returns the number of findings per class, in report order.
func (r *Report) Counts() []Count {
	var out []Count
	for _, c := range classOrder {
		n := 0
		for _, f := range r.Findings {
			if f.Class == c {
				n++
			}
		}
		if n > 0 {
			out = append(out, Count{c, n})
		}
	}
	return out
}
