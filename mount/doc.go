// Package mount serves a replicated volume through FUSE (go-fuse's fs
// API), every change going through package engine's AFR transaction, so
// the bricks carry the changelog heal info, heal and GlusterFS read.
//
// What it serves is one replica set: an afrkit volume, or the local
// bricks of a stopped GlusterFS replicate volume. Reads come from a copy
// afr.Readable allows, never from a blamed one; a file in data
// split-brain reads EIO, and GlusterFS's replica.split-brain-* xattrs
// show, choose and finalize its copy as on a GlusterFS mount. A brick whose fop fails the way failing disks
// fail (EIO, ENOSPC, EDQUOT, EROFS, or its root gone) is marked down:
// the fop stands on the others when the quorum allows, they blame it, its
// descriptors are closed so the operator can unmount the disk, and it is
// probed and taken back once healthy.
//
// Every transaction takes AFR's locks on the bricks (package lock), which
// afrkit heal takes too, so a heal runs while the volume is mounted. A
// file's data session (the eager lock) holds its data lock until its
// delayed post-op, or until a heal or another fop on the inode waits for
// it (lock.Owner.Contended), whichever comes first.
//
// File locks (fcntl and flock) are kept by the kernel for this mount, as
// for any FUSE file system that does not ask for them: one mount per
// volume per host shares them among all its processes.
package mount
