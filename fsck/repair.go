package fsck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/lock"
)

// RepairOptions choose what Repair does.
type RepairOptions struct {
	// Repair applies the fixes of every class with one right answer;
	// RenameStale those of stale rsync temp files.
	Repair, RenameStale bool
	// RenamePaths are stale temp files (volume paths) to rename or
	// quarantine by name, candidates included.
	RenamePaths []string
	// ClashKeeps chooses, for those of RenamePaths whose final name holds
	// other content, the version that keeps the final name.
	ClashKeeps ClashKeep
	// Mounted says the volume is mounted: only fixes that take the
	// mount's AFR locks run (a named entry's: stale temp renames, its
	// handle, its gfid2path; the heal index's), each under them, taken by
	// Lock; the others (orphan handles, gfids, the brick root) are refused
	// and change nothing, in a dry run too.
	Mounted bool
	// Lock takes keys on every brick, waiting for the fops that hold
	// them, and returns the function that lets them go. Called from the
	// repair's goroutine, one fix at a time.
	Lock func(ctx context.Context, keys []lock.Key) (release func(), err error)
	// DryRun lists the repairs and changes nothing.
	DryRun bool
	// ID names this repair's quarantine directory on each brick; when
	// empty, Repair stamps one with the time (Now, or time.Now).
	ID  string
	Now func() time.Time
	// Step, when set, is called before every change (tests kill the
	// process there to prove that a repair can be run again).
	Step func(string)
}

// Repaired is one finding that Repair fixed or, in a dry run, would fix.
type Repaired struct {
	Finding Finding `json:"finding"`
	Err     string  `json:"error,omitempty"`
}

// Wanted reports whether f is repaired under opts.
func (o RepairOptions) Wanted(f Finding) bool {
	return o.fixOf(f) != nil
}

// fixOf is the fix opts asks for f, or nil.
func (o RepairOptions) fixOf(f Finding) func(q *quarantine) error {
	named := f.Class == ClassStaleTemp && slices.Contains(o.RenamePaths, f.Path)
	switch {
	case f.clash != nil && named && o.ClashKeeps != ClashUnchosen:
		keep := o.ClashKeeps
		return func(q *quarantine) error { return f.clash(q, keep) }
	case f.fix == nil:
		return nil
	case f.Class != ClassStaleTemp && o.Repair, named, f.Class == ClassStaleTemp && o.RenameStale && !f.Candidate:
		return f.fix
	}
	return nil
}

// Repair applies the fix of every finding of rep that opts asks for, in
// report order (the brick root first, the content last). Each fix looks at
// the brick again before it changes anything, so a fix that is no longer
// needed does nothing, and a repair that was killed can simply be run
// again. Whatever a fix takes out of the namespace or the handle tree is
// moved to the brick's quarantine (.glusterfs/afrkit/quarantine/<time>/),
// with a manifest line saying where it came from. A failed fix is
// recorded and the others go on.
//
// When ctx is done it stops between two fixes (each leaves the brick
// whole) and returns what it did so far.
func Repair(ctx context.Context, rep *Report, opts RepairOptions) []Repaired {
	q := &quarantine{id: opts.quarantineID(), step: opts.Step}
	var out []Repaired
	for _, f := range rep.Findings {
		if ctx.Err() != nil {
			return out
		}
		fix := opts.fixOf(f)
		if fix == nil {
			continue
		}
		r := Repaired{Finding: f}
		if f.clash != nil {
			r.Finding.Repair = opts.ClashKeeps.repair(f)
		}
		if opts.Mounted && f.locks == nil {
			r.Err = ErrMountedRepair.Error()
			out = append(out, r)
			continue
		}
		if opts.Mounted && f.inUse != nil && f.inUse(opts.now()) {
			r.Err = ErrRecentTemp.Error()
			out = append(out, r)
			continue
		}
		if !opts.DryRun {
			if err := opts.locked(ctx, f, fix, q); err != nil {
				r.Err = err.Error()
			}
		}
		out = append(out, r)
	}
	return out
}

