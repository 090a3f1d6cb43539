package gfapi

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// LogLevel is libgfapi's log level (GlusterFS's gf_loglevel_t).
type LogLevel int

// GlusterFS's log levels, quietest first.
const (
	LogNone LogLevel = iota
	LogEmerg
	LogAlert
	LogCritical
	LogError
	LogWarning
	LogNotice
	LogInfo
	LogDebug
	LogTrace
)

// Transport is how libgfapi reaches glusterd to fetch a volfile.
type Transport string

// The transports afrkit uses: TCP to a glusterd on its port (24007), or
// its unix socket on this host (glusterd.socket).
const (
	TCP  Transport = "tcp"
	Unix Transport = "unix"
)

// Server is a glusterd libgfapi may fetch the volume's volfile from. For
// Unix, Host is the socket's path and Port is 0.
type Server struct {
	Transport Transport
	Host      string
	Port      int
}

// Config says which graph an FS runs.
type Config struct {
	// Volume names the volume (glfs_new's argument): for a graph fetched
	// from glusterd, the volume to fetch; for a Volfile, any name.
	Volume string
	// Volfile, when set, is a volfile on this host to run instead of
	// fetching one from Servers.
	Volfile string
	// Servers are the glusterds to fetch the volume's client volfile from,
	// tried in order.
	Servers []Server
	// LogFile is where libgfapi writes its log; "" discards it. Its log is
	// where GlusterFS says why a graph did not come up.
	LogFile  string
	LogLevel LogLevel
	// Options override translator options of the graph, as glusterfs's
	// --xlator-option does (glfs_set_xlator_option).
	Options []XlatorOption
}

// XlatorOption sets option Key to Value in the translators whose names
// match the glob Xlator ("*-replicate-*").
type XlatorOption struct {
	Xlator, Key, Value string
}

// FS is an initialised glfs_t. It is safe for concurrent use.
type FS struct {
	lib  *Lib
	fs   uintptr
	name string
	// closeOnce: Close may run in the background (see remote.Brick) and
	// be called again; glfs_fini must run once.
	closeOnce sync.Once
	closeErr  error
}

