// Package remote reads one brick of a started GlusterFS volume over
// GlusterFS's own protocol, through libgfapi: a graph of the single
// protocol/client that talks to that brick's process, as glfsheal reads
// each brick for `gluster volume heal VOL info`. It is how afrkit reads the
// bricks of a volume that live on other servers, with the credentials
// glusterd gave the volume's clients.
//
// It reads without locks and never writes: a Brick implements brick.Reader
// and index.Lister, the interfaces a local brick directory implements too.
package remote

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/gfapi"
	"github.com/afrkit/afrkit/index"
)

// The index translator's virtual xattrs: asked on a brick's root, each
// gives the gfid (16 raw bytes) of a virtual directory that lists one of
// the brick's index directories. The gfids are made afresh each time the
// brick process starts (index.c: init).
var indexKeys = map[index.Subdir]string{
	index.Xattrop:      "glusterfs.xattrop_index_gfid",
	index.Dirty:        "glusterfs.xattrop_dirty_gfid",
	index.EntryChanges: "glusterfs.xattrop_entry_changes_gfid",
}

// The posix translator's virtual xattrs that turn a gfid into a path:
// from the gfid2path xattrs on disk (regular files and the like), from the
// directory handles (directories), and from the brick process's inode
// table (what glfsheal prints, "<gfid:...>" for an inode it has not met by
// name).
const (
	keyGfidToPath   = "glusterfs.gfidtopath"
	keyAncestryPath = "glusterfs.ancestry.path"
	keyInodePath    = "glusterfs.gfid2path"
)

// Brick is one brick read over the network. It is safe for concurrent use.
type Brick struct {
	fs    *gfapi.FS
	label string // host:/path
}

// Config says which brick to read.
type Config struct {
	// GlusterdDir is glusterd's working directory (/var/lib/glusterd),
	// whose vols/VOL holds the client volfile the brick's graph is cut
	// from.
	GlusterdDir string
	Volume      *volume.Volume
	// Brick is the brick's position in Volume.Bricks.
	Brick int
	// LogFile is where libgfapi logs; "" discards its log.
	LogFile string
}

// Open connects to the brick. It fails when the brick's process does not
// answer (the volume stopped, the brick down, its server unreachable),
// saying which brick.
func Open(lib *gfapi.Lib, cfg Config) (*Brick, error) {
	v := cfg.Volume
	if cfg.Brick < 0 || cfg.Brick >= len(v.Bricks) {
		return nil, fmt.Errorf("volume %s has no brick %d", v.Name, cfg.Brick)
	}
	vb := v.Bricks[cfg.Brick]
	label := vb.String()
	graph, err := BrickVolfile(cfg.GlusterdDir, v, cfg.Brick)
	if err != nil {
		return nil, fmt.Errorf("brick %s: %w", label, err)
	}
	// libgfapi reads the volfile from a path, during Init only. It holds
	// the volume's credentials, so it is no file on a disk (one a kill
	// would leave behind) but a memory file of this process, named by its
	// descriptor.
	fd, err := unix.MemfdCreate("afrkit-brick-volfile", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("brick %s: a memory file for its volfile: %w", label, err)
	}
	f := os.NewFile(uintptr(fd), "volfile")
	defer f.Close()
	if _, err := f.Write(graph); err != nil {
		return nil, fmt.Errorf("brick %s: write its volfile: %w", label, err)
	}
	fs, err := lib.Init(gfapi.Config{Volume: v.Name, Volfile: fmt.Sprintf("/proc/self/fd/%d", fd), LogFile: cfg.LogFile, LogLevel: gfapi.LogError})
	if err != nil {
		return nil, fmt.Errorf("brick %s is not connected: %w", label, err)
	}
	return &Brick{fs: fs, label: label}, nil
}

