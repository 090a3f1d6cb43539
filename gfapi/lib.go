// Package gfapi is a typed Go binding of libgfapi, GlusterFS's client
// library, loaded at run time.
//
// afrkit must build, test and run its local commands where GlusterFS is not
// installed, so the library is opened with dlopen (through
// github.com/ebitengine/purego) when a command first needs it, never linked:
// Load reports ErrNotInstalled, with the package to install, where it is
// absent. Only the calls afrkit makes are bound.
//
// An FS is one glfs_t: a graph of GlusterFS translators, the volume's own
// client graph fetched from glusterd, or a graph afrkit wrote itself (one
// protocol/client per brick, to read a brick directly over the network). Its
// methods are safe for concurrent use, as libgfapi's calls are; an Object or
// a Dir is used by one goroutine at a time.
package gfapi

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"github.com/ebitengine/purego"
)

// ErrNotInstalled is returned by Load when libgfapi cannot be opened.
var ErrNotInstalled = errors.New("libgfapi is not installed")

// soname is the library's ABI name: every GlusterFS from 3.4 to 11 ships
// libgfapi.so.0, and its versioned symbols keep old callers working.
const soname = "libgfapi.so.0"

// Lib is libgfapi opened in this process. Loading twice is harmless
// (dlopen counts references), so callers keep a Lib rather than a global.
type Lib struct {
	// errnoLocation is libc's __errno_location: the calling thread's errno.
	errnoLocation func() *int32
	fn            funcs
}

// funcs are the addresses of the bound functions. dlsym resolves each name
// to its default symbol version, which for glfs_pread is GFAPI_6.0's
// six-argument form and for glfs_h_lookupat GFAPI_3.7.4's five-argument
// one: the prototypes below are those.
type funcs struct {
	new, setVolfile, setVolfileServer, setLogging, init, fini uintptr
	setXlatorOption                                           uintptr
	lstat, lgetxattr, llistxattr, lsetxattr                   uintptr
	opendir, readdirR, readdirplusR, closedir                 uintptr
	open, pread, close, rename, link, unlink, mkdir, rmdir    uintptr
	hCreateFromHandle, hClose, hOpendir, hGetxattrs, hStat    uintptr
	hLookupat, hOpen, hExtractHandle                          uintptr
}

// Load opens libgfapi. It returns an error wrapping ErrNotInstalled, with
// what to install, when the library is not on this host.
func Load() (*Lib, error) { return LoadFrom(soname) }

// LoadFrom is Load of the library at path (a file name, searched for as
// dlopen does, or a path): for a libgfapi installed where the dynamic
// linker does not look.
func LoadFrom(soname string) (*Lib, error) {
	h, err := purego.Dlopen(soname, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): install Debian's or Ubuntu's libgfapi0, or glusterfs-api on RPM systems; it comes with the GlusterFS client", ErrNotInstalled, err)
	}
	libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("gfapi: open the C library for errno: %w", err)
	}
	l := &Lib{}
	if _, err := purego.Dlsym(libc, "__errno_location"); err != nil {
		return nil, fmt.Errorf("gfapi: %w", err)
	}
	purego.RegisterLibFunc(&l.errnoLocation, libc, "__errno_location")
	for _, s := range []struct {
		p    *uintptr
		name string
	}{
		{&l.fn.new, "glfs_new"},
		{&l.fn.setVolfile, "glfs_set_volfile"},
		{&l.fn.setVolfileServer, "glfs_set_volfile_server"},
		{&l.fn.setLogging, "glfs_set_logging"},
		{&l.fn.setXlatorOption, "glfs_set_xlator_option"},
		{&l.fn.init, "glfs_init"},
		{&l.fn.fini, "glfs_fini"},
		{&l.fn.lstat, "glfs_lstat"},
		{&l.fn.lgetxattr, "glfs_lgetxattr"},
		{&l.fn.llistxattr, "glfs_llistxattr"},
		{&l.fn.lsetxattr, "glfs_lsetxattr"},
		{&l.fn.opendir, "glfs_opendir"},
		{&l.fn.readdirR, "glfs_readdir_r"},
		{&l.fn.readdirplusR, "glfs_readdirplus_r"},
		{&l.fn.closedir, "glfs_closedir"},
		{&l.fn.open, "glfs_open"},
		{&l.fn.pread, "glfs_pread"},
		{&l.fn.close, "glfs_close"},
		{&l.fn.rename, "glfs_rename"},
		{&l.fn.link, "glfs_link"},
		{&l.fn.unlink, "glfs_unlink"},
		{&l.fn.mkdir, "glfs_mkdir"},
		{&l.fn.rmdir, "glfs_rmdir"},
		{&l.fn.hCreateFromHandle, "glfs_h_create_from_handle"},
		{&l.fn.hClose, "glfs_h_close"},
		{&l.fn.hOpendir, "glfs_h_opendir"},
		{&l.fn.hGetxattrs, "glfs_h_getxattrs"},
		{&l.fn.hStat, "glfs_h_stat"},
		{&l.fn.hLookupat, "glfs_h_lookupat"},
		{&l.fn.hOpen, "glfs_h_open"},
		{&l.fn.hExtractHandle, "glfs_h_extract_handle"},
	} {
		if *s.p, err = purego.Dlsym(h, s.name); err != nil {
			return nil, fmt.Errorf("gfapi: %s lacks %s (GlusterFS older than 6?): %w", soname, s.name, err)
		}
	}
	return l, nil
}

// call calls the C function fn and returns its result and the errno it
// left. errno is thread-local and purego does not capture it on Linux, so
// the goroutine stays on one thread from clearing errno to reading it back.
//
// The arguments may be Go pointers converted to uintptr in the call
// expression: uintptrescapes keeps what they point at alive and in place
// until call returns, and libgfapi keeps none of them past the call.
//
//go:uintptrescapes
func (l *Lib) call(fn uintptr, args ...uintptr) (uintptr, syscall.Errno) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	errno := l.errnoLocation()
	*errno = 0
	r, _, _ := purego.SyscallN(fn, args...)
	return r, syscall.Errno(*errno)
}

// cstring is s as a NUL-terminated C string. It refuses a string holding a
// NUL, which C would cut short: a path or name cut there is another path.
func cstring(s string) (*byte, error) {
	b := make([]byte, len(s)+1)
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, fmt.Errorf("%q holds a NUL byte", s)
		}
		b[i] = s[i]
	}
	return &b[0], nil
}
