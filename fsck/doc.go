// Package fsck checks bricks offline. This release has the rsync temp-file
// rule; the full checker (orphan handles, stale index entries, missing
// gfids, cross-brick comparison) comes with `afrkit fsck`.
package fsck
