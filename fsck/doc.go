// Package fsck checks the bricks of a volume offline: the brick root, the
// gfid, handle and gfid2path of every entry, the .glusterfs handle tree,
// the heal index, the AFR changelog xattrs, the copies of every name
// across a replica set, and rsync temp files left behind. It reads only;
// a Report lists each finding with its class, brick, path and gfid, and
// what a repair would do or why a person must choose.
package fsck
