// Package compare compares two namespaces by name and content: a
// geo-replicated volume and its slave, or any two trees. It reports the
// names one side has and the other lacks, the files whose content
// differs, and, as a kind of its own, a file the slave holds only under
// the temp name rsync wrote it as (".player.json.AbvgGY" where
// "player.json" should be) with the master's content: what a transfer cut
// short between its write and its rename leaves, and what one rename
// fixes.
//
// Directories are walked in parallel, each side listed once, and only
// files of equal size are read (hashed with blake3, as brick.HashFile
// names content), so the walk streams: memory holds the directories
// under way and the findings, not the trees.
package compare

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/rsynctemp"
)

// Tree is one side of a comparison. Its methods are called from several
// goroutines at once.
type Tree interface {
	// ReadDir lists the directory at the volume path dir ("/" is the
	// root): each name with its type, size and, for a symlink, its
	// target, without following symlinks.
	ReadDir(dir string) ([]Entry, error)
	// Hash names the content of the regular file at p as
	// brick.HashFile names it.
	Hash(p string) (string, error)
}

// Counter is a Tree that counts its files quickly (directories listed,
// nothing else read), for a progress line's total. Count is called from
// its own goroutine while the comparison runs.
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// SmallReader is a Tree that reads a small file whole (at most
// brick.SmallFile bytes; ok false for a longer one): two such files are
// compared byte for byte rather than hashed. Called from several
// goroutines at once.
type SmallReader interface {
	ReadSmall(p string) (data []byte, ok bool, err error)
}

// Entry is one name of a directory.
type Entry struct {
	Name string
	Type afr.FileType
	Size int64
	// Target is a symlink's target.
	Target string
	// Err is set for a name whose content cannot be read on this side
	// (a replicated volume's copies in split-brain): it is reported, not
	// compared.
	Err error
}

// Kind is what a finding says of a name.
type Kind int

const (
	// OnlyOnMaster: the master has the name, the slave does not.
	OnlyOnMaster Kind = iota
	// OnlyOnSlave: the slave has the name, the master does not.
	OnlyOnSlave
	// Differs: both have the name, with other content or another type.
	Differs
	// TempName: the slave lacks the master's file, and holds its content
	// under rsync's temp name for it, in the same directory; renaming it
	// fixes the slave.
	TempName
	// Unreadable: a side could not read the name (Detail says why).
	Unreadable
)

func (k Kind) String() string {
	switch k {
	case OnlyOnMaster:
		return "only-on-master"
	case OnlyOnSlave:
		return "only-on-slave"
	case Differs:
		return "differs"
	case TempName:
		return "temp-name"
	case Unreadable:
		return "unreadable"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Finding is one difference between the sides.
type Finding struct {
	Kind Kind
	// Path is the name's volume path; for TempName, the final name the
	// slave lacks.
	Path string
	// Type is the name's type on the side that has it (the master's for
	// Differs).
	Type afr.FileType
	// Temp is, for TempName, the slave's temp name of Path.
	Temp string
	// Detail says how the sides differ, or why a name could not be read.
	Detail string
}

// Stats count what a comparison did so far; read them with Load while it
// runs.
type Stats struct {
	Dirs, Files, Bytes atomic.Int64
}

// Options tune Compare.
type Options struct {
	// Jobs is how many directories and files are read at once (default
	// 4).
	Jobs int
	// Stats, when set, is kept up to date as the comparison goes.
	Stats *Stats
}

// Report is a comparison's outcome: its findings, sorted by path.
type Report struct {
	Findings []Finding
	// Dirs and Files are the directories and files of the master
	// compared.
	Dirs, Files int64
}

// Renames are the slave's temp names to rename to their final names.
func (r Report) Renames() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == TempName {
			out = append(out, f)
		}
	}
	return out
}

// chunk bounds the files one task compares, so that a directory of a
// hundred thousand files is read by every worker, not one.
const chunk = 64

// Compare walks master and slave from their roots and reports how they
// differ. It stops at the first error that is not a name's own (a
// directory that cannot be listed on a side is its own finding), or when
// ctx ends.
func Compare(ctx context.Context, master, slave Tree, opts Options) (Report, error) {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 4
	}
	stats := opts.Stats
	if stats == nil {
		stats = &Stats{}
	}
	w := &walk{ctx: ctx, master: master, slave: slave, stats: stats}
	w.cond = sync.NewCond(&w.mu)
	w.push(task{dir: "/"})
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(w.work)
	}
	wg.Wait()
	if w.err != nil {
		return Report{}, w.err
	}
	slices.SortFunc(w.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Temp, b.Temp))
	})
	return Report{Findings: w.findings, Dirs: stats.Dirs.Load(), Files: stats.Files.Load()}, nil
}

// task is a directory to list, or files of one to compare.
type task struct {
	dir   string
	pairs []pair
}

// pair is a master file and the slave's name it is compared with: the
// same name, or a temp name of it.
type pair struct {
	path string
	m, s Entry
	// temp is the slave's temp path when s is a temp name of path.
	temp string
}

