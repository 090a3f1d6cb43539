package brick

import (
	"errors"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The xattrs of an object are read relative to its parent's descriptor
// with getxattrat(2) and listxattrat(2) (Linux 6.13): no path is walked
// again, and nothing is followed. An older kernel says ENOSYS, and the
// object is then named through /proc/self/fd/<dir>/<name> (at.proc), which
// costs a procfs lookup per call: heal info makes millions of them.

// xattrArgs is the kernel's struct xattr_args.
type xattrArgs struct {
	value uint64
	size  uint32
	flags uint32
}

func getxattrat(dir int, name, key string, buf []byte) (int, error) {
	return xattrat(unix.SYS_GETXATTRAT, dir, name, key, buf, 0)
}

// xattrat is getxattrat(2) or setxattrat(2), as nr says: key of name in
// dir, with buf the value read or written and flags setxattr's.
func xattrat(nr uintptr, dir int, name, key string, buf []byte, flags int) (int, error) {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, err
	}
	k, err := unix.BytePtrFromString(key)
	if err != nil {
		return 0, err
	}
	args := xattrArgs{size: uint32(len(buf)), flags: uint32(flags)}
	if len(buf) > 0 {
		args.value = uint64(uintptr(unsafe.Pointer(&buf[0])))
	}
	n, _, errno := unix.Syscall6(nr, uintptr(dir), uintptr(unsafe.Pointer(p)), unix.AT_SYMLINK_NOFOLLOW,
		uintptr(unsafe.Pointer(k)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
	runtime.KeepAlive(buf) // its address travels as an integer in args
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func listxattrat(dir int, name string, buf []byte) (int, error) {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, err
	}
	var list unsafe.Pointer
	if len(buf) > 0 {
		list = unsafe.Pointer(&buf[0])
	}
	n, _, errno := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dir), uintptr(unsafe.Pointer(p)), unix.AT_SYMLINK_NOFOLLOW,
		uintptr(list), uintptr(len(buf)), 0)
	runtime.KeepAlive(buf)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func setxattrat(dir int, name, key string, value []byte, flags int) error {
	_, err := xattrat(unix.SYS_SETXATTRAT, dir, name, key, value, flags)
	return err
}

// setxattr writes key as lsetxattr does, with its flags (XATTR_CREATE,
// XATTR_REPLACE): through setxattrat(2) (Linux 6.13), or the /proc name
// on an older kernel. Every fop of the mount writes xattrs.
func (a at) setxattr(key string, value []byte, flags int) error {
	err := setxattrat(a.dir, a.name, key, value, flags)
	if errors.Is(err, unix.ENOSYS) {
		return unix.Lsetxattr(a.proc(), key, value, flags)
	}
	return err
}

// getxattrInto reads key into buf as lgetxattr does (a nil buf asks for
// the size).
func (a at) getxattrInto(key string, buf []byte) (int, error) {
	n, err := getxattrat(a.dir, a.name, key, buf)
	if errors.Is(err, unix.ENOSYS) {
		return unix.Lgetxattr(a.proc(), key, buf)
	}
	return n, err
}

// listxattrInto lists the names into buf as llistxattr does.
func (a at) listxattrInto(buf []byte) (int, error) {
	n, err := listxattrat(a.dir, a.name, buf)
	if errors.Is(err, unix.ENOSYS) {
		return unix.Llistxattr(a.proc(), buf)
	}
	return n, err
}

// getxattr reads the full key of the object, however long its value.
func (a at) getxattr(key string) ([]byte, error) {
	var small [256]byte
	buf := small[:]
	for {
		n, err := a.getxattrInto(key, buf)
		if errors.Is(err, unix.ERANGE) {
			size, serr := a.getxattrInto(key, nil)
			if serr != nil {
				return nil, normalizeXattrErr(serr)
			}
			// The value may grow between the calls: leave room.
			buf = make([]byte, size+len(small))
			continue
		}
		if err != nil {
			return nil, normalizeXattrErr(err)
		}
		return append([]byte(nil), buf[:n]...), nil
	}
}

// listxattr returns every full key name of the object; more than
// llistxattr can return is ErrXattrListTooLong.
func (a at) listxattr() ([]string, error) {
	var small [1024]byte
	buf := small[:]
	for {
		n, err := a.listxattrInto(buf)
		if errors.Is(err, unix.ERANGE) {
			size, serr := a.listxattrInto(nil)
			if errors.Is(serr, unix.E2BIG) {
				return nil, ErrXattrListTooLong
			}
			if serr != nil {
				return nil, normalizeXattrErr(serr)
			}
			buf = make([]byte, size+len(small))
			continue
		}
		if errors.Is(err, unix.E2BIG) {
			return nil, ErrXattrListTooLong
		}
		if err != nil {
			return nil, normalizeXattrErr(err)
		}
		return splitNames(buf[:n]), nil
	}
}
