package fsck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
)

// Options tune a check.
type Options struct {
	// Deep compares the content of the copies of every regular file of a
	// replica set by blake3, not only their sizes.
	Deep bool
	// Jobs is the number of directories read at once; 4 per CPU when 0.
	// The walk waits on the disk far more than on the CPU, so more than
	// one per core keeps the disk's queue full.
	Jobs int
	// Remote opens brick i of the volume, one on another host, to be read
	// over the network (a started GlusterFS volume's); nil leaves such
	// bricks out, as does a brick it cannot open (Report.Unreached says
	// why). It is called from one goroutine. A brick read so is compared
	// with the other copies of its replica set (types, gfids, counters,
	// split-brains, sizes, owners, modes, content with Deep), and only
	// read: its handle tree, index, gfid2path and root are its own host's
	// to check, with fsck run there.
	Remote func(i int) (RemoteBrick, error)
}

// RemoteBrick is a brick on another host, read over the network.
type RemoteBrick interface {
	brick.Reader
	Close() error
}

// brickState is one brick being checked.
type brickState struct {
	label, root string
	// b and ix are the brick's directory and index, nil for a brick on
	// another host, which remote reads instead.
	b      *brick.Brick
	ix     *index.Index
	remote RemoteBrick
	// self is the brick's position in its replica set, and keys the full
	// pending keys of the set in brick order; keys is nil when the brick
	// is checked without its volume, and nothing is then known about which
	// changelog keys belong.
	self int
	keys []string
	// arbiter is set for the arbiter brick of a replica 3 arbiter 1
	// set, whose regular files hold no data (size 0).
	arbiter bool
	// pendingKeys are keys without the namespace, as brick's readers take
	// them.
	pendingKeys []string
	// noTree is set when .glusterfs is missing: handle and index checks
	// are then one finding, not one per entry.
	noTree bool
	// rootHandleOK is set when the root handle is the symlink GlusterFS
	// makes.
	rootHandleOK bool
	// recheckIndex is set when the index entries the namespace walk
	// tallied must be looked up one by one.
	recheckIndex bool
	// tally is what the namespace walk proved about the handle tree and
	// the index, against what their listings found.
	tally *tally
	// checked accepts the xattrs fsck looks at; the others (mdata, user
	// and security xattrs, DHT layouts) are never read.
	checked func(full string) bool
}

// setState is one replica set, or the single brick of --brick.
type setState struct {
	index  int
	bricks []*brickState
}

// checker walks the bricks of a volume and collects findings. Its walks
// run in parallel; mu guards rep.Findings, and the counts are atomic.
type checker struct {
	ctx  context.Context
	opts Options
	vol  *volume.Volume // nil for a brick checked alone
	sets []*setState
	rep  *Report

	mu sync.Mutex
	// unlisted holds the inodes (per brick) already reported as
	// ClassXattrList, so that a file's thousands of names make one finding.
	unlisted                  map[unlistedInode]bool
	entries, handles, indexed atomic.Int64
}

// ErrNoBrick is returned when nothing can be checked.
var ErrNoBrick = errors.New("fsck: no local brick to check")

// CheckVolume checks every local brick of v and compares the bricks of
// each replica set. It only reads.
func CheckVolume(ctx context.Context, v *volume.Volume, opts Options) (*Report, error) {
	c := &checker{ctx: ctx, opts: opts, vol: v, rep: &Report{Volume: v.Name}}
	labels := v.BrickLabels()
	defer c.closeRemote()
	for si, set := range v.ReplicaSets() {
		s := &setState{index: si}
		keys := fullKeys(v, set)
		for j, vb := range set {
			if !vb.Local {
				if opts.Remote == nil {
					continue
				}
				rb, err := opts.Remote(si*v.Replica + j)
				if err != nil {
					c.rep.Unreached = append(c.rep.Unreached, Unreached{Brick: labels[si*v.Replica+j], Err: err.Error()})
					continue
				}
				bs := &brickState{label: labels[si*v.Replica+j], root: vb.String(), remote: rb, self: j, keys: keys, pendingKeys: volume.PendingKeys(set), tally: newTally(),
					arbiter: j == v.ArbiterPosition()}
				s.bricks = append(s.bricks, bs)
				continue
			}
			bs, err := openBrick(vb.Path, v.XattrNS, labels[si*v.Replica+j])
			if err != nil {
				return nil, err
			}
			bs.self, bs.keys, bs.pendingKeys, bs.arbiter = j, keys, volume.PendingKeys(set), j == v.ArbiterPosition()
			if c.notABrick(bs) {
				continue
			}
			s.bricks = append(s.bricks, bs)
		}
		if len(s.bricks) > 0 {
			c.sets = append(c.sets, s)
		}
	}
	if len(c.sets) == 0 && len(c.rep.Findings) > 0 {
		return c.rep, nil // every local brick is one notABrick reported
	}
	if len(c.sets) == 0 {
		var all []string
		for _, b := range v.Bricks {
			all = append(all, b.String())
		}
		why := ""
		if len(c.rep.Unreached) > 0 {
			var each []string
			for _, u := range c.rep.Unreached {
				each = append(each, u.Err)
			}
			why = ", and none could be read over the network: " + strings.Join(each, "; ")
		}
		return nil, fmt.Errorf("fsck: volume %s has no brick on this host (%s)%s: %w", v.Name, strings.Join(all, ", "), why, ErrNoBrick)
	}
	return c.run()
}