// Error is a failed libgfapi call.
type Error struct {
	Op     string // the C function, e.g. "glfs_lstat"
	Volume string
	Path   string // the path or gfid the call was about, if any
	Err    error  // a syscall.Errno, or what went wrong before the call
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s on %s: %v", e.Op, e.Volume, e.Err)
	}
	return fmt.Sprintf("%s %s:%s: %v", e.Op, e.Volume, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func (f *FS) errorf(op, path string, err error) error {
	return &Error{Op: op, Volume: f.name, Path: path, Err: err}
}

// errnoOr is errno, or EIO where libgfapi failed without setting one:
// a failure must never read as success.
func errnoOr(e syscall.Errno) syscall.Errno {
	if e == 0 {
		return syscall.EIO
	}
	return e
}

// failed says whether a C int result (in the low 32 bits of r; the ABI
// leaves the upper bits unspecified) is negative.
func failed(r uintptr) bool { return int32(r) < 0 }

// Init creates a glfs_t for cfg and brings its graph up (glfs_new,
// glfs_set_volfile or glfs_set_volfile_server, glfs_set_logging,
// glfs_init). It blocks until the graph is up or has failed to come up.
func (l *Lib) Init(cfg Config) (*FS, error) {
	name, err := cstring(cfg.Volume)
	if err != nil {
		return nil, &Error{Op: "glfs_new", Volume: cfg.Volume, Err: err}
	}
	h, errno := l.call(l.fn.new, uintptr(unsafe.Pointer(name)))
	if h == 0 {
		return nil, &Error{Op: "glfs_new", Volume: cfg.Volume, Err: errnoOr(errno)}
	}
	f := &FS{lib: l, fs: h, name: cfg.Volume}
	if err := f.configure(cfg); err != nil {
		f.Close()
		return nil, err
	}
	if r, errno := l.call(l.fn.init, f.fs); failed(r) {
		// A graph that did not come up is torn down in the background:
		// glfs_fini waits out its connections' timers (seconds), and the
		// caller has nothing to wait for.
		go f.Close()
		err := errnoOr(errno)
		if cfg.LogFile != "" {
			return nil, f.errorf("glfs_init", "", fmt.Errorf("%w (GlusterFS's log: %s)", err, cfg.LogFile))
		}
		return nil, f.errorf("glfs_init", "", err)
	}
	return f, nil
}

func (f *FS) configure(cfg Config) error {
	logFile := cfg.LogFile
	if logFile == "" {
		logFile = os.DevNull
	}
	lf, err := cstring(logFile)
	if err != nil {
		return f.errorf("glfs_set_logging", "", err)
	}
	if r, errno := f.lib.call(f.lib.fn.setLogging, f.fs, uintptr(unsafe.Pointer(lf)), uintptr(cfg.LogLevel)); failed(r) {
		return f.errorf("glfs_set_logging", logFile, errnoOr(errno))
	}
	for _, o := range cfg.Options {
		x, err1 := cstring(o.Xlator)
		k, err2 := cstring(o.Key)
		v, err3 := cstring(o.Value)
		if err := errors.Join(err1, err2, err3); err != nil {
			return f.errorf("glfs_set_xlator_option", "", err)
		}
		if r, errno := f.lib.call(f.lib.fn.setXlatorOption, f.fs, uintptr(unsafe.Pointer(x)), uintptr(unsafe.Pointer(k)), uintptr(unsafe.Pointer(v))); failed(r) {
			return f.errorf("glfs_set_xlator_option", o.Xlator+" "+o.Key+"="+o.Value, errnoOr(errno))
		}
	}
	if cfg.Volfile != "" {
		p, err := cstring(cfg.Volfile)
		if err != nil {
			return f.errorf("glfs_set_volfile", "", err)
		}
		if r, errno := f.lib.call(f.lib.fn.setVolfile, f.fs, uintptr(unsafe.Pointer(p))); failed(r) {
			return f.errorf("glfs_set_volfile", cfg.Volfile, errnoOr(errno))
		}
		return nil
	}
	if len(cfg.Servers) == 0 {
		return f.errorf("glfs_set_volfile_server", "", errors.New("neither a volfile nor a server to fetch one from"))
	}
	for _, s := range cfg.Servers {
		tr, err := cstring(string(s.Transport))
		if err != nil {
			return f.errorf("glfs_set_volfile_server", "", err)
		}
		host, err := cstring(s.Host)
		if err != nil {
			return f.errorf("glfs_set_volfile_server", "", err)
		}
		if r, errno := f.lib.call(f.lib.fn.setVolfileServer, f.fs, uintptr(unsafe.Pointer(tr)), uintptr(unsafe.Pointer(host)), uintptr(s.Port)); failed(r) {
			return f.errorf("glfs_set_volfile_server", fmt.Sprintf("%s:%s:%d", s.Transport, s.Host, s.Port), errnoOr(errno))
		}
	}
	return nil
}

// Close tears the graph down (glfs_fini). The FS, and every Object and
// Dir from it, must not be used after.
func (f *FS) Close() error {
	f.closeOnce.Do(func() {
		if r, errno := f.lib.call(f.lib.fn.fini, f.fs); failed(r) {
			f.closeErr = f.errorf("glfs_fini", "", errnoOr(errno))
		}
	})
	return f.closeErr
}

// Lstat is lstat(2) of a path in the graph.
func (f *FS) Lstat(path string) (syscall.Stat_t, error) {
	var st syscall.Stat_t
	p, err := cstring(path)
	if err != nil {
		return st, f.errorf("glfs_lstat", path, err)
	}
	if r, errno := f.lib.call(f.lib.fn.lstat, f.fs, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&st))); failed(r) {
		return st, f.errorf("glfs_lstat", path, errnoOr(errno))
	}
	return st, nil
}

// Lgetxattr reads xattr name of path, not following a symlink. A missing
// xattr is an error wrapping syscall.ENODATA.
func (f *FS) Lgetxattr(path, name string) ([]byte, error) {
	p, err := cstring(path)
	if err != nil {
		return nil, f.errorf("glfs_lgetxattr", path, err)
	}
	n, err := cstring(name)
	if err != nil {
		return nil, f.errorf("glfs_lgetxattr", path, err)
	}
	v, err := f.sized(func(buf *byte, size int) (int64, syscall.Errno) {
		r, errno := f.lib.call(f.lib.fn.lgetxattr, f.fs, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(buf)), uintptr(size))
		return int64(r), errno
	})
	if err != nil {
		return nil, f.errorf("glfs_lgetxattr", path+" "+name, err)
	}
	return v, nil
}

// Llistxattr lists path's xattr names, not following a symlink.
func (f *FS) Llistxattr(path string) ([]string, error) {
	p, err := cstring(path)
	if err != nil {
		return nil, f.errorf("glfs_llistxattr", path, err)
	}
	v, err := f.sized(func(buf *byte, size int) (int64, syscall.Errno) {
		r, errno := f.lib.call(f.lib.fn.llistxattr, f.fs, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(buf)), uintptr(size))
		return int64(r), errno
	})
	if err != nil {
		return nil, f.errorf("glfs_llistxattr", path, err)
	}
	return splitNames(v), nil
}

