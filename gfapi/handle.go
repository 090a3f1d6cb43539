package gfapi

import (
	"io"
	"syscall"
	"unsafe"

	"github.com/afrkit/afrkit/afr"
)

// GFID is a GlusterFS gfid, the 16 bytes libgfapi's handles carry: afr's,
// which formats it as GlusterFS prints it.
type GFID = afr.GFID

// Object is a libgfapi handle (struct glfs_object): an inode found by
// gfid or by name, not by path, so it stays the same inode when a name
// changes. Close it when done.
type Object struct {
	fs   *FS
	h    uintptr
	GFID GFID
}

// ByGFID finds the inode with gfid g (glfs_h_create_from_handle: a
// nameless lookup, as GlusterFS's self-heal does). It is also how the index
// translator's virtual directories are opened. A gfid the graph does not
// have is an error wrapping syscall.ENOENT or syscall.ESTALE.
func (f *FS) ByGFID(g GFID) (*Object, syscall.Stat_t, error) {
	var st syscall.Stat_t
	gb := g // a heap copy: g itself may live on the stack
	h, errno := f.lib.call(f.lib.fn.hCreateFromHandle, f.fs, uintptr(unsafe.Pointer(&gb[0])), uintptr(len(gb)), uintptr(unsafe.Pointer(&st)))
	if h == 0 {
		return nil, st, f.errorf("glfs_h_create_from_handle", "<gfid:"+g.String()+">", errnoOr(errno))
	}
	return &Object{fs: f, h: h, GFID: g}, st, nil
}

// Root is the graph's root directory.
func (f *FS) Root() (*Object, syscall.Stat_t, error) { return f.Lookup("/") }

// Lookup finds the inode at path, not following a symlink at its end.
func (f *FS) Lookup(path string) (*Object, syscall.Stat_t, error) { return f.lookupat(0, path, path) }

// Lookup finds name in directory o, not following a symlink.
func (o *Object) Lookup(name string) (*Object, syscall.Stat_t, error) {
	return o.fs.lookupat(o.h, name, "<gfid:"+o.GFID.String()+">/"+name)
}

func (f *FS) lookupat(parent uintptr, name, what string) (*Object, syscall.Stat_t, error) {
	var st syscall.Stat_t
	n, err := cstring(name)
	if err != nil {
		return nil, st, f.errorf("glfs_h_lookupat", what, err)
	}
	h, errno := f.lib.call(f.lib.fn.hLookupat, f.fs, parent, uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&st)), 0)
	if h == 0 {
		return nil, st, f.errorf("glfs_h_lookupat", what, errnoOr(errno))
	}
	o := &Object{fs: f, h: h}
	var g GFID
	r, errno := f.lib.call(f.lib.fn.hExtractHandle, h, uintptr(unsafe.Pointer(&g[0])), uintptr(len(g)))
	if failed(r) {
		o.Close()
		return nil, st, f.errorf("glfs_h_extract_handle", what, errnoOr(errno))
	}
	o.GFID = g
	return o, st, nil
}

func (o *Object) what() string { return "<gfid:" + o.GFID.String() + ">" }

// Stat is the inode's stat.
func (o *Object) Stat() (syscall.Stat_t, error) {
	var st syscall.Stat_t
	if r, errno := o.fs.lib.call(o.fs.lib.fn.hStat, o.fs.fs, o.h, uintptr(unsafe.Pointer(&st))); failed(r) {
		return st, o.fs.errorf("glfs_h_stat", o.what(), errnoOr(errno))
	}
	return st, nil
}

// Getxattr reads the inode's xattr name. A missing xattr is an error
// wrapping syscall.ENODATA.
func (o *Object) Getxattr(name string) ([]byte, error) {
	n, err := cstring(name)
	if err != nil {
		return nil, o.fs.errorf("glfs_h_getxattrs", o.what(), err)
	}
	v, err := o.fs.sized(func(buf *byte, size int) (int64, syscall.Errno) {
		r, errno := o.fs.lib.call(o.fs.lib.fn.hGetxattrs, o.fs.fs, o.h, uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(buf)), uintptr(size))
		return int64(int32(r)), errno
	})
	if err != nil {
		return nil, o.fs.errorf("glfs_h_getxattrs", o.what()+" "+name, err)
	}
	return v, nil
}

// Listxattr lists the inode's xattr names (glfs_h_getxattrs with no name).
func (o *Object) Listxattr() ([]string, error) {
	v, err := o.fs.sized(func(buf *byte, size int) (int64, syscall.Errno) {
		r, errno := o.fs.lib.call(o.fs.lib.fn.hGetxattrs, o.fs.fs, o.h, 0, uintptr(unsafe.Pointer(buf)), uintptr(size))
		return int64(int32(r)), errno
	})
	if err != nil {
		return nil, o.fs.errorf("glfs_h_getxattrs", o.what(), err)
	}
	return splitNames(v), nil
}

// Close releases the handle.
func (o *Object) Close() error {
	if o.h == 0 {
		return nil
	}
	r, errno := o.fs.lib.call(o.fs.lib.fn.hClose, o.h)
	o.h = 0
	if failed(r) {
		return o.fs.errorf("glfs_h_close", o.what(), errnoOr(errno))
	}
	return nil
}