// closeRemote lets go of the bricks read over the network.
func (c *checker) closeRemote() {
	for _, s := range c.sets {
		for _, bs := range s.bricks {
			if bs.remote != nil {
				bs.remote.Close()
			}
		}
	}
}

// CheckBrick checks the brick at root alone. With v, the brick must be one
// of v's, and its volume-id and changelog keys are checked against v.
func CheckBrick(ctx context.Context, root string, v *volume.Volume, opts Options) (*Report, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fsck: %s: %w", root, err)
	}
	c := &checker{ctx: ctx, opts: opts, vol: v, rep: &Report{}}
	ns := brick.DefaultNS()
	if v == nil {
		bs, err := openBrick(abs, ns, abs)
		if err != nil {
			return nil, err
		}
		bs.self = -1
		c.sets = []*setState{{bricks: []*brickState{bs}}}
		return c.run()
	}
	c.rep.Volume = v.Name
	labels := v.BrickLabels()
	for si, set := range v.ReplicaSets() {
		for j, vb := range set {
			if filepath.Clean(vb.Path) != abs {
				continue
			}
			bs, err := openBrick(abs, v.XattrNS, labels[si*v.Replica+j])
			if err != nil {
				return nil, err
			}
			bs.self, bs.keys, bs.pendingKeys = j, fullKeys(v, set), volume.PendingKeys(set)
			c.sets = []*setState{{index: si, bricks: []*brickState{bs}}}
			return c.run()
		}
	}
	return nil, fmt.Errorf("fsck: %s is not a brick of volume %s", abs, v.Name)
}

func fullKeys(v *volume.Volume, set []volume.Brick) []string {
	var keys []string
	for _, k := range volume.PendingKeys(set) {
		keys = append(keys, v.XattrNS+"."+k)
	}
	return keys
}

func openBrick(root, ns, label string) (*brickState, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("fsck: brick %s: %w", label, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("fsck: brick %s: %s is not a directory", label, root)
	}
	b, err := brick.Open(root, ns)
	if err != nil {
		return nil, fmt.Errorf("fsck: brick %s: %w", label, err)
	}
	gfid, afrPrefix, g2p, linkto := b.Key(brick.KeyGFID), b.Key(brick.KeyAFRPrefix), b.Key(brick.KeyGfid2pathPfx), b.Key(brick.KeyDHT)+".linkto"
	checked := func(full string) bool {
		return full == gfid || full == linkto || strings.HasPrefix(full, afrPrefix) || strings.HasPrefix(full, g2p)
	}
	return &brickState{label: label, root: b.Root, b: b, ix: index.OpenNS(b.Root, b.NS), checked: checked, tally: newTally()}, nil
}

