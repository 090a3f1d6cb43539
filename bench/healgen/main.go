// Command healgen builds the volumes that bench/heal.sh times `afrkit heal`
// on, with the fixtures package: every entry is made by fixtures.Vol's
// WriteFile and Mkdir, the code afrkit's own tests use to leave exactly
// the state GlusterFS's posix and AFR xlators leave when a brick is down
// (brick.Create with its fsync, the pending changelogs on the up brick,
// the parent's entry counter, the xattrop index and the granular
// entry-changes names).
//
// Modes:
//
//	-mode missed  a replica-2 volume (fixtures.Healthy) on which brick b1
//	              missed -dirs directories (made while b1 was down, unless
//	              -dirs-down=false), -files small files spread over them, and
//	              one -big byte file of incompressible content at /big.bin.
//	-mode patch   a replica-2 volume (fixtures.Healthy) with a -size byte file
//	              /big.bin written while both bricks were up, then -patch bytes
//	              at -offset rewritten in place on b0 only, with b1 blamed for
//	              data as AFR's post-op does (what fixtures.Vol.Overwrite does,
//	              without rewriting the whole file).
//	-mode deep    a replica-2 volume (fixtures.Healthy) with a chain of -depth
//	              nested directories /d/d/…/d, each holding one small file,
//	              all made while b1 was down: each level is one entry heal
//	              on a path one component longer than the last.
//	-mode tree    the files of -mode missed (same names, sizes and content for
//	              the same -seed) written as plain files under -out: the
//	              workload bench/heal.sh writes through a GlusterFS FUSE mount.
//
// The volume goes in -dir (bricks -dir/b0 and -dir/b1, registry -dir/state,
// which must not exist yet). One line of key=value facts goes to stdout.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
)

type params struct {
	mode, dir, name, out string
	files, dirs          int
	minSize, maxSize     int
	big                  int64
	dirsDown             bool
	size, patch, offset  int64
	seed                 uint64
	depth                int
}

