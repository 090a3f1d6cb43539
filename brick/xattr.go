package brick

import (
	"bytes"
	"errors"
	"strings"
	"syscall"

	"github.com/pkg/xattr"
)

// key maps a namespace-less key ("afr.dirty") to the brick's namespace
// ("trusted.afr.dirty" or "user.afr.dirty").
func (b *Brick) key(k string) string { return b.NS + "." + k }

// unkey strips the brick's namespace from a full key, reporting whether
// the key was in it.
func (b *Brick) unkey(full string) (string, bool) {
	return strings.CutPrefix(full, b.NS+".")
}

// normalizeXattrErr maps the library's errors to this package's sentinels,
// because ENODATA, ENOATTR and ENOTSUP/EOPNOTSUPP are how the kernel reports
// "absent" and "unsupported" depending on filesystem and platform.
func normalizeXattrErr(err error) error {
	var xe *xattr.Error
	if errors.As(err, &xe) {
		err = xe.Err
	}
	switch {
	case errors.Is(err, xattr.ENOATTR), errors.Is(err, syscall.ENODATA):
		return ErrNoAttr
	case errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.EOPNOTSUPP):
		return ErrXattrUnsupported
	}
	return err
}

// getXattr reads key k of the file at abs, without following symlinks.
func (b *Brick) getXattr(abs, k string) ([]byte, error) {
	return b.getRawXattr(abs, b.key(k))
}

// setXattr writes key k. With create set it fails if the key exists, as
// GlusterFS does for gfid and gfid2path (XATTR_CREATE).
func (b *Brick) setXattr(abs, k string, v []byte, create bool) error {
	var flags int
	if create {
		flags = xattr.XATTR_CREATE
	}
	a, err := b.resolve("setxattr", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.setxattr(b.key(k), v, flags); err != nil {
		return normalizeXattrErr(err)
	}
	return nil
}

// removeXattr removes key k; an absent key is not an error.
func (b *Brick) removeXattr(abs, k string) error {
	a, err := b.resolve("removexattr", abs)
	if err != nil {
		return err
	}
	defer a.close()
	if err := xattr.LRemove(a.proc(), b.key(k)); err != nil {
		if err = normalizeXattrErr(err); err == ErrNoAttr {
			return nil
		}
		return err
	}
	return nil
}

// listXattr returns every full key name of the file at abs. A brick
// entry's names fit in a small buffer, so one llistxattr call reads them
// (the library asks for the size first: two calls per list); a longer list
// is read again at the size the kernel reports.
func (b *Brick) listXattr(abs string) ([]string, error) {
	a, err := b.resolve("listxattr", abs)
	if err != nil {
		return nil, err
	}
	defer a.close()
	return a.listxattr()
}

// splitNames splits llistxattr's NUL-terminated names.
func splitNames(b []byte) []string {
	names := make([]string, 0, bytes.Count(b, []byte{0}))
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			i = len(b)
		}
		if i > 0 {
			names = append(names, string(b[:i]))
		}
		b = b[min(i+1, len(b)):]
	}
	return names
}

// hasKey reports whether names (full names, from listXattr) hold the
// namespace-less key k of this brick, without building the full name.
func (b *Brick) hasKey(names []string, k string) bool {
	for _, n := range names {
		if len(n) == len(b.NS)+1+len(k) && n[len(b.NS)] == '.' && n[:len(b.NS)] == b.NS && n[len(b.NS)+1:] == k {
			return true
		}
	}
	return false
}

// getRawXattr reads a full key name, for xattrs outside afrkit's namespace.
func (b *Brick) getRawXattr(abs, full string) ([]byte, error) {
	a, err := b.resolve("getxattr", abs)
	if err != nil {
		return nil, err
	}
	defer a.close()
	return a.getxattr(full)
}