// walk is one comparison under way: a queue of tasks its workers share.
type walk struct {
	ctx           context.Context
	master, slave Tree
	stats         *Stats

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []task
	busy     int // tasks popped and not done
	err      error
	findings []Finding
}

func (w *walk) push(t task) {
	w.mu.Lock()
	w.queue = append(w.queue, t)
	w.mu.Unlock()
	w.cond.Signal()
}

// work runs tasks until the queue is empty and no task under way can add
// one, or an error stops the walk.
func (w *walk) work() {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.busy > 0 && w.err == nil {
			w.cond.Wait()
		}
		if len(w.queue) == 0 || w.err != nil {
			w.mu.Unlock()
			w.cond.Broadcast()
			return
		}
		t := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.busy++
		w.mu.Unlock()

		err := w.ctx.Err()
		if err == nil {
			if t.pairs != nil {
				err = w.comparePairs(t.pairs)
			} else {
				err = w.compareDir(t.dir)
			}
		}
		w.mu.Lock()
		w.busy--
		if err != nil && w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		w.cond.Broadcast()
	}
}

func (w *walk) add(f ...Finding) {
	w.mu.Lock()
	w.findings = append(w.findings, f...)
	w.mu.Unlock()
}

// compareDir lists dir on both sides, reports the names one side lacks,
// queues the subdirectories both have, and the files both have (and the
// master's files the slave holds only under a temp name) for reading.
func (w *walk) compareDir(dir string) error {
	var ms, ss []Entry
	var merr, serr error
	var wg sync.WaitGroup
	wg.Go(func() { ms, merr = w.master.ReadDir(dir) })
	ss, serr = w.slave.ReadDir(dir)
	wg.Wait()
	if (merr != nil || serr != nil) && dir == "/" {
		return fmt.Errorf("list the root: %s", sideErrors(merr, serr))
	}
	if merr != nil || serr != nil {
		// The directory is listed as a name of its parent on both sides:
		// what cannot be listed is this directory's finding, and the walk
		// goes on elsewhere.
		w.add(Finding{Kind: Unreadable, Path: dir, Type: afr.TypeDirectory, Detail: sideErrors(merr, serr)})
		return nil
	}
	w.stats.Dirs.Add(1)
	byName := func(a, b Entry) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(ms, byName)
	slices.SortFunc(ss, byName)
	onSlave := make(map[string]Entry, len(ss))
	for _, e := range ss {
		onSlave[e.Name] = e
	}
	onMaster := make(map[string]bool, len(ms))
	for _, m := range ms {
		onMaster[m.Name] = true
	}
	// The slave's temp names, by the final name they stand for; a temp
	// name the master has too is compared as any name is.
	temps := map[string][]Entry{}
	for _, e := range ss {
		if final, _, ok := rsynctemp.Split(e.Name); ok && e.Type == afr.TypeRegular && !onMaster[e.Name] {
			temps[final] = append(temps[final], e)
		}
	}
	claimed := map[string]bool{} // slave temp names compared as a master file
	var pairs []pair
	var found []Finding
	flush := func() {
		if len(pairs) > 0 {
			w.push(task{dir: dir, pairs: pairs})
			pairs = nil
		}
	}
	for _, m := range ms {
		p := brick.Join(dir, m.Name)
		s, ok := onSlave[m.Name]
		switch {
		case m.Err != nil || ok && s.Err != nil:
			found = append(found, Finding{Kind: Unreadable, Path: p, Type: m.Type, Detail: sideErrors(m.Err, s.Err)})
		case !ok:
			cands := temps[m.Name]
			if m.Type != afr.TypeRegular || len(cands) == 0 {
				found = append(found, Finding{Kind: OnlyOnMaster, Path: p, Type: m.Type})
				continue
			}
			// Compared with each temp name of it: the first that holds
			// the master's content is the one to rename.
			for _, c := range cands {
				claimed[c.Name] = true
			}
			pairs = append(pairs, pair{path: p, m: m, s: cands[0], temp: brick.Join(dir, cands[0].Name)})
			for _, c := range cands[1:] {
				pairs = append(pairs, pair{path: p, m: m, s: c, temp: brick.Join(dir, c.Name)})
			}
		case m.Type != s.Type:
			found = append(found, Finding{Kind: Differs, Path: p, Type: m.Type, Detail: fmt.Sprintf("a %s on the master, a %s on the slave", m.Type, s.Type)})
		case m.Type == afr.TypeDirectory:
			w.push(task{dir: p})
		case m.Type == afr.TypeSymlink:
			w.stats.Files.Add(1)
			if m.Target != s.Target {
				found = append(found, Finding{Kind: Differs, Path: p, Type: m.Type, Detail: fmt.Sprintf("target %q on the master, %q on the slave", m.Target, s.Target)})
			}
		case m.Type != afr.TypeRegular:
			w.stats.Files.Add(1) // a FIFO, socket or device: its type is all it has
		default:
			pairs = append(pairs, pair{path: p, m: m, s: s})
		}
		if len(pairs) >= chunk {
			flush()
		}
	}
	flush()
	for _, s := range ss {
		if !onMaster[s.Name] && !claimed[s.Name] {
			found = append(found, Finding{Kind: OnlyOnSlave, Path: brick.Join(dir, s.Name), Type: s.Type})
		}
	}
	w.add(found...)
	return nil
}