func main() {
	var p params
	flag.StringVar(&p.mode, "mode", "missed", "missed, patch or tree")
	flag.StringVar(&p.dir, "dir", "", "volume directory (bricks DIR/b0, DIR/b1, registry DIR/state); must not exist")
	flag.StringVar(&p.name, "name", "hb", "volume name")
	flag.StringVar(&p.out, "out", "", "tree mode: directory to write the files into")
	flag.IntVar(&p.files, "files", 5000, "missed/tree: small files")
	flag.IntVar(&p.dirs, "dirs", 50, "missed/tree: directories the small files are spread over")
	flag.IntVar(&p.minSize, "min", 200, "missed/tree: smallest small file, bytes")
	flag.IntVar(&p.maxSize, "max", 4096, "missed/tree: largest small file, bytes")
	flag.Int64Var(&p.big, "big", 256<<20, "missed/tree: bytes of /big.bin (0: none)")
	flag.BoolVar(&p.dirsDown, "dirs-down", true, "missed: make the directories while b1 is down too (false: on both bricks)")
	flag.Int64Var(&p.size, "size", 1<<30, "patch: bytes of /big.bin")
	flag.Int64Var(&p.patch, "patch", 1<<20, "patch: bytes rewritten on b0")
	flag.Int64Var(&p.offset, "offset", -1, "patch: where they start (-1: centred, (size-patch)/2)")
	flag.Uint64Var(&p.seed, "seed", 1, "content seed")
	flag.IntVar(&p.depth, "depth", 2000, "deep: directories in the chain")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	var facts string
	var err error
	switch p.mode {
	case "missed":
		facts, err = missed(p)
	case "patch":
		facts, err = patch(p)
	case "tree":
		facts, err = tree(p)
	case "deep":
		facts, err = deep(p)
	default:
		err = fmt.Errorf("unknown -mode %q", p.mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "healgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s gen_seconds=%.1f\n", facts, time.Since(start).Seconds())
}

// workload is the deterministic list of small files: name and content.
type smallFile struct {
	dir, path string
	content   []byte
}

func dirName(d int) string { return fmt.Sprintf("/d%02d", d) }

func smallFiles(p params) []smallFile {
	r := rand.New(rand.NewPCG(p.seed, 0x6865616c))
	fs := make([]smallFile, p.files)
	for k := range fs {
		d := dirName(k % p.dirs)
		n := p.minSize + r.IntN(p.maxSize-p.minSize+1)
		c := make([]byte, n)
		for i := range c {
			c[i] = byte(r.Uint32())
		}
		fs[k] = smallFile{dir: d, path: fmt.Sprintf("%s/f%05d.bin", d, k), content: c}
	}
	return fs
}

// randomBytes is n bytes of incompressible content.
func randomBytes(n int64, seed uint64) []byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func checkDir(dir string) error {
	if dir == "" {
		return errors.New("-dir is required")
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists: remove it first", dir)
	}
	return os.MkdirAll(dir, 0o755)
}

func missed(p params) (string, error) {
	if err := checkDir(p.dir); err != nil {
		return "", err
	}
	if p.dirs < 1 || p.files < 0 || p.minSize < 0 || p.maxSize < p.minSize {
		return "", errors.New("bad -files/-dirs/-min/-max")
	}
	v, err := fixtures.Healthy(p.dir, p.name, 2)
	if err != nil {
		return "", err
	}
	var down []int
	if p.dirsDown {
		down = []int{1}
	}
	for d := range p.dirs {
		if err := v.Mkdir(dirName(d), down...); err != nil {
			return "", err
		}
	}
	var small int64
	for _, f := range smallFiles(p) {
		if err := v.WriteFile(f.path, f.content, 1); err != nil {
			return "", err
		}
		small += int64(len(f.content))
	}
	if p.big > 0 {
		if err := v.WriteFile("/big.bin", randomBytes(p.big, p.seed), 1); err != nil {
			return "", err
		}
	}
	if err := syncfs(p.dir); err != nil {
		return "", err
	}
	return fmt.Sprintf("volume=%s files=%d dirs=%d dirs_down=%t small_bytes=%d big_bytes=%d", p.name, p.files, p.dirs, p.dirsDown, small, p.big), nil
}

// deep makes the chain of -depth directories, each with a file, on b0
// while b1 is down.
func deep(p params) (string, error) {
	if err := checkDir(p.dir); err != nil {
		return "", err
	}
	if p.depth < 1 {
		return "", errors.New("bad -depth")
	}
	v, err := fixtures.Healthy(p.dir, p.name, 2)
	if err != nil {
		return "", err
	}
	dir := ""
	for range p.depth {
		dir += "/d"
		if err := v.Mkdir(dir, 1); err != nil {
			return "", err
		}
		if err := v.WriteFile(dir+"/f", []byte("one level down\n"), 1); err != nil {
			return "", err
		}
	}
	if err := syncfs(p.dir); err != nil {
		return "", err
	}
	return fmt.Sprintf("volume=%s depth=%d path_bytes=%d", p.name, p.depth, len(dir)+2), nil
}

// tree writes the small files and the big one under p.out, a few
// directories at a time.
func tree(p params) (string, error) {
	if p.out == "" {
		return "", errors.New("-out is required")
	}
	fs := smallFiles(p)
	for d := range p.dirs {
		if err := os.Mkdir(filepath.Join(p.out, dirName(d)), 0o755); err != nil {
			return "", err
		}
	}
	var eg errgroup.Group
	eg.SetLimit(4)
	for w := range 4 {
		eg.Go(func() error {
			for k := w; k < len(fs); k += 4 {
				if err := os.WriteFile(filepath.Join(p.out, fs[k].path), fs[k].content, 0o644); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if p.big > 0 {
		eg.Go(func() error {
			return os.WriteFile(filepath.Join(p.out, "big.bin"), randomBytes(p.big, p.seed), 0o644)
		})
	}
	if err := eg.Wait(); err != nil {
		return "", err
	}
	return fmt.Sprintf("out=%s files=%d dirs=%d big_bytes=%d", p.out, p.files, p.dirs, p.big), nil
}

func patch(p params) (string, error) {
	if err := checkDir(p.dir); err != nil {
		return "", err
	}
	if p.offset < 0 {
		p.offset = (p.size - p.patch) / 2
	}
	if p.patch <= 0 || p.offset+p.patch > p.size {
		return "", errors.New("bad -size/-patch/-offset")
	}
	v, err := fixtures.Healthy(p.dir, p.name, 2)
	if err != nil {
		return "", err
	}
	const path = "/big.bin"
	if err := v.WriteFile(path, randomBytes(p.size, p.seed)); err != nil {
		return "", err
	}
	// The write AFR's client sends to b0 alone: the new bytes in place,
	// the mdata posix updates, and the data counter blaming b1 with its
	// index entry (fixtures.Vol's blame and touchMdata, unexported).
	b := v.Bricks[0]
	abs, err := b.Abs(path)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(abs, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	newBytes := randomBytes(p.patch, p.seed+1)
	if _, err := f.WriteAt(newBytes, p.offset); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(abs, &st); err != nil {
		return "", err
	}
	if err := b.WriteMdata(path, brick.Mdata{
		Ctime: afr.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
		Mtime: afr.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
		Atime: afr.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
	}); err != nil {
		return "", err
	}
	key := brick.PendingKey(v.V.Bricks[1].ID)
	cur, err := b.ReadChangelog(abs, path, key)
	if err != nil {
		return "", err
	}
	cur[afr.Data]++
	if err := b.WriteChangelog(path, key, cur); err != nil {
		return "", err
	}
	g, err := b.GFIDOf(path)
	if err != nil {
		return "", err
	}
	if err := v.Indexes[0].Add(index.Xattrop, g); err != nil {
		return "", err
	}
	if err := syncfs(p.dir); err != nil {
		return "", err
	}
	// The two copies must differ in the patch only.
	b1, err := os.ReadFile(filepath.Join(v.V.Bricks[1].Path, path))
	if err != nil {
		return "", err
	}
	if bytes.Equal(b1[p.offset:p.offset+p.patch], newBytes) {
		return "", errors.New("patch left the content unchanged")
	}
	return fmt.Sprintf("volume=%s size=%d patch=%d offset=%d", p.name, p.size, p.patch, p.offset), nil
}

func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