// ErrMountedRepair is a fix refused while the volume is mounted: it
// changes what no lock of the mount's fops covers (a handle with no name,
// a gfid, the brick root), so only an unmounted volume may be repaired so.
var ErrMountedRepair = errors.New("refused while the volume is mounted: unmount it (afrkit umount) for this repair")

// ErrRecentTemp is a stale temp file a repair beside a mount leaves: it
// was written within the last hour, and a transfer through the mount may
// still be writing it.
var ErrRecentTemp = errors.New("refused while the volume is mounted: written within the hour, a transfer may still be writing it")

// Refused reports whether r was refused for the volume being mounted
// (ErrMountedRepair, ErrRecentTemp): nothing was tried, and unmounted it
// would be.
func Refused(r Repaired) bool {
	return r.Err == ErrMountedRepair.Error() || r.Err == ErrRecentTemp.Error()
}

// now is the time Now says, or the clock's.
func (o RepairOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// locked runs fix, under its AFR locks when the volume is mounted.
func (o RepairOptions) locked(ctx context.Context, f Finding, fix func(q *quarantine) error, q *quarantine) error {
	if !o.Mounted {
		return fix(q)
	}
	if o.Lock == nil {
		return ErrMountedRepair
	}
	release, err := o.Lock(ctx, f.locks)
	if err != nil {
		return fmt.Errorf("taking the mount's locks: %w", err)
	}
	defer release()
	if f.inUse != nil && f.inUse(o.now()) {
		return ErrRecentTemp // written since the plan
	}
	return fix(q)
}

// quarantineID is opts.ID, or a new one from the time.
func (o RepairOptions) quarantineID() string {
	if o.ID != "" {
		return o.ID
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return now().UTC().Format("20060102-150405.000000")
}

// quarantine is where a repair moves what it takes away, per brick.
type quarantine struct {
	id   string
	step func(string)
}

func (q *quarantine) before(what string) {
	if q.step != nil {
		q.step(what)
	}
}

// ManifestLine records one move or rename of a repair, written durably
// before the change, so that a person (or a later restore) can put it
// back. Paths are relative to the brick root.
type ManifestLine struct {
	Time  string `json:"time"`
	Class Class  `json:"class"`
	From  string `json:"from"`
	To    string `json:"to"`
	GFID  string `json:"gfid,omitempty"`
	// Rename: From was renamed to To in the namespace (a stale temp file
	// to its final name), rather than moved to the keep directory.
	Rename bool `json:"rename,omitempty"`
}

// manifestName is the manifest's name in a repair's keep directory.
const manifestName = "manifest.jsonl"

// record appends l to brick b's manifest for this repair, durably.
func (q *quarantine) record(b *brick.Brick, l ManifestLine) error {
	l.Time = time.Now().UTC().Format(time.RFC3339Nano)
	line, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if err := b.MkdirAll(q.dir(b), 0o700); err != nil {
		return err
	}
	return b.AppendDurable(filepath.Join(q.dir(b), manifestName), append(line, '\n'))
}

// Dir is a brick's quarantine directory for this repair.
func (q *quarantine) dir(b *brick.Brick) string { return QuarantineDir(b, q.id) }

// move renames abs (on brick b) into the quarantine, keeping its path
// relative to the brick root, after recording the move in the manifest.
// A path that is already gone is not an error.
func (q *quarantine) move(b *brick.Brick, abs string, f Finding) error {
	if exists, err := b.Exists(abs); err != nil || !exists {
		return err
	}
	rel := strings.TrimPrefix(b.RelToRoot(abs), "/")
	dst := filepath.Join(q.dir(b), rel)
	if err := b.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("quarantine %s: %w", rel, err)
	}
	// A second move of the same path in one repair (a handle one finding
	// recreated and another then took away) gets a name of its own: what
	// is quarantined is never replaced.
	for n := 1; ; n++ {
		exists, err := b.Exists(dst)
		if err != nil {
			return fmt.Errorf("quarantine %s: %w", rel, err)
		}
		if !exists {
			break
		}
		dst = filepath.Join(q.dir(b), rel) + "." + strconv.Itoa(n)
	}
	if err := q.record(b, ManifestLine{Class: f.Class, From: rel, To: b.RelToRoot(dst), GFID: f.GFID}); err != nil {
		return fmt.Errorf("quarantine %s: manifest: %w", rel, err)
	}
	q.before("quarantine " + rel)
	if err := b.Rename(abs, dst, true); err != nil {
		return fmt.Errorf("quarantine %s: %w", rel, err)
	}
	return nil
}

// maxPasses bounds Converge: a repair can reveal work for the next pass (a
// directory's new gfid lets its children's handles be made), but never
// more than a few levels of it.
const maxPasses = 4

// Converge runs check, repairs what opts asks for, and checks again, pass
// after pass until a check leaves nothing that opts would repair, a pass
// repairs nothing, or maxPasses. It returns the first report, every
// repair made, and the last report. A dry run stops after the first plan.
// When ctx is done it stops between two fixes and returns ctx's error
// with what it repaired; running it again finishes the work.
func Converge(ctx context.Context, check func() (*Report, error), opts RepairOptions) (first *Report, done []Repaired, last *Report, err error) {
	opts.ID = opts.quarantineID() // one quarantine for every pass
	// What a mounted volume's repair refuses is said once, not once a
	// pass.
	refused := map[string]bool{}
	for pass := 0; pass < maxPasses; pass++ {
		rep, err := check()
		if err != nil {
			return first, done, last, err
		}
		if first == nil {
			first = rep
		}
		last = rep
		todo := slices.DeleteFunc(Repair(ctx, rep, opts), func(r Repaired) bool {
			if !Refused(r) {
				return false
			}
			k := string(r.Finding.Class) + "\x00" + r.Finding.Brick + "\x00" + r.Finding.Path
			seen := refused[k]
			refused[k] = true
			return seen
		})
		done = append(done, todo...)
		if ctx.Err() != nil {
			return first, done, last, fmt.Errorf("fsck repair stopped: %w", ctx.Err())
		}
		if len(todo) == 0 || opts.DryRun {
			return first, done, last, nil
		}
		failed := 0
		for _, r := range todo {
			if r.Err != "" {
				failed++
			}
		}
		if failed == len(todo) {
			break // nothing moved: another pass would fail the same way
		}
	}
	last, err = check()
	return first, done, last, err
}

// QuarantineDir is where a repair with id keeps what it took from brick b,
// with the manifest of its moves and renames: in the brick's one keep
// directory, beside what heal keeps, each run in a directory named by its
// id (fsck's ids are a time, heal's a time and a random suffix: they
// never collide).
func QuarantineDir(b *brick.Brick, id string) string {
	return filepath.Join(b.KeptDir(), id)
}

// Manifest reads the manifest of repair id on brick b: nil when the
// repair moved or renamed nothing there.
func Manifest(b *brick.Brick, id string) ([]ManifestLine, error) {
	mf := filepath.Join(QuarantineDir(b, id), manifestName)
	data, err := b.ReadFile(mf)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ManifestLine
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var m ManifestLine
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", mf, i+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Restore puts back what the repair id moved to its keep directory on the
// bricks at roots (in namespace ns), and undoes its renames, newest change
// first, never over a name that exists again. A name put back in the
// namespace gets its handle back when it has none (a repair that moved a
// stale temp file took its handle with it). It returns what it did and
// what it left, one line each; with dryRun, what it would do, changing
// nothing.
func Restore(roots []string, ns, id string, dryRun bool) ([]string, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("fsck: restore: %q is not a repair id", id)
	}
	var lines []string
	found, left := false, 0
	for _, root := range roots {
		b, err := brick.Open(root, ns)
		if err != nil {
			return lines, err
		}
		recs, err := Manifest(b, id)
		if err != nil {
			return lines, err
		}
		if recs == nil {
			continue
		}
		found = true
		keep := QuarantineDir(b, id)
		for i := len(recs) - 1; i >= 0; i-- {
			m := recs[i]
			from, ferr := inBrick(b, m.From)
			to, terr := inBrick(b, m.To)
			bad := ferr != nil || terr != nil || strings.HasPrefix(from, b.GlusterPath(brick.AfrkitDir))
			if m.Rename {
				bad = bad || strings.HasPrefix(to, b.GlusterPath()+"/") || strings.HasPrefix(from, b.GlusterPath()+"/")
			} else {
				bad = bad || !strings.HasPrefix(to, keep+"/")
			}
			if bad {
				return lines, fmt.Errorf("%s: line %d of repair %s's manifest: not a move out of the brick into its keep directory, nor a rename in its namespace: %s -> %s", root, i+1, id, m.From, m.To)
			}
			what := "restore " + m.From
			if m.Rename {
				what = fmt.Sprintf("rename %s back to %s", m.To, m.From)
			}
			if ok, why := restorable(b, m, from, to); !ok {
				if why != "" {
					lines = append(lines, fmt.Sprintf("%s: would not %s: %s", root, what, why))
					left++
				}
				continue
			}
			if dryRun {
				lines = append(lines, fmt.Sprintf("%s: would %s (%s)", root, what, m.Class))
				continue
			}
			if err := putBack(b, m, from, to); err != nil {
				lines = append(lines, fmt.Sprintf("%s: could not %s: %v", root, what, err))
				left++
				continue
			}
			lines = append(lines, fmt.Sprintf("%s: %s (%s)", root, pastTense(what), m.Class))
		}
	}
	if !found {
		return nil, fmt.Errorf("fsck: restore: no brick has a repair %s", id)
	}
	if left > 0 {
		return lines, fmt.Errorf("fsck: restore %s: %d change(s) could not be undone and stay as they are", id, left)
	}
	return lines, nil
}

func pastTense(what string) string {
	if rest, ok := strings.CutPrefix(what, "restore "); ok {
		return "restored " + rest
	}
	return "renamed" + strings.TrimPrefix(what, "rename")
}

// restorable says whether the change m (from, to as absolute paths) can
// be undone now. A change that is undone already, or that the repair was
// killed before, is skipped silently (why is empty); one whose name was
// taken since, or whose renamed file is another file now, is left with a
// reason.
func restorable(b *brick.Brick, m ManifestLine, from, to string) (bool, string) {
	if exists, err := b.Exists(to); err != nil || !exists {
		return false, "" // killed before this change, or put back already
	}
	if taken, err := b.Exists(from); err != nil || taken {
		return false, m.From + " exists again"
	}
	if m.Rename && m.GFID != "" {
		if g, err := b.GFIDAt(to); err != nil || g.String() != m.GFID {
			return false, m.To + " holds another file now"
		}
	}
	return true, ""
}

// putBack undoes m: renames to back to from, through the brick (a parent
// replaced by a symlink since the repair is refused, never followed), then
// mends what the name needs in the namespace: gfid2path for a rename
// undone, the handle for a name put back.
func putBack(b *brick.Brick, m ManifestLine, from, to string) error {
	if err := b.Rename(to, from, true); err != nil {
		return err
	}
	if strings.HasPrefix(from, b.GlusterPath()+"/") {
		return nil // a handle or an index file: it is its own record
	}
	parent, name := filepath.Split(from)
	pg, perr := b.GFIDAt(filepath.Clean(parent))
	if m.Rename && perr == nil {
		_, oldName := filepath.Split(to)
		if err := b.AddGfid2path(from, pg, name); err != nil {
			return err
		}
		if err := b.RemoveGfid2path(from, pg, oldName); err != nil {
			return err
		}
	}
	g, err := b.GFIDAt(from)
	if err != nil {
		return nil // no gfid: nothing in .glusterfs names it
	}
	if exists, err := b.Exists(b.HandlePath(g)); err != nil || exists {
		return err
	}
	var st syscall.Stat_t
	if err := b.Lstat(from, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		if perr != nil {
			return perr
		}
		return b.SymlinkDirHandle(g, pg, name)
	}
	return b.LinkFileHandle(from, g)
}

// inBrick is the absolute path of rel (relative to the brick root, .glusterfs
// included), refusing paths that climb out of the brick.
func inBrick(b *brick.Brick, rel string) (string, error) {
	clean, err := brick.CleanPath(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.Root, clean), nil
}
