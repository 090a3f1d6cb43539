// Command healinfo builds the volumes that bench/healinfo.sh times
// `afrkit heal VOL info` on: an afrkit replica volume whose up bricks hold n
// regular files written while one brick was down, with every piece of state
// GlusterFS's posix and AFR xlators would have left for them.
//
// For each file, on each up brick: the file, its trusted.gfid, its
// .glusterfs hard-link handle, its gfid2path and mdata xattrs, a pending
// changelog [1,1,0] (data+metadata, afr_mark_new_entry_changelog) blaming the
// down brick, a zero trusted.afr.dirty (AFR's transactions leave one on
// every file and directory they touch: see
// fixtures/gluster/testdata/pending-brick-down/getfattr.txt), an xattrop
// index entry and, with -granular (GlusterFS's default for new volumes), an
// entry-changes name under its parent. The files are spread over -dirs
// directories (with a zero afr.dirty and a full-range glusterfs.dht layout,
// as GlusterFS makes them) that existed on every brick before the brick
// went down; each such directory gets an entry changelog [0,0,files] blaming
// the down brick and its own xattrop entry, as AFR's entry transactions
// leave them. The down brick keeps only the directories.
//
// The zero afr.dirty is not decoration: it makes each file's xattrs larger
// than what fits in a 256-byte ext4 inode, and turns the dirty lookup from
// ENODATA into a read, as on a real brick.
//
// So every up brick's heal index lists n+dirs entries and the down brick's
// none; the program verifies that before it writes its marker, and prints
// the counts for the script to compare with afrkit's summary.
//
// Generation is the bulk of a benchmark's wall time, so files are made with
// fd-based syscalls (no fsync: a benchmark volume need not survive a crash;
// one syncfs at the end keeps writeback out of the timings) by parallel
// workers. To keep this fast path honest, the first file is made through
// brick.Create, Brick.WriteChangelog and index.Add, the code paths afrkit
// itself uses, and the program fails if a fast-path file differs from it in
// xattr names, type, mode or replies.
//
// A volume is reused when its marker file records the same parameters, so
// re-running the benchmark does not rebuild a million files.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/index"
)

// params are what a built volume is made of. A marker records them; a volume
// whose marker differs is rebuilt.
type params struct {
	Name     string `json:"name"`
	Files    int    `json:"files"`
	Dirs     int    `json:"dirs"`
	Replica  int    `json:"replica"`
	Down     int    `json:"down"`
	Size     int    `json:"size"`
	Granular bool   `json:"granular"`
	XattrNS  string `json:"xattr_ns"`
	// Version changes whenever what the generator writes changes, so old
	// volumes are not reused after the generator is fixed.
	Version int `json:"version"`
}

const genVersion = 2