func (c *checker) run() (*Report, error) {
	if len(c.sets) == 0 {
		return nil, ErrNoBrick
	}
	for _, s := range c.sets {
		for _, bs := range s.bricks {
			c.rep.Bricks = append(c.rep.Bricks, bs.label)
			if bs.remote != nil {
				c.rep.Remote = append(c.rep.Remote, bs.label)
				continue
			}
			c.checkRoot(bs)
		}
	}
	if c.opts.Jobs <= 0 {
		c.opts.Jobs = 4 * runtime.NumCPU()
	}
	// The namespace of each set is walked while the handle tree and index
	// of each brick are listed: they are independent reads. Then the
	// handles and index entries that the namespace walk did not prove
	// (see tally) are checked one by one.
	g, ctx := errgroup.WithContext(c.ctx)
	for _, s := range c.sets {
		g.Go(func() error { return c.walkSet(ctx, s, checkNames) })
		for _, bs := range s.withTree() {
			g.Go(func() error {
				if err := c.walkHandles(ctx, bs, listHandles); err != nil {
					return err
				}
				return c.checkIndex(bs)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	g, ctx = errgroup.WithContext(c.ctx)
	for _, s := range c.sets {
		rewalk := false
		for _, bs := range s.withTree() {
			if !bs.tally.handlesProven() {
				c.rep.rechecked = append(c.rep.rechecked, bs.label+" handles")
				g.Go(func() error { return c.walkHandles(ctx, bs, checkFileHandles) })
			}
			if bs.keys == nil || !bs.tally.indexProven() {
				c.rep.rechecked = append(c.rep.rechecked, bs.label+" xattrop")
				g.Go(func() error { return c.checkXattrop(bs) })
				// Without keys no copy was tallied: each was looked up.
				bs.recheckIndex = bs.keys != nil
				rewalk = rewalk || bs.recheckIndex
			}
		}
		if rewalk {
			g.Go(func() error { return c.walkSet(ctx, s, recheckIndexes) })
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	c.rep.Entries, c.rep.Handles, c.rep.Indexed = c.entries.Load(), c.handles.Load(), c.indexed.Load()
	c.rep.sort()
	return c.rep, nil
}

// withTree returns the bricks of s that have a .glusterfs tree to check:
// on this host.
func (s *setState) withTree() []*brickState {
	var out []*brickState
	for _, bs := range s.bricks {
		if !bs.noTree && bs.remote == nil {
			out = append(out, bs)
		}
	}
	return out
}

func (c *checker) add(f Finding) {
	c.mu.Lock()
	c.rep.Findings = append(c.rep.Findings, f)
	c.mu.Unlock()
}

// on fills in the brick of a finding.
func (bs *brickState) on(f Finding) Finding {
	f.Brick, f.BrickRoot = bs.label, bs.root
	return f
}

// notABrick reports, and leaves out of the check, a brick directory with
// neither its volume-id nor .glusterfs: what a disk that is not mounted
// looks like (its empty mount point), or a brick directory made anew.
// GlusterFS refuses to start such a brick; fsck stamps nothing on it,
// because a repair would make the mount point a brick and the next heal
// would fill the filesystem beneath it.
func (c *checker) notABrick(bs *brickState) bool {
	b := bs.b
	if _, err := b.VolumeID(); !errors.Is(err, brick.ErrNoVolumeID) {
		return false
	}
	if exists, err := b.Exists(b.GlusterPath()); exists || err != nil {
		return false
	}
	c.add(bs.on(Finding{Class: ClassVolumeID, Path: "/",
		Detail: "neither " + b.Key(brick.KeyVolumeID) + " nor .glusterfs: the brick's disk looks not mounted, or the brick was made anew; it was not checked",
		Manual: "mount the brick's filesystem at " + b.Root + "; GlusterFS refuses a brick without its volume-id, and fsck stamps none (a new empty disk is put in with afrkit volume reset-brick " +
			c.volName() + " " + b.Root + ", which heals it full)"}))
	return true
}

// checkRoot checks what makes a directory a brick of this volume.
func (c *checker) checkRoot(bs *brickState) {
	b := bs.b
	idKey := b.Key(brick.KeyVolumeID)
	id, err := b.VolumeID()
	switch {
	case errors.Is(err, brick.ErrNoVolumeID):
		f := Finding{Class: ClassVolumeID, Path: "/", Detail: "the brick root has no " + idKey}
		if c.vol != nil {
			want, perr := brick.ParseGFID(c.vol.ID)
			if perr == nil {
				f.Repair = "set it to volume " + c.vol.Name + "'s id " + c.vol.ID
				f.fix = func(q *quarantine) error {
					q.before("set volume-id")
					return b.SetRawXattr(b.Root, "/", idKey, want[:])
				}
			}
		}
		if f.fix == nil {
			f.Manual = "check which volume this brick belongs to (fsck --brick DIR --volume VOL sets it)"
		}
		c.add(bs.on(f))
	case err != nil:
		c.add(bs.on(Finding{Class: ClassVolumeID, Path: "/", Detail: err.Error(),
			Manual: "check that this is the right directory, then set " + idKey + " by hand"}))
	case c.vol != nil && id.String() != c.vol.ID:
		c.add(bs.on(Finding{Class: ClassVolumeID, Path: "/",
			Detail: fmt.Sprintf("the brick root carries volume-id %s, volume %s is %s: it belongs to another volume", id, c.vol.Name, c.vol.ID),
			Manual: "check the volume definition and the brick path; fsck does not take a brick from another volume"}))
	}
	if g, err := b.GFIDAt(b.Root); err != nil || g != brick.RootGFID {
		detail := fmt.Sprintf("the brick root's gfid is %s, want %s", g, brick.RootGFID)
		if err != nil {
			detail = "the brick root's gfid: " + err.Error()
		}
		gkey := b.Key(brick.KeyGFID)
		c.add(bs.on(Finding{Class: ClassRootGFID, Path: "/", GFID: brick.RootGFID.String(), Detail: detail,
			Repair: "set the root's gfid to " + brick.RootGFID.String(),
			fix: func(q *quarantine) error {
				q.before("set root gfid")
				return b.SetRawXattr(b.Root, "/", gkey, brick.RootGFID[:])
			}}))
	}
	var gst syscall.Stat_t
	if err := b.Lstat(b.GlusterPath(), &gst); err != nil || gst.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		bs.noTree = true
		c.add(bs.on(Finding{Class: ClassGlusterfsDir, Path: brick.GlusterDir,
			Detail: "the brick has no .glusterfs directory: no handles, no index",
			Repair: "create .glusterfs, its index and the root handle; the entries' handles are then made by the next pass",
			fix: func(q *quarantine) error {
				q.before("create .glusterfs")
				// EnsureDir refuses a symlink or file in the way: the
				// repair never makes the index beyond the brick.
				if err := b.EnsureDir(b.GlusterPath(), 0o700); err != nil {
					return err
				}
				if err := bs.ix.Init(); err != nil {
					return err
				}
				return b.SymlinkDirHandle(brick.RootGFID, afr.GFID{}, "")
			}}))
		return
	}
	for _, rel := range []string{"indices", "indices/xattrop", "indices/dirty", "indices/entry-changes"} {
		var st syscall.Stat_t
		if err := b.Lstat(b.GlusterPath(rel), &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			c.add(bs.on(Finding{Class: ClassGlusterfsDir, Path: filepath.Join(brick.GlusterDir, rel),
				Detail: "missing: the heal index cannot record what needs healing", Repair: "create it",
				fix: func(q *quarantine) error {
					q.before("create " + rel)
					return bs.ix.Init()
				}}))
		}
	}
	root := b.HandlePath(brick.RootGFID)
	t, err := b.Readlink(root)
	bs.rootHandleOK = err == nil && t == "../../.."
	if !bs.rootHandleOK {
		what := "missing"
		if err == nil {
			what = "a symlink to " + t
		} else if exists, _ := b.Exists(root); exists {
			what = "not a symlink"
		}
		c.add(bs.on(Finding{Class: ClassGlusterfsDir, Path: brick.HandleRel(brick.RootGFID), GFID: brick.RootGFID.String(),
			Detail: "the root handle is " + what + "; GlusterFS makes it a symlink to ../../..",
			Repair: "move what is there to quarantine and make the symlink",
			fix: func(q *quarantine) error {
				if err := q.move(b, root, Finding{Class: ClassGlusterfsDir, GFID: brick.RootGFID.String()}); err != nil {
					return err
				}
				q.before("symlink root handle")
				return b.SymlinkDirHandle(brick.RootGFID, afr.GFID{}, "")
			}}))
	}
}

// copyInfo is what one brick holds under one name.
type copyInfo struct {
	bs     *brickState
	abs    string
	st     syscall.Stat_t
	xs     map[string][]byte
	gfid   afr.GFID
	gfidOK bool
	// pending[j] is the counter that blames brick j of the set; dirty is
	// trusted.afr.dirty. Malformed values count as zero here (they are
	// findings of their own).
	pending []afr.Changelog
	dirty   afr.Changelog
	// unlisted is set when the copy's xattr names could not be listed:
	// xs then holds only the keys read by name (see readUnlisted).
	unlisted bool
}

func (ci *copyInfo) typ() afr.FileType { return brick.FileType(ci.st.Mode) }

// readCounters fills in the copy's counters from its xattrs. Malformed
// values, and keys of no brick of the set, count as zero: checkChangelogs
// reports them.
func (ci *copyInfo) readCounters() {
	b := ci.bs.b
	prefix, dirty := b.Key(brick.KeyAFRPrefix), b.Key(brick.KeyDirty)
	for key, v := range ci.xs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		cl, err := brick.DecodeChangelog(v)
		switch {
		case err != nil:
		case key == dirty:
			ci.dirty = cl
		default:
			if j := slices.Index(ci.bs.keys, key); j >= 0 {
				ci.pending[j] = cl
			}
		}
	}
}

// pendingSet reports whether a counter that blames a brick of the set is
// set on this copy.
func (ci *copyInfo) pendingSet() bool {
	return slices.ContainsFunc(ci.pending, func(cl afr.Changelog) bool { return !cl.IsZero() })
}

// counted reports whether any counter on this copy is set for kind.
func (ci *copyInfo) counted(k afr.Kind) bool {
	if ci.dirty[k] != 0 {
		return true
	}
	for _, p := range ci.pending {
		if p[k] != 0 {
			return true
		}
	}
	return false
}

// readCopy reads the copy at abs (at volume path p), or returns nil when
// there is none.
func (c *checker) readCopy(bs *brickState, abs, p string) (*copyInfo, error) {
	if bs.remote != nil {
		return c.readRemoteCopy(bs, p)
	}
	ci := &copyInfo{bs: bs, abs: abs}
	if err := bs.b.Lstat(abs, &ci.st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("fsck: %s: lstat %s: %w", bs.label, p, err)
	}
	xs, err := bs.b.RawXattrsIf(abs, p, bs.checked)
	if errors.Is(err, brick.ErrXattrListTooLong) {
		xs, err = c.readUnlisted(ci, p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Removed since the stat (the volume is mounted and written).
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsck: %s: %w", bs.label, err)
	}
	ci.xs = xs
	if bs.keys != nil {
		ci.pending = make([]afr.Changelog, len(bs.keys))
	}
	return ci, nil
}

// readRemoteCopy reads what a brick on another host holds at volume path
// p: its stat, gfid and counters, all a remote copy is compared by. Its
// abs is p.
func (c *checker) readRemoteCopy(bs *brickState, p string) (*copyInfo, error) {
	r, err := bs.remote.Reply(p, bs.pendingKeys)
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	if !r.Exists {
		return nil, nil
	}
	ci := &copyInfo{bs: bs, abs: p, gfid: r.GFID, gfidOK: !r.GFID.IsZero(), dirty: r.Dirty}
	ci.st.Mode = brick.TypeMode(r.Type) | r.Mode&07777
	ci.st.Uid, ci.st.Gid, ci.st.Size = r.UID, r.GID, r.Size
	ci.pending = make([]afr.Changelog, len(bs.keys))
	copy(ci.pending, r.Pending)
	return ci, nil
}

// hash names the copy's content (brick.HashFile), read over the network
// for a brick on another host.
func (ci *copyInfo) hash() (string, error) {
	if ci.bs.remote == nil {
		return ci.bs.b.HashFile(ci.abs)
	}
	if !ci.gfidOK {
		return "", fmt.Errorf("%s: no gfid to open it by", ci.abs)
	}
	f, err := ci.bs.remote.OpenGFID(ci.gfid)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return brick.HashReaderAt(f, ci.st.Size)
}

// unlistedInode is one inode of one brick.
type unlistedInode struct {
	brick    string
	dev, ino uint64
}

// readUnlisted reads by name the keys fsck checks of a copy whose xattr
// names cannot be listed, and reports the copy once per inode: what fsck
// cannot see there (stale gfid2path keys, changelog keys of no brick of the
// set) GlusterFS cannot list either.
func (c *checker) readUnlisted(ci *copyInfo, p string) (map[string][]byte, error) {
	bs, b := ci.bs, ci.bs.b
	ci.unlisted = true
	keys := append([]string{b.Key(brick.KeyGFID), b.Key(brick.KeyDHT) + ".linkto", b.Key(brick.KeyDirty)}, bs.keys...)
	xs, err := b.XattrsNamed(ci.abs, p, keys)
	if err != nil {
		return nil, err
	}
	id := unlistedInode{bs.label, uint64(ci.st.Dev), ci.st.Ino}
	c.mu.Lock()
	seen := c.unlisted[id]
	if c.unlisted == nil {
		c.unlisted = map[unlistedInode]bool{}
	}
	c.unlisted[id] = true
	c.mu.Unlock()
	if !seen {
		c.add(bs.on(Finding{Class: ClassXattrList, Path: p,
			Detail: fmt.Sprintf("more xattr names than llistxattr returns (E2BIG; %d links): fsck read the keys it checks by name, and cannot see stale gfid2path or foreign changelog keys; GlusterFS cannot list them either, and no metadata heal of this file can run", ci.st.Nlink),
			Manual: "fewer hard links (each name has a gfid2path key) or fewer xattrs bring the list under 64 KiB"}))
	}
	return xs, nil
}

// walkMode says what a walk of the namespace does with each name.
type walkMode int

const (
	// checkNames runs every check of each name.
	checkNames walkMode = iota
	// recheckIndexes only looks up the index entries that checkNames
	// tallied, on the bricks whose tally did not match the index.
	recheckIndexes
)

// walkSet walks the namespace of a replica set from the root, comparing
// the bricks' copies of every name (or, in recheckIndexes mode, only
// looking up their index entries).
func (c *checker) walkSet(ctx context.Context, s *setState, mode walkMode) error {
	roots := make([]*copyInfo, len(s.bricks))
	for i, bs := range s.bricks {
		ci, err := c.readCopy(bs, bs.root, "/")
		if err != nil {
			return err
		}
		roots[i] = ci
	}
	if mode == recheckIndexes {
		c.recheckIndex("/", brick.RootGFID, "", roots)
	} else {
		c.checkCopies(s, "/", brick.RootGFID, "", roots, false)
	}
	return runPool(ctx, c.opts.Jobs, []dirTask{{"/", roots}}, func(t dirTask, push func(dirTask)) error {
		return c.walkDir(s, mode, t.path, t.dirs, push)
	})
}

// dirTask is a directory of a replica set to walk: each brick's copy of it
// (nil where a brick has none or it is not a directory).
type dirTask struct {
	path string
	dirs []*copyInfo
}

// walkDir checks every name in directory p as mode says, given each
// brick's copy of the directory, and pushes its subdirectories.
func (c *checker) walkDir(s *setState, mode walkMode, p string, dirs []*copyInfo, push func(dirTask)) error {
	var names []string
	for _, d := range dirs {
		if d == nil || d.typ() != afr.TypeDirectory {
			continue
		}
		var ns []string
		var err error
		if d.bs.remote != nil {
			ns, err = d.bs.remote.ReadDir(p)
		} else {
			ns, err = d.bs.b.ReadDirNames(d.abs, p)
		}
		if err != nil {
			return fmt.Errorf("fsck: %s: %w", d.bs.label, err)
		}
		names = append(names, ns...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	// The directory's own counters say whether a name missing on a brick
	// is a known pending heal.
	entryKnown := false
	var pgfid afr.GFID
	for _, d := range dirs {
		if d != nil {
			entryKnown = entryKnown || d.counted(afr.Entry)
			if d.gfidOK {
				pgfid = d.gfid
			}
		}
	}
	for _, name := range names {
		cp := brick.Join(p, name)
		copies := make([]*copyInfo, len(dirs))
		for i, d := range dirs {
			if d == nil || d.typ() != afr.TypeDirectory {
				continue
			}
			ci, err := c.readCopy(d.bs, filepath.Join(d.abs, name), cp)
			if err != nil {
				return err
			}
			copies[i] = ci
		}
		if mode == recheckIndexes {
			c.recheckIndex(cp, pgfid, name, copies)
		} else {
			c.entries.Add(1)
			c.checkCopies(s, cp, pgfid, name, copies, entryKnown)
			if here, hereDirs := localOnly(copies), localOnly(dirs); here != nil {
				c.checkStaleTemp(s, p, name, names, hereDirs, here)
			}
		}
		if slices.ContainsFunc(copies, func(ci *copyInfo) bool { return ci != nil && ci.typ() == afr.TypeDirectory }) {
			sub := make([]*copyInfo, len(copies))
			for i, ci := range copies {
				if ci != nil && ci.typ() == afr.TypeDirectory {
					sub[i] = ci
				}
			}
			push(dirTask{cp, sub})
		}
	}
	return nil
}

// localOnly is copies with those of bricks on other hosts left out (nil
// in their place), or nil when none is on this host: a stale temp file is
// checked, and renamed, on the bricks of this host; live renames go
// through GlusterFS (fsck --rename-stale-path on a started volume).
func localOnly(copies []*copyInfo) []*copyInfo {
	var out []*copyInfo
	for i, ci := range copies {
		if ci != nil && ci.bs.remote != nil {
			if out == nil {
				out = slices.Clone(copies)
			}
			out[i] = nil
		}
	}
	if out == nil {
		return copies
	}
	if !slices.ContainsFunc(out, func(ci *copyInfo) bool { return ci != nil }) {
		return nil
	}
	return out
}