// DirEntry is one name readdirplus returned.
type DirEntry struct {
	Name string
	// Type is the dirent's d_type (syscall.DT_REG and so on).
	Type uint8
	// Stat is the entry's stat, as readdirplus returns it with the name.
	// Its Ino is 0 where the server sent none.
	Stat syscall.Stat_t
}

// ReadDir calls fn for each entry of the directory at path but "." and
// "..", with its stat (readdirplus), in the order the graph returns them.
// fn runs in the caller's goroutine; an error from it stops the listing
// and is returned.
func (f *FS) ReadDir(path string, fn func(DirEntry) error) error {
	p, err := cstring(path)
	if err != nil {
		return f.errorf("glfs_opendir", path, err)
	}
	fd, errno := f.lib.call(f.lib.fn.opendir, f.fs, uintptr(unsafe.Pointer(p)))
	if fd == 0 {
		return f.errorf("glfs_opendir", path, errnoOr(errno))
	}
	return f.readDir(fd, path, true, fn)
}

// ReadDir is FS.ReadDir of the directory o.
func (o *Object) ReadDir(fn func(DirEntry) error) error { return o.readDir(true, fn) }

// ReadNames is ReadDir without the stats (readdir, not readdirplus): the
// only listing the index translator's virtual directories answer.
func (o *Object) ReadNames(fn func(DirEntry) error) error { return o.readDir(false, fn) }

func (o *Object) readDir(plus bool, fn func(DirEntry) error) error {
	fd, errno := o.fs.lib.call(o.fs.lib.fn.hOpendir, o.fs.fs, o.h)
	if fd == 0 {
		return o.fs.errorf("glfs_h_opendir", o.what(), errnoOr(errno))
	}
	return o.fs.readDir(fd, o.what(), plus, fn)
}

// readDir reads the open directory fd to its end and closes it.
// glfs_readdir_r and glfs_readdirplus_r return 0 and set *res to NULL at
// the end, and return non-zero with errno set on failure.
func (f *FS) readDir(fd uintptr, what string, plus bool, fn func(DirEntry) error) (err error) {
	defer func() {
		if r, errno := f.lib.call(f.lib.fn.closedir, fd); failed(r) && err == nil {
			err = f.errorf("glfs_closedir", what, errnoOr(errno))
		}
	}()
	op := "glfs_readdir_r"
	if plus {
		op = "glfs_readdirplus_r"
	}
	ent := new(syscall.Dirent)
	var res uintptr
	for {
		var e DirEntry
		var r uintptr
		var errno syscall.Errno
		if plus {
			r, errno = f.lib.call(f.lib.fn.readdirplusR, fd, uintptr(unsafe.Pointer(&e.Stat)), uintptr(unsafe.Pointer(ent)), uintptr(unsafe.Pointer(&res)))
		} else {
			r, errno = f.lib.call(f.lib.fn.readdirR, fd, uintptr(unsafe.Pointer(ent)), uintptr(unsafe.Pointer(&res)))
		}
		if int32(r) != 0 {
			return f.errorf(op, what, errnoOr(errno))
		}
		if res == 0 {
			return nil
		}
		e.Name = direntName(ent)
		e.Type = ent.Type
		if e.Name == "." || e.Name == ".." {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func direntName(d *syscall.Dirent) string {
	b := make([]byte, 0, 64)
	for _, c := range d.Name {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// File is an open regular file (glfs_fd_t). It reads at offsets, so it is
// an io.ReaderAt; one goroutine at a time.
type File struct {
	fs   *FS
	fd   uintptr
	what string
}

// Open opens the file at path with open(2)'s flags.
func (f *FS) Open(path string, flags int) (*File, error) {
	p, err := cstring(path)
	if err != nil {
		return nil, f.errorf("glfs_open", path, err)
	}
	fd, errno := f.lib.call(f.lib.fn.open, f.fs, uintptr(unsafe.Pointer(p)), uintptr(flags))
	if fd == 0 {
		return nil, f.errorf("glfs_open", path, errnoOr(errno))
	}
	return &File{fs: f, fd: fd, what: path}, nil
}

// Open opens the inode o with open(2)'s flags.
func (o *Object) Open(flags int) (*File, error) {
	fd, errno := o.fs.lib.call(o.fs.lib.fn.hOpen, o.fs.fs, o.h, uintptr(flags))
	if fd == 0 {
		return nil, o.fs.errorf("glfs_h_open", o.what(), errnoOr(errno))
	}
	return &File{fs: o.fs, fd: fd, what: o.what()}, nil
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt: fewer only at the
// end of the file, with io.EOF.
func (fl *File) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		chunk := p[done:]
		r, errno := fl.fs.lib.call(fl.fs.lib.fn.pread, fl.fd, uintptr(unsafe.Pointer(&chunk[0])), uintptr(len(chunk)), uintptr(off+int64(done)), 0, 0)
		n := int64(r)
		if n < 0 {
			return done, fl.fs.errorf("glfs_pread", fl.what, errnoOr(errno))
		}
		if n == 0 {
			return done, io.EOF
		}
		done += int(n)
	}
	return done, nil
}

// Close closes the file.
func (fl *File) Close() error {
	if fl.fd == 0 {
		return nil
	}
	r, errno := fl.fs.lib.call(fl.fs.lib.fn.close, fl.fd)
	fl.fd = 0
	if failed(r) {
		return fl.fs.errorf("glfs_close", fl.what, errnoOr(errno))
	}
	return nil
}
