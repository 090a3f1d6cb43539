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
	"time"

	"github.com/afrkit/afrkit/brick"
)

// RepairOptions choose what Repair does.
type RepairOptions struct {
	// Repair applies the fixes of every class with one right answer;
	// RenameStale those of stale rsync temp files.
	Repair, RenameStale bool
	// RenamePaths are stale temp files (volume paths) to rename or
	// quarantine by name, candidates included.
	RenamePaths []string
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
	if f.fix == nil {
		return false
	}
	if f.Class == ClassStaleTemp {
		if slices.Contains(o.RenamePaths, f.Path) {
			return true
		}
		return o.RenameStale && !f.Candidate
	}
	return o.Repair
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
		if !opts.Wanted(f) {
			continue
		}
		r := Repaired{Finding: f}
		if !opts.DryRun {
			if err := f.fix(q); err != nil {
				r.Err = err.Error()
			}
		}
		out = append(out, r)
	}
	return out
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

// manifestLine records one move, so that a person (or a later restore)
// can put it back.
type manifestLine struct {
	Time  string `json:"time"`
	Class Class  `json:"class"`
	From  string `json:"from"`
	To    string `json:"to"`
	GFID  string `json:"gfid,omitempty"`
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
	line, err := json.Marshal(manifestLine{Time: time.Now().UTC().Format(time.RFC3339Nano), Class: f.Class, From: rel, To: b.RelToRoot(dst), GFID: f.GFID})
	if err != nil {
		return err
	}
	if err := b.AppendDurable(filepath.Join(q.dir(b), "manifest.jsonl"), append(line, '\n')); err != nil {
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
	for pass := 0; pass < maxPasses; pass++ {
		rep, err := check()
		if err != nil {
			return first, done, last, err
		}
		if first == nil {
			first = rep
		}
		last = rep
		todo := Repair(ctx, rep, opts)
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

// QuarantineDir is where a repair with id keeps what it took from brick b.
func QuarantineDir(b *brick.Brick, id string) string {
	return b.GlusterPath(brick.AfrkitDir, "quarantine", id)
}

// Restore puts back what the repair id moved to quarantine on the bricks
// at roots (in namespace ns), newest move first, never over a name that
// exists again. It returns what it did and what it left, one line each;
// with dryRun, what it would do, changing nothing.
func Restore(roots []string, ns, id string, dryRun bool) ([]string, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("fsck: restore: %q is not a quarantine id", id)
	}
	var lines []string
	found, left := false, 0
	for _, root := range roots {
		b, err := brick.Open(root, ns)
		if err != nil {
			return lines, err
		}
		mf := filepath.Join(QuarantineDir(b, id), "manifest.jsonl")
		data, err := b.ReadFile(mf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return lines, err
		}
		found = true
		recs := strings.Split(strings.TrimSpace(string(data)), "\n")
		for i := len(recs) - 1; i >= 0; i-- {
			var m manifestLine
			if err := json.Unmarshal([]byte(recs[i]), &m); err != nil {
				return lines, fmt.Errorf("%s: line %d: %w", mf, i+1, err)
			}
			from, ferr := inBrick(b, m.From)
			to, terr := inBrick(b, m.To)
			if ferr != nil || terr != nil || !strings.HasPrefix(to, QuarantineDir(b, id)+"/") || strings.HasPrefix(from, b.GlusterPath(brick.AfrkitDir)) {
				return lines, fmt.Errorf("%s: line %d: not a move out of the brick into its quarantine: %s -> %s", mf, i+1, m.From, m.To)
			}
			if exists, err := b.Exists(to); err != nil || !exists {
				continue // the repair was killed before this move, or it is back already
			}
			if dryRun {
				if taken, err := b.Exists(from); err != nil || taken {
					lines = append(lines, fmt.Sprintf("%s: would leave %s in quarantine: %s exists again", root, m.To, m.From))
					left++
					continue
				}
				lines = append(lines, fmt.Sprintf("%s: would restore %s (%s)", root, m.From, m.Class))
				continue
			}
			// Through the brick: a parent replaced by a symlink since the
			// repair is refused, never followed out of the brick.
			if err := b.Rename(to, from, true); err != nil {
				lines = append(lines, fmt.Sprintf("%s: left %s in quarantine: %s: %v", root, m.To, m.From, err))
				left++
				continue
			}
			lines = append(lines, fmt.Sprintf("%s: restored %s (%s)", root, m.From, m.Class))
		}
	}
	if !found {
		return nil, fmt.Errorf("fsck: restore: no brick has a quarantine %s", id)
	}
	if left > 0 {
		return lines, fmt.Errorf("fsck: restore %s: %d entries could not be put back and stay in quarantine", id, left)
	}
	return lines, nil
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