// Lsetxattr sets xattr name of path, not following a symlink. flags are
// setxattr(2)'s (XATTR_CREATE, XATTR_REPLACE).
func (f *FS) Lsetxattr(path, name string, value []byte, flags int) error {
	p, err := cstring(path)
	if err != nil {
		return f.errorf("glfs_lsetxattr", path, err)
	}
	n, err := cstring(name)
	if err != nil {
		return f.errorf("glfs_lsetxattr", path, err)
	}
	// A zero-length value still needs a valid pointer.
	buf := append(value[:len(value):len(value)], 0)
	if r, errno := f.lib.call(f.lib.fn.lsetxattr, f.fs, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(value)), uintptr(flags)); failed(r) {
		return f.errorf("glfs_lsetxattr", path+" "+name, errnoOr(errno))
	}
	return nil
}

// sized runs a get-or-list-xattr call that takes a buffer. Each call is a
// round trip to the bricks, so it first tries a buffer that holds most
// values (AFR's counters, a file's few names) and asks the size only when
// that is too small, then reads again; and again if the value grew in
// between.
func (f *FS) sized(get func(buf *byte, size int) (int64, syscall.Errno)) ([]byte, error) {
	buf := make([]byte, firstXattrBuf)
	n, errno := get(&buf[0], len(buf))
	if n >= 0 {
		return buf[:n], nil
	}
	if errno != syscall.ERANGE {
		return nil, errnoOr(errno)
	}
	for range 8 {
		n, errno := get(nil, 0)
		if n < 0 {
			return nil, errnoOr(errno)
		}
		buf := make([]byte, n+1) // +1: never a nil pointer for an empty value
		n2, errno := get(&buf[0], int(n))
		if n2 < 0 {
			if errno == syscall.ERANGE {
				continue
			}
			return nil, errnoOr(errno)
		}
		return buf[:n2], nil
	}
	return nil, syscall.ERANGE
}

// firstXattrBuf is the buffer sized tries first.
const firstXattrBuf = 1024

// splitNames splits listxattr's NUL-separated names.
func splitNames(v []byte) []string {
	var names []string
	start := 0
	for i, c := range v {
		if c == 0 {
			if i > start {
				names = append(names, string(v[start:i]))
			}
			start = i + 1
		}
	}
	if start < len(v) {
		names = append(names, string(v[start:]))
	}
	return names
}

// Rename renames oldPath to newPath in the graph: on a volume's graph DHT
// and AFR do it on every brick, as a client's rename(2) does.
func (f *FS) Rename(oldPath, newPath string) error {
	o, err := cstring(oldPath)
	if err != nil {
		return f.errorf("glfs_rename", oldPath, err)
	}
	n, err := cstring(newPath)
	if err != nil {
		return f.errorf("glfs_rename", newPath, err)
	}
	if r, errno := f.lib.call(f.lib.fn.rename, f.fs, uintptr(unsafe.Pointer(o)), uintptr(unsafe.Pointer(n))); failed(r) {
		return f.errorf("glfs_rename", oldPath+" -> "+newPath, errnoOr(errno))
	}
	return nil
}

// Link makes newPath a hard link to oldPath. Unlike Rename it never
// replaces: an existing newPath fails with an error wrapping
// syscall.EEXIST.
func (f *FS) Link(oldPath, newPath string) error {
	o, err := cstring(oldPath)
	if err != nil {
		return f.errorf("glfs_link", oldPath, err)
	}
	n, err := cstring(newPath)
	if err != nil {
		return f.errorf("glfs_link", newPath, err)
	}
	if r, errno := f.lib.call(f.lib.fn.link, f.fs, uintptr(unsafe.Pointer(o)), uintptr(unsafe.Pointer(n))); failed(r) {
		return f.errorf("glfs_link", oldPath+" -> "+newPath, errnoOr(errno))
	}
	return nil
}

// pathCall runs a C function of (glfs_t*, const char *path, args...) that
// returns an int.
func (f *FS) pathCall(op string, fn uintptr, path string, args ...uintptr) error {
	p, err := cstring(path)
	if err != nil {
		return f.errorf(op, path, err)
	}
	all := append([]uintptr{f.fs, uintptr(unsafe.Pointer(p))}, args...)
	r, errno := f.lib.call(fn, all...)
	// p went through a slice, not the call expression, so uintptrescapes
	// does not hold it: keep it until the C call has returned.
	runtime.KeepAlive(p)
	if failed(r) {
		return f.errorf(op, path, errnoOr(errno))
	}
	return nil
}

// Unlink removes the non-directory at path.
func (f *FS) Unlink(path string) error { return f.pathCall("glfs_unlink", f.lib.fn.unlink, path) }

// Mkdir makes a directory at path.
func (f *FS) Mkdir(path string, perm os.FileMode) error {
	return f.pathCall("glfs_mkdir", f.lib.fn.mkdir, path, uintptr(perm.Perm()))
}

// Rmdir removes the empty directory at path.
func (f *FS) Rmdir(path string) error { return f.pathCall("glfs_rmdir", f.lib.fn.rmdir, path) }
