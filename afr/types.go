package afr

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Kind is one of the three AFR transaction types. Its value is the index of
// the kind's counter in a changelog xattr (afr_index_for_transaction_type).
type Kind int

const (
	Data Kind = iota
	Metadata
	Entry
)

// Kinds lists the kinds in changelog order.
var Kinds = [3]Kind{Data, Metadata, Entry}

func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Metadata:
		return "metadata"
	case Entry:
		return "entry"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Changelog is the decoded value of a trusted.afr.* xattr: three counters,
// data, metadata and entry, each a big-endian int32 on disk.
type Changelog [3]int32

// IsZero reports whether every counter is zero.
func (c Changelog) IsZero() bool { return c == Changelog{} }

// FileType is the type of an entry on one brick.
type FileType uint8

const (
	TypeUnknown FileType = iota
	TypeRegular
	TypeDirectory
	TypeSymlink
	TypeOther // fifo, socket, device
)

func (t FileType) String() string {
	switch t {
	case TypeRegular:
		return "file"
	case TypeDirectory:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeOther:
		return "special"
	}
	return "unknown"
}

// GFID is a GlusterFS file identifier: 16 raw bytes, as in trusted.gfid.
type GFID [16]byte

// IsZero reports whether g is the all-zero (absent) gfid.
func (g GFID) IsZero() bool { return g == GFID{} }

// String formats g canonically (8-4-4-4-12 lowercase hex).
func (g GFID) String() string {
	var buf [36]byte
	g.Encode(buf[:])
	return string(buf[:])
}

// Encode writes the 36-byte canonical form into dst, without allocating:
// heal info formats a gfid per index entry.
func (g GFID) Encode(dst []byte) {
	hex.Encode(dst[0:8], g[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], g[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], g[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], g[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], g[10:16])
}

// Timespec is a time with nanoseconds, as stored in iatt and the mdata xattr.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// TimespecOf is t as a Timespec.
func TimespecOf(t time.Time) Timespec {
	return Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// Before reports whether t is strictly earlier than u.
func (t Timespec) Before(u Timespec) bool {
	return t.Sec < u.Sec || (t.Sec == u.Sec && t.Nsec < u.Nsec)
}

// behindTheVolumeSec is how many seconds newer than the mdata's mtime an
// inode's own mtime must be for latest-mtime to take it: a write through
// GlusterFS leaves the two microseconds apart (the client's clock, then
// the brick's), a write on the brick behind the volume's back moves only
// the inode's.
const behindTheVolumeSec = 2

// LatestMtime is the mtime latest-mtime and favorite-child-policy mtime
// compare: the mdata's, which GlusterFS reports, unless the copy was
// written on its brick behind the volume's back (its inode's mtime at
// least two seconds newer), when the inode's is the newer of the two and
// the one that says when the content was last written.
func (r Reply) LatestMtime() Timespec {
	limit := Timespec{Sec: r.Mtime.Sec + behindTheVolumeSec, Nsec: r.Mtime.Nsec}
	if limit.Before(r.InodeMtime) {
		return r.InodeMtime
	}
	return r.Mtime
}

// Reply is what one brick of a replica set holds for one entry. A slice of
// Replies is indexed by the brick's position in the replica set, which is also
// the index j of the pending key trusted.afr.<VOL>-client-<j> within the set.
type Reply struct {
	// Name labels the brick in reasons, e.g. "b1" or "host:/bricks/b1".
	Name string
	// Answered is false when the brick did not reply (down, unreadable).
	// The other fields are then meaningless.
	Answered bool
	// Arbiter is set for the arbiter brick of a replica 3 arbiter 1
	// set (always its third): it holds names and metadata, and for a
	// regular file no data, its size 0 (GlusterFS's arbiter translator
	// swallows writes and truncates).
	Arbiter bool
	// Exists is false when the brick answered but has no such entry.
	Exists bool
	GFID   GFID
	Type   FileType
	Size   int64
	Mode   uint32 // permission bits (07777)
	UID    uint32
	GID    uint32
	Mtime  Timespec
	Ctime  Timespec
	// InodeMtime is the inode's own mtime, where Mtime is the one the
	// mdata xattr keeps (GlusterFS's ctime feature reports that one).
	InodeMtime Timespec
	// Xattrs holds the xattrs that metadata heal copies (user.*, and
	// trusted.* other than trusted.afr.*, trusted.gfid, gfid2path,
	// volume-id), keyed by full name.
	Xattrs map[string]string
	// XattrsUnlisted is set when the brick could not list the entry's
	// xattr names (more than llistxattr returns): its counters were read
	// by name, but Xattrs is empty and says nothing. Comparisons treat
	// such a copy's xattrs as unknown, never as different, and metadata
	// heal refuses to copy or remove xattrs it cannot see.
	XattrsUnlisted bool
	// Pending[j] is this brick's trusted.afr.<VOL>-client-<j>; an absent
	// key is all zeros. len(Pending) equals the number of bricks.
	Pending []Changelog
	// Dirty is this brick's trusted.afr.dirty.
	Dirty Changelog
}