// marker is the content of <volume dir>/bench-marker.json.
type marker struct {
	Params params `json:"params"`
	// Expected is the number of entries heal info must list per brick.
	Expected   []int   `json:"expected"`
	VolumeID   string  `json:"volume_id"`
	GenSeconds float64 `json:"gen_seconds"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "healinfo: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	def := os.Getenv("BENCH_DIR")
	if def == "" {
		def = "/var/tmp/afrkit-bench"
	}
	var (
		p       params
		dir     = flag.String("dir", def, "benchmark directory: volumes go in DIR/VOL, the registry in DIR/state (env BENCH_DIR)")
		state   = flag.String("state-dir", "", "afrkit state directory to register the volume in (default DIR/state)")
		workers = flag.Int("workers", 4*runtime.NumCPU(), "parallel file creators (syscall-bound: more than the cores keeps the disk busy)")
		force   = flag.Bool("force", false, "rebuild even when a matching volume exists")
	)
	flag.StringVar(&p.Name, "name", "", "volume name (default r<replica>-<n>)")
	flag.IntVar(&p.Files, "n", 10000, "number of regular files written while the brick was down")
	flag.IntVar(&p.Dirs, "dirs", 1000, "directories the files are spread over (at most n)")
	flag.IntVar(&p.Replica, "replica", 2, "replica count")
	flag.IntVar(&p.Down, "down", -1, "index of the brick that was down (default the last)")
	flag.IntVar(&p.Size, "size", 0, "bytes of data per file (heal info never reads data, so 0 keeps disk use down)")
	flag.BoolVar(&p.Granular, "granular", true, "also record entry-changes names, as cluster.granular-entry-heal (GlusterFS's default) does")
	flag.StringVar(&p.XattrNS, "xattr-ns", brick.NSTrusted, "xattr namespace: trusted (as GlusterFS; needs root) or user")
	flag.Parse()
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if p.Replica < 2 {
		return fmt.Errorf("-replica %d: want at least 2", p.Replica)
	}
	if p.Down < 0 {
		p.Down = p.Replica - 1
	}
	if p.Down >= p.Replica {
		return fmt.Errorf("-down %d: the volume has bricks 0..%d", p.Down, p.Replica-1)
	}
	if p.Files < 1 {
		return fmt.Errorf("-n %d: want at least 1 file", p.Files)
	}
	p.Dirs = max(1, min(p.Dirs, p.Files))
	if p.Name == "" {
		p.Name = fmt.Sprintf("r%d-%s", p.Replica, humanCount(p.Files))
	}
	if err := volume.ValidName(p.Name); err != nil {
		return err
	}
	if p.XattrNS == brick.NSTrusted && os.Geteuid() != 0 {
		return errors.New("trusted xattrs need root (or pass -xattr-ns user)")
	}
	p.Version = genVersion
	if *state == "" {
		*state = filepath.Join(*dir, "state")
	}
	if *workers < 1 {
		*workers = 1
	}

	g := &gen{p: p, volDir: filepath.Join(*dir, p.Name), reg: &volume.Registry{Dir: *state}, workers: *workers}
	m, reused, err := g.ensure(*force)
	if err != nil {
		return fmt.Errorf("volume %s: %w", p.Name, err)
	}
	how := "built"
	if reused {
		how = "reused"
	}
	// One machine-readable line on stdout for healinfo.sh; the rest of the
	// chatter goes to stderr.
	fmt.Printf("volume=%s state_dir=%s files=%d dirs=%d replica=%d down=%d expected=%s gen_seconds=%.1f %s\n",
		p.Name, *state, p.Files, p.Dirs, p.Replica, p.Down, joinInts(m.Expected), m.GenSeconds, how)
	return nil
}

// humanCount names a count the way the benchmark table does: 10k, 1m.
func humanCount(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dm", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%dk", n/1e3)
	}
	return fmt.Sprint(n)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

type gen struct {
	p       params
	volDir  string
	reg     *volume.Registry
	workers int

	v       *volume.Volume
	bricks  []*brick.Brick
	indexes []*index.Index
	up      []int
	dirs    []benchDir
	now     brick.Mdata
	// xattr keys and values every fast-path file shares.
	keyGFID, keyMdata, keyDirty string
	valMdata                    []byte
	pendingKeys                 []string // full keys blaming the down brick
	valFileMark                 []byte
}

// benchDir is one of the directories the files are spread over.
type benchDir struct {
	rel  string // volume path, "/d0042"
	gfid afr.GFID
}

func (g *gen) markerPath() string { return filepath.Join(g.volDir, "bench-marker.json") }

// ensure reuses a matching volume or builds a new one.
func (g *gen) ensure(force bool) (marker, bool, error) {
	if !force {
		if m, ok := g.reusable(); ok {
			return m, true, nil
		}
	}
	if err := g.remove(); err != nil {
		return marker{}, false, err
	}
	start := time.Now()
	m, err := g.build()
	if err != nil {
		return marker{}, false, err
	}
	m.GenSeconds = time.Since(start).Seconds()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return marker{}, false, fmt.Errorf("encode marker: %w", err)
	}
	// The marker is written last: a build that died half-way has none and
	// is rebuilt next time.
	if err := os.WriteFile(g.markerPath(), append(data, '\n'), 0o644); err != nil {
		return marker{}, false, fmt.Errorf("write marker: %w", err)
	}
	return m, false, nil
}

// reusable reports whether the volume on disk was built with the same
// parameters and is still registered with the same id.
func (g *gen) reusable() (marker, bool) {
	data, err := os.ReadFile(g.markerPath())
	if err != nil {
		return marker{}, false
	}
	var m marker
	if json.Unmarshal(data, &m) != nil || m.Params != g.p {
		logf("%s: marker does not match the requested parameters: rebuilding", g.p.Name)
		return marker{}, false
	}
	v, err := g.reg.Load(g.p.Name)
	if err != nil || v.ID != m.VolumeID {
		logf("%s: not registered in %s with the marker's volume id: rebuilding", g.p.Name, g.reg.Dir)
		return marker{}, false
	}
	return m, true
}

// remove deletes a previous build and its registration. The registry has no
// Delete, so the definition file is removed where Registry.Save puts it.
func (g *gen) remove() error {
	if _, err := os.Stat(g.volDir); err == nil {
		logf("%s: removing the previous build in %s", g.p.Name, g.volDir)
		if err := os.RemoveAll(g.volDir); err != nil {
			return fmt.Errorf("remove previous build: %w", err)
		}
	}
	def := filepath.Join(g.reg.Dir, "volumes", g.p.Name+".json")
	if err := os.Remove(def); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove previous registration: %w", err)
	}
	return nil
}

func (g *gen) build() (marker, error) {
	p := g.p
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	var dirs []string
	for i := 0; i < p.Replica; i++ {
		dirs = append(dirs, filepath.Join(g.volDir, fmt.Sprintf("b%d", i+1)))
	}
	// The same code path as `afrkit volume create`, so the definition and
	// the brick layout are exactly what afrkit makes.
	cat := &volume.Catalog{Registry: g.reg, Glusterd: &volume.Glusterd{Dir: filepath.Join(g.volDir, "no-glusterd")}}
	v, err := g.reg.Create(volume.CreateOptions{Name: p.Name, Replica: p.Replica, Dirs: dirs, XattrNS: p.XattrNS, Host: host}, cat)
	if err != nil {
		return marker{}, fmt.Errorf("create: %w", err)
	}
	g.v = v
	for i, vb := range v.Bricks {
		b, err := brick.Open(vb.Path, v.XattrNS)
		if err != nil {
			return marker{}, err
		}
		g.bricks = append(g.bricks, b)
		g.indexes = append(g.indexes, index.Open(vb.Path))
		if i != p.Down {
			g.up = append(g.up, i)
		}
	}
	t := time.Now()
	ts := afr.TimespecOf(t)
	g.now = brick.Mdata{Ctime: ts, Mtime: ts, Atime: ts}
	g.keyGFID = p.XattrNS + "." + brick.KeyGFID
	g.keyMdata = p.XattrNS + "." + brick.KeyMdata
	g.keyDirty = p.XattrNS + "." + brick.KeyDirty
	g.valMdata = g.now.Encode()
	g.pendingKeys = []string{p.XattrNS + "." + brick.PendingKey(v.Bricks[p.Down].ID)}
	// afr_mark_new_entry_changelog: a regular file created while a brick
	// is down is blamed for data and metadata.
	g.valFileMark = brick.EncodeChangelog(afr.Changelog{1, 1, 0})

	start := time.Now()
	if err := g.makeDirs(); err != nil {
		return marker{}, err
	}
	logf("%s: %d directories on %d bricks in %s", p.Name, p.Dirs, p.Replica, since(start))

	start = time.Now()
	if err := g.referenceFile(); err != nil {
		return marker{}, fmt.Errorf("reference file: %w", err)
	}
	if err := g.makeFiles(); err != nil {
		return marker{}, err
	}
	logf("%s: %d files on %d up bricks in %s", p.Name, p.Files, len(g.up), since(start))
	if err := g.checkFastPath(); err != nil {
		return marker{}, fmt.Errorf("fast path drifted from brick.Create: %w", err)
	}

	start = time.Now()
	if err := g.blameDirs(); err != nil {
		return marker{}, err
	}
	// Flush everything now, so later timings do not pay for writeback.
	if err := syncfs(g.volDir); err != nil {
		return marker{}, err
	}
	logf("%s: directory changelogs and syncfs in %s", p.Name, since(start))

	expected, err := g.verify()
	if err != nil {
		return marker{}, err
	}
	return marker{Params: p, Expected: expected, VolumeID: v.ID}, nil
}

// dhtFullRange is the trusted.glusterfs.dht layout GlusterFS gives every
// directory of a volume with a single subvolume: hash range 0 to 0xffffffff.
var dhtFullRange = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}

// makeDirs creates the directories on every brick, the down one included:
// they existed before it went down, so they carry no pending changelog,
// only the zero dirty and the dht layout GlusterFS leaves (the root too).
func (g *gen) makeDirs() error {
	g.dirs = make([]benchDir, g.p.Dirs)
	for d := range g.dirs {
		g.dirs[d] = benchDir{rel: fmt.Sprintf("/d%04d", d), gfid: brick.NewGFID()}
	}
	eg := new(errgroup.Group)
	for _, b := range g.bricks {
		eg.Go(func() error {
			if err := g.dirXattrs(b, "/"); err != nil {
				return err
			}
			for _, d := range g.dirs {
				m := g.now
				if err := b.Create(brick.NewEntry{Path: d.rel, GFID: d.gfid, Type: afr.TypeDirectory, Mode: 0o755, Times: &m}); err != nil {
					return fmt.Errorf("mkdir: %w", err)
				}
				if err := g.dirXattrs(b, d.rel); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return eg.Wait()
}

func (g *gen) dirXattrs(b *brick.Brick, rel string) error {
	if err := b.WriteChangelog(rel, brick.KeyDirty, afr.Changelog{}); err != nil {
		return err
	}
	key := g.p.XattrNS + "." + brick.KeyDHT
	if err := unix.Lsetxattr(filepath.Join(b.Root, rel), key, dhtFullRange, 0); err != nil {
		return fmt.Errorf("brick %s: setxattr %s %s: %w", b.Root, key, rel, err)
	}
	return nil
}

// fileName is the name of file k; file k lives in directory k mod dirs, so
// consecutive files land in different directories and parallel workers
// rarely wait on the same directory lock.
func (g *gen) fileName(k int) (benchDir, string) {
	return g.dirs[k%len(g.dirs)], fmt.Sprintf("f%07d", k)
}

// referenceFile makes file 0 the way afrkit itself would (fixtures.Vol's
// WriteFile does the same): brick.Create, then the changelog and index.
func (g *gen) referenceFile() error {
	d, name := g.fileName(0)
	rel := d.rel + "/" + name
	gf := brick.NewGFID()
	for _, i := range g.up {
		b, ix := g.bricks[i], g.indexes[i]
		m := g.now
		e := brick.NewEntry{Path: rel, GFID: gf, Type: afr.TypeRegular, Mode: 0o644, Times: &m}
		if g.p.Size > 0 {
			e.Content = strings.NewReader(strings.Repeat("x", g.p.Size))
		}
		if err := b.Create(e); err != nil {
			return err
		}
		if err := b.WriteChangelog(rel, brick.PendingKey(g.v.Bricks[g.p.Down].ID), afr.Changelog{1, 1, 0}); err != nil {
			return err
		}
		if err := b.WriteChangelog(rel, brick.KeyDirty, afr.Changelog{}); err != nil {
			return err
		}
		if err := g.indexFile(ix, d, name, gf); err != nil {
			return err
		}
	}
	return nil
}

// indexFile records a new file in the up brick's index as AFR's pre-op
// does: its gfid in xattrop and, with granular entry heal, its name under
// the parent's entry-changes.
func (g *gen) indexFile(ix *index.Index, d benchDir, name string, gf afr.GFID) error {
	if err := ix.Add(index.Xattrop, gf); err != nil {
		return err
	}
	if g.p.Granular {
		return ix.AddEntryChange(d.gfid, name)
	}
	return nil
}

// makeFiles creates files 1..n-1 with parallel workers. Each worker claims
// chunks of file numbers so the shared counter is not a hot spot.
func (g *gen) makeFiles() error {
	const chunk = 256
	var next, done atomic.Int64
	next.Store(1) // file 0 is the reference file
	done.Store(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eg, ctx := errgroup.WithContext(ctx)
	stop := make(chan struct{})
	go g.progress(&done, stop)
	defer close(stop)
	var content []byte
	if g.p.Size > 0 {
		content = []byte(strings.Repeat("x", g.p.Size))
	}
	for w := 0; w < g.workers; w++ {
		eg.Go(func() error {
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= g.p.Files {
					return nil
				}
				for k := lo; k < min(lo+chunk, g.p.Files); k++ {
					d, name := g.fileName(k)
					gf := brick.NewGFID()
					for _, i := range g.up {
						if err := g.fastFile(i, d, name, gf, content); err != nil {
							return err
						}
					}
					done.Add(1)
				}
			}
			return ctx.Err()
		})
	}
	return eg.Wait()
}

func (g *gen) progress(done *atomic.Int64, stop <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			n := done.Load()
			el := time.Since(start).Seconds()
			logf("%s: %d/%d files (%.0f files/s)", g.p.Name, n, g.p.Files, float64(n)/el)
		}
	}
}

// fastFile is what brick.Create, Brick.WriteChangelog, index.Add and
// index.AddEntryChange do for a new regular file, minus the fsync and the
// per-call path checks: xattrs are set through the open fd, before the
// handle link, as posix_create sets gfid and gfid2path before it links the
// handle.
func (g *gen) fastFile(i int, d benchDir, name string, gf afr.GFID, content []byte) error {
	b, ix := g.bricks[i], g.indexes[i]
	abs := filepath.Join(b.Root, d.rel, name)
	fd, err := unix.Open(abs, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("brick %s: create %s/%s: %w", b.Root, d.rel, name, err)
	}
	err = g.fileXattrs(fd, d, name, gf, content)
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("brick %s: %s/%s: %w", b.Root, d.rel, name, err)
	}
	if err := b.LinkFileHandle(abs, gf); err != nil {
		return err
	}
	return g.indexFile(ix, d, name, gf)
}

func (g *gen) fileXattrs(fd int, d benchDir, name string, gf afr.GFID, content []byte) error {
	if len(content) > 0 {
		if _, err := unix.Write(fd, content); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	// The umask may have cut mode bits, as brick.Create's chmod allows for.
	if err := unix.Fchmod(fd, 0o644); err != nil {
		return fmt.Errorf("fchmod: %w", err)
	}
	set := []struct {
		key   string
		val   []byte
		flags int
	}{
		{g.keyGFID, gf[:], unix.XATTR_CREATE},
		{g.p.XattrNS + "." + brick.Gfid2pathKey(d.gfid, name), []byte(brick.Gfid2pathValue(d.gfid, name)), unix.XATTR_CREATE},
		{g.keyMdata, g.valMdata, 0},
		{g.keyDirty, make([]byte, brick.ChangelogSize), 0},
	}
	for _, x := range set {
		if err := unix.Fsetxattr(fd, x.key, x.val, x.flags); err != nil {
			return fmt.Errorf("setxattr %s: %w", x.key, err)
		}
	}
	for _, k := range g.pendingKeys {
		if err := unix.Fsetxattr(fd, k, g.valFileMark, 0); err != nil {
			return fmt.Errorf("setxattr %s: %w", k, err)
		}
	}
	return nil
}

// gfid2pathRE hides the per-name hash in gfid2path keys when comparing a
// reference file with a fast-path one.
var gfid2pathRE = regexp.MustCompile(`gfid2path\.[0-9a-f]{16}$`)

// checkFastPath compares file 0 (made by brick.Create) with file 1 (made by
// fastFile) on every up brick: same xattr names, and the same reply apart
// from the gfid and the times.
func (g *gen) checkFastPath() error {
	if g.p.Files < 2 {
		return nil
	}
	rd, rname := g.fileName(0)
	fd, fname := g.fileName(1)
	keys := volume.PendingKeys(g.v.Bricks)
	for _, i := range g.up {
		b := g.bricks[i]
		var names [2][]string
		var replies [2]afr.Reply
		for j, rel := range []string{rd.rel + "/" + rname, fd.rel + "/" + fname} {
			abs := filepath.Join(b.Root, rel)
			ns, err := listXattr(abs)
			if err != nil {
				return err
			}
			for k, n := range ns {
				ns[k] = gfid2pathRE.ReplaceAllString(n, "gfid2path.*")
			}
			slices.Sort(ns)
			names[j] = ns
			r, err := b.Reply(rel, keys)
			if err != nil {
				return err
			}
			replies[j] = r
			gf, err := b.GFIDOf(rel)
			if err != nil {
				return err
			}
			if p, err := b.PathOf(gf); err != nil || p != rel {
				return fmt.Errorf("brick %s: gfid %s resolves to %q (%v), want %s", b.Root, gf, p, err, rel)
			}
		}
		if !slices.Equal(names[0], names[1]) {
			return fmt.Errorf("brick %s: xattrs %q (brick.Create) vs %q (fast path)", b.Root, names[0], names[1])
		}
		r0, r1 := replies[0], replies[1]
		if r0.Type != r1.Type || r0.Mode != r1.Mode || r0.Size != r1.Size || !slices.Equal(r0.Pending, r1.Pending) || r0.Dirty != r1.Dirty || r0.Mtime != r1.Mtime {
			return fmt.Errorf("brick %s: reply %+v (brick.Create) vs %+v (fast path)", b.Root, r0, r1)
		}
	}
	return nil
}

func listXattr(abs string) ([]string, error) {
	sz, err := unix.Llistxattr(abs, nil)
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", abs, err)
	}
	buf := make([]byte, sz)
	sz, err = unix.Llistxattr(abs, buf)
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", abs, err)
	}
	return strings.Split(strings.TrimRight(string(buf[:sz]), "\x00"), "\x00"), nil
}

// blameDirs records, on each up brick, what AFR's entry transactions left
// on the parents: one entry-counter increment per file created while the
// brick was down (pre-op +1 for every brick, post-op -1 for those that
// succeeded), an xattrop index entry, and the new mtime in mdata.
func (g *gen) blameDirs() error {
	counts := make([]int32, len(g.dirs))
	for k := 0; k < g.p.Files; k++ {
		counts[k%len(g.dirs)]++
	}
	key := brick.PendingKey(g.v.Bricks[g.p.Down].ID)
	for _, i := range g.up {
		b, ix := g.bricks[i], g.indexes[i]
		for d, bd := range g.dirs {
			if err := b.WriteChangelog(bd.rel, key, afr.Changelog{0, 0, counts[d]}); err != nil {
				return err
			}
			if err := ix.Add(index.Xattrop, bd.gfid); err != nil {
				return err
			}
			if err := b.WriteMdata(bd.rel, g.now); err != nil {
				return err
			}
		}
	}
	return nil
}

// verify counts each brick's xattrop entries: n files plus the directories
// on every up brick, none on the down one.
func (g *gen) verify() ([]int, error) {
	want := make([]int, len(g.bricks))
	for _, i := range g.up {
		want[i] = g.p.Files + g.p.Dirs
	}
	for i, ix := range g.indexes {
		n, err := ix.Count(index.Xattrop)
		if err != nil {
			return nil, err
		}
		if n != want[i] {
			return nil, fmt.Errorf("brick %s: xattrop has %d entries, want %d", g.bricks[i].Root, n, want[i])
		}
	}
	return want, nil
}

// syncfs flushes the filesystem holding dir.
func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncfs: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
