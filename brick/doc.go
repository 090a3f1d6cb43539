// Package brick reads and writes one brick directory in GlusterFS's on-disk
// format, byte for byte, so that a brick written by afrkit is served by
// GlusterFS 10 and a brick written by GlusterFS is understood by afrkit.
//
// # Extended attributes
//
// Every piece of AFR state lives in extended attributes of the brick's files:
// trusted.gfid (16 raw bytes), trusted.afr.<VOL>-client-<N> and
// trusted.afr.dirty (three big-endian int32 counters: data, metadata, entry),
// trusted.gfid2path.<xxh64> ("<pgfid>/<name>", one per hard link),
// trusted.glusterfs.volume-id on the root, and trusted.glusterfs.mdata (57
// bytes of ctime, mtime and atime). The trusted namespace needs
// CAP_SYS_ADMIN, so a brick can be opened with another namespace (user.) for
// afrkit's own volumes when not running as root. All xattr calls go through
// xattr.go, which maps the library's errors onto this package's.
//
// # The .glusterfs tree
//
// Each gfid has a handle under .glusterfs/<g0>/<g1>/<gfid>: a hard link for
// a file, a symlink "../../<p0>/<p1>/<pgfid>/<name>" for a directory, and
// "../../.." for the root. Handles let a gfid be resolved to a path without
// walking the brick: directories by following the symlinks up to the root,
// other files by their gfid2path xattrs.
//
// # Errors
//
// Every failure is an *Error naming the brick, the path and the operation,
// wrapping one of the sentinels below (ErrBadLength, ErrBadGFID, ...) or the
// underlying system error, so callers can test with errors.Is and users read
// where the problem is.
package brick