// BrickVolfile is the graph of brick i of v alone: the protocol/client
// stanza of the volume's trusted client volfile in glusterd's directory
// (the one glusterd gives its own clients, with the volume's credentials),
// or of its plain client volfile where there is no trusted one.
func BrickVolfile(glusterdDir string, v *volume.Volume, i int) ([]byte, error) {
	dir := filepath.Join(glusterdDir, "vols", v.Name)
	var data []byte
	var err error
	for _, name := range []string{"trusted-" + v.Name + ".tcp-fuse.vol", v.Name + ".tcp-fuse.vol"} {
		if data, err = os.ReadFile(filepath.Join(dir, name)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("glusterd's client volfile of %s: %w", v.Name, err)
	}
	vb := v.Bricks[i]
	return brickVolfile(data, vb.ID, vb.Host, vb.Path, counterKeys(v, i))
}

// counterKeys are the xattrs that CountersGFID reads of brick i of v: the
// AFR counters of its replica set, and dirty.
func counterKeys(v *volume.Volume, i int) []string {
	set := v.ReplicaSets()[i/max(v.Replica, 1)]
	keys := []string{brick.NSTrusted + "." + brick.KeyDirty}
	for _, k := range volume.PendingKeys(set) {
		keys = append(keys, brick.NSTrusted+"."+k)
	}
	return keys
}

// String names the brick as GlusterFS does: host:/path.
func (b *Brick) String() string { return b.label }

// Close lets go of the brick's graph. glfs_fini waits up to ten seconds
// for frames GlusterFS leaves in its call pool, and glfsheal skips it for
// being racy; Close therefore runs it in the background and returns at
// once. A command that exits right after loses nothing by that: the
// connection closes with the process.
func (b *Brick) Close() error {
	go b.fs.Close()
	return nil
}

// absent reports whether err says the brick has no such inode: a nameless
// lookup of an unknown gfid fails with ESTALE or ENOENT.
func absent(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESTALE)
}

func (b *Brick) errorf(op, what string, err error) error {
	return fmt.Errorf("brick %s: %s %s: %w", b.label, op, what, err)
}

// Reply implements brick.Reader.
func (b *Brick) Reply(volPath string, pendingKeys []string) (afr.Reply, error) {
	clean, err := brick.CleanPath(volPath)
	if err != nil {
		return afr.Reply{Name: b.label}, b.errorf("resolve", volPath, err)
	}
	o, st, err := b.fs.Lookup(clean)
	return b.replyOf(o, st, err, volPath, pendingKeys, true)
}

// ReplyGFID implements brick.Reader.
func (b *Brick) ReplyGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error) {
	o, st, err := b.fs.ByGFID(g)
	return b.replyOf(o, st, err, "<gfid:"+g.String()+">", pendingKeys, true)
}

// CountersGFID implements brick.Reader.
func (b *Brick) CountersGFID(g afr.GFID, pendingKeys []string) (afr.Reply, error) {
	o, st, err := b.fs.ByGFID(g)
	return b.replyOf(o, st, err, "<gfid:"+g.String()+">", pendingKeys, false)
}

// replyOf is the reply for the inode a lookup found (or did not find).
// full adds the xattrs metadata heal compares; without it only the
// counters are read.
//
// The times are the stat's: with features.ctime on, the brick's posix
// translator already answers with the times its mdata xattr keeps (which
// it does not show to clients), the times a local reader takes from that
// xattr. InodeMtime, the inode's own, is not visible over the network; it
// is the stat's too.
func (b *Brick) replyOf(o *gfapi.Object, st syscall.Stat_t, lookupErr error, what string, pendingKeys []string, full bool) (afr.Reply, error) {
	r := afr.Reply{Name: b.label, Pending: make([]afr.Changelog, len(pendingKeys))}
	if lookupErr != nil {
		if absent(lookupErr) {
			r.Answered = true
			return r, nil
		}
		return r, b.errorf("lookup", what, lookupErr)
	}
	defer o.Close()
	brick.FromStat(&r, &st)
	r.GFID = o.GFID
	// The counters alone are read by name: the graph's md-cache had the
	// lookup bring them, and answers from what it brought. A full reply
	// lists the xattrs too, for the ones metadata heal compares.
	var names []string
	if full {
		var err error
		if names, err = o.Listxattr(); err != nil {
			return r, b.errorf("list xattrs of", what, err)
		}
	}
	listed := make(map[string]bool, len(names))
	for _, n := range names {
		listed[n] = true
	}
	var errs []error
	read := func(k string) afr.Changelog {
		key := brick.NSTrusted + "." + k
		if full && !listed[key] {
			return afr.Changelog{}
		}
		v, err := o.Getxattr(key)
		if err != nil {
			if !errors.Is(err, syscall.ENODATA) {
				errs = append(errs, b.errorf("read "+key+" of", what, err))
			}
			return afr.Changelog{}
		}
		c, err := brick.DecodeChangelog(v)
		if err != nil {
			errs = append(errs, b.errorf("read "+key+" of", what, err))
		}
		return c
	}
	for j, k := range pendingKeys {
		r.Pending[j] = read(k)
	}
	r.Dirty = read(brick.KeyDirty)
	if full {
		for _, n := range names {
			if brick.IsInternalXattr(brick.NSTrusted, n) {
				continue
			}
			v, err := o.Getxattr(n)
			if err != nil {
				errs = append(errs, b.errorf("read "+n+" of", what, err))
				continue
			}
			if r.Xattrs == nil {
				r.Xattrs = map[string]string{}
			}
			r.Xattrs[n] = string(v)
		}
	}
	return r, errors.Join(errs...)
}

