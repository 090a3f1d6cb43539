package brick

import (
	"errors"
	"fmt"
)

// Sentinel errors. Each is wrapped in an *Error naming the brick and path.
var (
	ErrNoAttr           = errors.New("brick: no such xattr")
	ErrXattrUnsupported = errors.New("brick: filesystem does not support extended attributes")
	ErrBadLength        = errors.New("brick: xattr value has the wrong length")
	ErrBadGFID          = errors.New("brick: malformed gfid")
	ErrNoGFID           = errors.New("brick: entry has no gfid")
	ErrNoHandle         = errors.New("brick: gfid has no handle")
	ErrDanglingHandle   = errors.New("brick: dangling gfid handle")
	ErrBadHandle        = errors.New("brick: malformed gfid handle")
	ErrOutsideBrick     = errors.New("brick: path leaves the brick")
	ErrNotBrick         = errors.New("brick: not a brick (no .glusterfs directory)")
	ErrForeignBrick     = errors.New("brick: brick belongs to another volume")
	ErrNoVolumeID       = errors.New("brick: brick root has no volume-id")
	ErrBadGfid2path     = errors.New("brick: malformed gfid2path value")
	ErrResolveLoop      = errors.New("brick: gfid resolution does not reach the root")
	// ErrXattrListTooLong: the entry has more xattr names than llistxattr
	// can return (64 KiB of names: E2BIG), as a file with thousands of
	// hard links, each with its gfid2path, has on XFS. Its keys can still
	// be read by name; what it holds beyond those cannot be known.
	ErrXattrListTooLong = errors.New("brick: more xattr names than llistxattr returns (E2BIG)")
)

// Error describes a failed operation on one brick.
type Error struct {
	Brick string // brick root directory
	Path  string // path inside the brick ("/a/b"), or a .glusterfs path
	Op    string // what was being done, e.g. "read trusted.gfid"
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("brick %s: %s %s: %v", e.Brick, e.Op, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func (b *Brick) errorf(op, path string, err error) error {
	return &Error{Brick: b.Root, Path: path, Op: op, Err: err}
}
