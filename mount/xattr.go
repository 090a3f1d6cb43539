package mount

import (
	"context"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// clientKey reports whether a client of the mount may read and write the
// xattr name: user.* keys, except the ones afrkit keeps its own state in
// on a volume whose namespace is user.
func clientKey(b *brick.Brick, name string) bool {
	return strings.HasPrefix(name, "user.") && !b.IsInternalKey(name)
}

// metadataSource is the copy xattrs are read from: one readable for
// metadata.
func (n *node) metadataSource() (copies, int, syscall.Errno) {
	c := n.copies()
	if _, _, _, errno := c.entry(); errno != 0 {
		return c, -1, errno
	}
	src := first(afr.Readable(c.replies, afr.Metadata, true))
	if src < 0 {
		// A metadata split-brain: GlusterFS's getxattr fails the same way.
		return c, -1, syscall.EIO
	}
	return c, src, 0
}

// xattrValue reads the client xattr name from the metadata source.
func (n *node) xattrValue(name string) ([]byte, bool, syscall.Errno) {
	c, src, errno := n.metadataSource()
	if errno != 0 {
		return nil, false, errno
	}
	b := c.bricks[src]
	if !clientKey(b, name) {
		return nil, false, syscall.ENODATA
	}
	vals, err := b.XattrsNamed(c.abs[src], n.path(), []string{name})
	if err != nil {
		return nil, false, toErrno(err)
	}
	v, ok := vals[name]
	return v, ok, 0
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	var v []byte
	var ok bool
	var errno syscall.Errno
	switch {
	case attr == xattrSplitBrainStatus:
		v, errno = n.splitBrainStatus()
		ok = true
	case !strings.HasPrefix(attr, "user."):
		// security.capability, which the kernel asks for before every
		// write, and the other namespaces: never a client's here.
		return 0, syscall.ENODATA
	default:
		v, ok, errno = n.xattrValue(attr)
	}
	if errno != 0 {
		return 0, errno
	}
	if !ok {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	c, src, errno := n.metadataSource()
	if errno != 0 {
		return 0, errno
	}
	b := c.bricks[src]
	vals, err := b.RawXattrsIf(c.abs[src], n.path(), func(full string) bool { return clientKey(b, full) })
	if err != nil {
		return 0, toErrno(err)
	}
	var list []byte
	for k := range vals {
		list = append(list, k...)
		list = append(list, 0)
	}
	if len(dest) < len(list) {
		return uint32(len(list)), syscall.ERANGE
	}
	return uint32(copy(dest, list)), 0
}

// Setxattr sets a user.* xattr on every copy, as one metadata
// transaction; XATTR_CREATE and XATTR_REPLACE are checked against the
// metadata source.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	switch attr {
	case xattrSplitBrainChoice:
		return n.setSplitBrainChoice(data)
	case xattrSplitBrainFinalize:
		return n.finalizeSplitBrain(ctx, data)
	}
	if !strings.HasPrefix(attr, "user.") {
		return syscall.ENOTSUP
	}
	_, ok, errno := n.xattrValue(attr)
	if errno != 0 {
		return errno
	}
	switch {
	case flags&unix.XATTR_CREATE != 0 && ok:
		return syscall.EEXIST
	case flags&unix.XATTR_REPLACE != 0 && !ok:
		return syscall.ENODATA
	}
	if bs := n.m.upBricks(); len(bs) > 0 {
		for _, b := range bs {
			if b != nil && !clientKey(b, attr) {
				return syscall.EPERM
			}
		}
	}
	now := time.Now()
	return n.inodeOp(ctx, afr.Metadata, func(_ int, b *brick.Brick, abs string) error {
		if err := b.SetRawXattr(abs, n.path(), attr, data); err != nil {
			return err
		}
		return touchCtime(b, abs, n.path(), now)
	})
}

func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	_, ok, errno := n.xattrValue(attr)
	if errno != 0 {
		return errno
	}
	if !ok {
		return syscall.ENODATA
	}
	now := time.Now()
	return n.inodeOp(ctx, afr.Metadata, func(_ int, b *brick.Brick, abs string) error {
		if err := b.RemoveRawXattr(abs, n.path(), attr); err != nil {
			return err
		}
		return touchCtime(b, abs, n.path(), now)
	})
}
