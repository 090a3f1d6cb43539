package brick

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/afrkit/afrkit/afr"
)

// Keys (without namespace) of the xattrs GlusterFS keeps on a brick.
const (
	KeyGFID          = "gfid"
	KeyDirty         = "afr.dirty"
	KeyAFRPrefix     = "afr."
	KeyGfid2pathPfx  = "gfid2path."
	KeyVolumeID      = "glusterfs.volume-id"
	KeyMdata         = "glusterfs.mdata"
	KeyDHT           = "glusterfs.dht"
	ChangelogSize    = 12
	MdataSize        = 57
	gfid2pathHexSize = 16
)

// Keys of afrkit's own, never GlusterFS's: they are written on afrkit's
// volumes only, and are bookkeeping that no heal copies and no client sees.
const (
	KeyAfrkitPrefix = "afrkit."
	// KeyHealResume marks a sink whose data heal stopped part way: how far
	// its data is durable, and which copy of the source it came from.
	KeyHealResume = "afrkit.heal-resume"
)

// RootGFID is the gfid of every volume's root directory.
var RootGFID = afr.GFID{15: 1}

// ParseGFID parses a canonical 8-4-4-4-12 gfid string.
func ParseGFID(s string) (afr.GFID, error) {
	var g afr.GFID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("%q: %w", s, ErrBadGFID)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return g, fmt.Errorf("%q: %w", s, ErrBadGFID)
	}
	return g, nil
}

// DecodeGFID checks and converts a raw trusted.gfid value.
func DecodeGFID(v []byte) (afr.GFID, error) {
	var g afr.GFID
	if len(v) != len(g) {
		return g, fmt.Errorf("%d bytes, want 16: %w", len(v), ErrBadLength)
	}
	copy(g[:], v)
	if g.IsZero() {
		return g, fmt.Errorf("all-zero gfid: %w", ErrBadGFID)
	}
	return g, nil
}

// NewGFID returns a random (version 4) gfid, as GlusterFS's clients do.
func NewGFID() afr.GFID {
	var g afr.GFID
	if _, err := rand.Read(g[:]); err != nil {
		panic(fmt.Sprintf("brick: crypto/rand failed: %v", err)) // never happens on Linux
	}
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

// EncodeChangelog returns the 12-byte on-disk form of c (three big-endian
// int32: data, metadata, entry).
func EncodeChangelog(c afr.Changelog) []byte {
	v := make([]byte, ChangelogSize)
	for i, n := range c {
		binary.BigEndian.PutUint32(v[4*i:], uint32(n))
	}
	return v
}

// DecodeChangelog parses a trusted.afr.* value. GlusterFS writes exactly 12
// bytes; anything else is corrupt and reported, never guessed at.
func DecodeChangelog(v []byte) (afr.Changelog, error) {
	var c afr.Changelog
	if len(v) != ChangelogSize {
		return c, fmt.Errorf("%d bytes, want %d: %w", len(v), ChangelogSize, ErrBadLength)
	}
	for i := range c {
		c[i] = int32(binary.BigEndian.Uint32(v[4*i:]))
	}
	return c, nil
}

// PendingKey is the changelog key (without namespace) that blames brick
// brickID, e.g. "afr.patchy-client-1".
func PendingKey(brickID string) string { return KeyAFRPrefix + brickID }

// Gfid2pathKey is the key (without namespace) of the gfid2path xattr for
// name in parent pgfid: "gfid2path." followed by the canonical (big-endian)
// XXH64, seed 0, of "<pgfid>/<name>" in 16 lowercase hex digits
// (posix_set_gfid2path_xattr, gf_xxh64_wrapper).
func Gfid2pathKey(pgfid afr.GFID, name string) string {
	return fmt.Sprintf("%s%016x", KeyGfid2pathPfx, xxhash.Sum64String(Gfid2pathValue(pgfid, name)))
}

// Gfid2pathValue is the value of a gfid2path xattr, without a trailing NUL.
func Gfid2pathValue(pgfid afr.GFID, name string) string {
	return pgfid.String() + "/" + name
}

// ParseGfid2path splits a gfid2path value into parent gfid and name.
func ParseGfid2path(v []byte) (afr.GFID, string, error) {
	s := strings.TrimRight(string(v), "\x00")
	pg, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return afr.GFID{}, "", fmt.Errorf("%q: %w", s, ErrBadGfid2path)
	}
	g, err := ParseGFID(pg)
	if err != nil {
		return afr.GFID{}, "", fmt.Errorf("%q: %w", s, ErrBadGfid2path)
	}
	return g, name, nil
}

// Mdata is the content of trusted.glusterfs.mdata: the times GlusterFS
// reports when features.ctime is on (posix_mdata_disk_t).
type Mdata struct {
	Ctime, Mtime, Atime afr.Timespec
}

// Encode returns the 57-byte on-disk form: u8 version 1, u64 flags 0, then
// ctime, mtime, atime as {u64 sec, u64 nsec}, all big-endian.
func (m Mdata) Encode() []byte {
	v := make([]byte, MdataSize)
	v[0] = 1
	off := 9
	for _, t := range []afr.Timespec{m.Ctime, m.Mtime, m.Atime} {
		binary.BigEndian.PutUint64(v[off:], uint64(t.Sec))
		binary.BigEndian.PutUint64(v[off+8:], uint64(t.Nsec))
		off += 16
	}
	return v
}

// DecodeMdata parses a trusted.glusterfs.mdata value.
func DecodeMdata(v []byte) (Mdata, error) {
	var m Mdata
	if len(v) != MdataSize {
		return m, fmt.Errorf("mdata is %d bytes, want %d: %w", len(v), MdataSize, ErrBadLength)
	}
	if v[0] != 1 {
		return m, fmt.Errorf("mdata version %d, want 1: %w", v[0], ErrBadLength)
	}
	off := 9
	for _, t := range []*afr.Timespec{&m.Ctime, &m.Mtime, &m.Atime} {
		t.Sec = int64(binary.BigEndian.Uint64(v[off:]))
		t.Nsec = int64(binary.BigEndian.Uint64(v[off+8:]))
		off += 16
	}
	return m, nil
}