// comparePairs reads the files of pairs whose sizes agree and reports
// those whose content differs; for temp names, whether one holds the
// master's content.
func (w *walk) comparePairs(pairs []pair) error {
	var found []Finding
	// Temp names of one master file are compared together: one match
	// is the rename, the others are the slave's own.
	matched := map[string]bool{}
	for _, pr := range pairs {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		same, detail, err := w.same(pr)
		if err != nil {
			found = append(found, Finding{Kind: Unreadable, Path: pr.path, Type: afr.TypeRegular, Detail: err.Error()})
			continue
		}
		switch {
		case pr.temp == "":
			w.stats.Files.Add(1)
			if !same {
				found = append(found, Finding{Kind: Differs, Path: pr.path, Type: afr.TypeRegular, Detail: detail})
			}
		case same && !matched[pr.path]:
			matched[pr.path] = true
			w.stats.Files.Add(1)
			found = append(found, Finding{Kind: TempName, Path: pr.path, Type: afr.TypeRegular, Temp: pr.temp})
		default:
			found = append(found, Finding{Kind: OnlyOnSlave, Path: pr.temp, Type: afr.TypeRegular,
				Detail: fmt.Sprintf("an rsync temp name of %s, whose content it does not hold (%s)", pr.path, detail)})
		}
	}
	// A master file none of whose temp names matched is missing.
	seen := map[string]bool{}
	for _, pr := range pairs {
		if pr.temp != "" && !matched[pr.path] && !seen[pr.path] {
			seen[pr.path] = true
			w.stats.Files.Add(1)
			found = append(found, Finding{Kind: OnlyOnMaster, Path: pr.path, Type: afr.TypeRegular})
		}
	}
	w.add(found...)
	return nil
}

// same compares the content of a pair: by size, then by hash.
func (w *walk) same(pr pair) (bool, string, error) {
	if pr.m.Size != pr.s.Size {
		return false, fmt.Sprintf("%d bytes on the master, %d on the slave", pr.m.Size, pr.s.Size), nil
	}
	other := pr.path
	if pr.temp != "" {
		other = pr.temp
	}
	if same, detail, ok, err := w.sameSmall(pr, other); ok || err != nil {
		return same, detail, err
	}
	var mh, sh string
	var merr, serr error
	var wg sync.WaitGroup
	wg.Go(func() { mh, merr = w.master.Hash(pr.path) })
	sh, serr = w.slave.Hash(other)
	wg.Wait()
	if merr != nil || serr != nil {
		return false, "", errors.New(sideErrors(merr, serr))
	}
	w.stats.Bytes.Add(2 * pr.m.Size)
	if mh != sh {
		return false, fmt.Sprintf("content (blake3) %s on the master, %s on the slave", brick.ShortHash(mh), brick.ShortHash(sh)), nil
	}
	return true, "", nil
}

// sameSmall compares a pair of small files byte for byte, when both
// trees read them so (SmallReader); ok is false when they do not.
func (w *walk) sameSmall(pr pair, other string) (same bool, detail string, ok bool, err error) {
	mr, mok := w.master.(SmallReader)
	sr, sok := w.slave.(SmallReader)
	if !mok || !sok || pr.m.Size > brick.SmallFile {
		return false, "", false, nil
	}
	// One after the other: a small file is read in a few system calls,
	// less than handing one side to another goroutine costs.
	md, mgot, merr := mr.ReadSmall(pr.path)
	sd, sgot, serr := sr.ReadSmall(other)
	if merr != nil || serr != nil {
		return false, "", false, errors.New(sideErrors(merr, serr))
	}
	if !mgot || !sgot {
		return false, "", false, nil // grown since it was listed: hashed
	}
	w.stats.Bytes.Add(int64(len(md) + len(sd)))
	if bytes.Equal(md, sd) {
		return true, "", true, nil
	}
	if len(md) != len(sd) {
		return false, fmt.Sprintf("%d bytes on the master, %d on the slave", len(md), len(sd)), true, nil
	}
	return false, fmt.Sprintf("content (blake3) %s on the master, %s on the slave", brick.ShortHash(brick.HashBytes(md)), brick.ShortHash(brick.HashBytes(sd))), true, nil
}

// sideErrors says which side failed, and how.
func sideErrors(master, slave error) string {
	switch {
	case master != nil && slave != nil:
		return fmt.Sprintf("master: %v; slave: %v", master, slave)
	case master != nil:
		return fmt.Sprintf("master: %v", master)
	}
	return fmt.Sprintf("slave: %v", slave)
}