// PathOf implements brick.Reader: the path the brick's own records give,
// as a local reader finds it from the same records on disk.
func (b *Brick) PathOf(g afr.GFID) (string, error) {
	if g == brick.RootGFID {
		return "/", nil
	}
	o, st, err := b.fs.ByGFID(g)
	if err != nil {
		return "", b.errorf("lookup", "<gfid:"+g.String()+">", err)
	}
	defer o.Close()
	keys := []string{keyGfidToPath, keyInodePath}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		keys = []string{keyAncestryPath, keyInodePath}
	}
	var errs []error
	for _, k := range keys {
		v, err := o.Getxattr(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p := strings.TrimRight(string(v), "\x00")
		// A path the inode table could not finish starts "<gfid:".
		// gfidtopath joins the paths of a file's hard links with ':',
		// so ":/" there is a join, or the end of a directory's name
		// that holds a ':' (no name holds a '/'): one path only if it
		// leads to g.
		if !strings.HasPrefix(p, "/") || k == keyGfidToPath && strings.Contains(p, ":/") && !b.leadsTo(p, g) {
			errs = append(errs, fmt.Errorf("%s gives %q, not one path", k, p))
			continue
		}
		return p, nil
	}
	return "", b.errorf("resolve", "<gfid:"+g.String()+">", errors.Join(errs...))
}

// leadsTo reports whether path p of the brick is the inode with gfid g.
func (b *Brick) leadsTo(p string, g afr.GFID) bool {
	o, _, err := b.fs.Lookup(p)
	if err != nil {
		return false
	}
	defer o.Close()
	return o.GFID == g
}

// ReadDir implements brick.Reader.
func (b *Brick) ReadDir(volPath string) ([]string, error) {
	clean, err := brick.CleanPath(volPath)
	if err != nil {
		return nil, b.errorf("resolve", volPath, err)
	}
	var names []string
	err = b.fs.ReadDir(clean, func(e gfapi.DirEntry) error {
		if clean != "/" || !brick.InternalAtRoot(e.Name) {
			names = append(names, e.Name)
		}
		return nil
	})
	if err != nil {
		return nil, b.errorf("read directory", volPath, err)
	}
	return names, nil
}

// OpenGFID implements brick.Reader.
func (b *Brick) OpenGFID(g afr.GFID) (brick.File, error) {
	what := "<gfid:" + g.String() + ">"
	o, st, err := b.fs.ByGFID(g)
	if err != nil {
		return nil, b.errorf("lookup", what, err)
	}
	defer o.Close()
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, b.errorf("open", what, fmt.Errorf("not a regular file (mode %o)", st.Mode))
	}
	f, err := o.Open(os.O_RDONLY)
	if err != nil {
		return nil, b.errorf("open", what, err)
	}
	return f, nil
}

// indexDir opens the virtual directory that lists sub.
func (b *Brick) indexDir(sub index.Subdir) (*gfapi.Object, error) {
	key, ok := indexKeys[sub]
	if !ok {
		return nil, fmt.Errorf("no index directory %q", sub)
	}
	v, err := b.fs.Lgetxattr("/", key)
	if err != nil {
		return nil, b.errorf("find the index of", string(sub), err)
	}
	if len(v) != 16 {
		return nil, b.errorf("find the index of", string(sub), fmt.Errorf("%s is %d bytes, not a gfid", key, len(v)))
	}
	o, _, err := b.fs.ByGFID(gfapi.GFID(v))
	if err != nil {
		return nil, b.errorf("open the index of", string(sub), err)
	}
	return o, nil
}

// Names implements index.Lister. The virtual directory answers readdir,
// not readdirplus.
func (b *Brick) Names(sub index.Subdir, fn func(name string) error) error {
	o, err := b.indexDir(sub)
	if err != nil {
		return err
	}
	defer o.Close()
	var ferr error
	err = o.ReadNames(func(e gfapi.DirEntry) error {
		ferr = fn(e.Name)
		return ferr
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return b.errorf("list the index of", string(sub), err)
	}
	return nil
}

// Has implements index.Lister.
func (b *Brick) Has(sub index.Subdir, g afr.GFID) (bool, error) {
	o, err := b.indexDir(sub)
	if err != nil {
		return false, err
	}
	defer o.Close()
	e, _, err := o.Lookup(g.String())
	if absent(err) {
		return false, nil
	}
	if err != nil {
		return false, b.errorf("look up in the index of", string(sub), err)
	}
	e.Close()
	return true, nil
}
