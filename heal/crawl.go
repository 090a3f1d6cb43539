package heal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// candidates lists, once each, the gfids the set's indexes name: xattrop
// and dirty of every brick, and the directories with granular
// entry-changes. Directories come apart from the rest, to be healed first,
// in levels by depth (see byDepth). listed records the xattrop and dirty
// entries found (nil when rs has too many bricks to record them).
func (e *Engine) candidates(rs *ReplicaSet) (levels [][]afr.GFID, files []afr.GFID, listed *listing, err error) {
	var all []afr.GFID
	// found is both the set of gfids seen and, for the listing, the index
	// entries each was found in: one map for what can be millions.
	found := map[afr.GFID]uint64{}
	add := func(g afr.GFID, bit uint64) {
		if g.IsZero() {
			return
		}
		bits, seen := found[g]
		found[g] = bits | bit
		if !seen {
			all = append(all, g)
		}
	}
	for i, ix := range rs.Indexes {
		if ix == nil {
			continue
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			err := ix.Walk(sub, func(en index.Entry) error {
				add(en.GFID, listingBit(i, sub))
				return nil
			})
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", rs.Labels[i], err)
			}
		}
		err := ix.WalkEntryChanges(func(pg afr.GFID, _ string, _ error) error {
			add(pg, 0)
			return nil
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", rs.Labels[i], err)
		}
	}
	var dirs []afr.GFID
	for i, dir := range e.areDirs(rs, all) {
		if dir {
			dirs = append(dirs, all[i])
		} else {
			files = append(files, all[i])
		}
	}
	return byDepth(rs, dirs), files, newListing(rs, found), nil
}

// classifyJobs is how many handles areDirs stats at once. Before a heal
// the bricks' inodes are mostly not cached, so each stat waits for the
// disk; one at a time, telling 5,000 entries apart took a tenth of the
// heal. The stats only read, so more of them than CPUs keep the disk busy.
const classifyJobs = 16

// areDirs tells which gfids are directories (see isDir), in parallel.
func (e *Engine) areDirs(rs *ReplicaSet, gfids []afr.GFID) []bool {
	dirs := make([]bool, len(gfids))
	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(classifyJobs, (len(gfids)+chunk-1)/chunk); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(gfids) {
					return
				}
				for j := lo; j < min(lo+chunk, len(gfids)); j++ {
					dirs[j] = e.isDir(rs, gfids[j])
				}
			}
		}()
	}
	wg.Wait()
	return dirs
}

func (e *Engine) isDir(rs *ReplicaSet, g afr.GFID) bool {
	for _, b := range rs.Open {
		if b == nil {
			continue
		}
		if ok, dir, err := b.HasGFID(g); err == nil && ok {
			return dir
		}
	}
	return false
}

// byDepth groups directories by the depth of their path, shallowest
// first; those whose path cannot be resolved come last, together. Parents
// before children is what lets one pass heal a new tree: a directory's
// entry heal creates its subdirectories on the sinks, and a subdirectory
// healed before that is only found missing and left to the next pass. So
// the levels are healed one after the other, each in parallel; a single
// sorted list healed by parallel workers would reach the children of one
// worker's parents on the other worker first.
func byDepth(rs *ReplicaSet, dirs []afr.GFID) [][]afr.GFID {
	const unknown = 1 << 20
	depth := make(map[afr.GFID]int, len(dirs))
	for _, g := range dirs {
		p := rs.PathOf(g)
		d := unknown
		if p != "" {
			d = 0
			if p != "/" {
				d = strings.Count(p, "/")
			}
		}
		depth[g] = d
	}
	sort.SliceStable(dirs, func(i, j int) bool { return depth[dirs[i]] < depth[dirs[j]] })
	var levels [][]afr.GFID
	for i := 0; i < len(dirs); {
		j := i + 1
		for j < len(dirs) && depth[dirs[j]] == depth[dirs[i]] {
			j++
		}
		levels = append(levels, dirs[i:j])
		i = j
	}
	return levels
}

// crawl is a full heal of one set: every directory from the root down has
// its names compared on every brick, and every entry is checked.
func (e *Engine) crawl(ctx context.Context, rs *ReplicaSet) (int, []Left, error) {
	e.total.Add(1)
	e.plan(rs, -1, planVisited, brick.RootGFID)
	c, l, err := e.healAll(ctx, rs, []afr.GFID{brick.RootGFID}, true)
	if err != nil {
		return c, l, err
	}
	// Then what the indexes list and the crawl did not reach (a gfid
	// with no name left, or none on any brick, a name the crawl left in
	// gfid split-brain): in the same pass, which a dry run plans, rather
	// than in the index pass after it, which no dry run sees. What the
	// crawl healed is no longer listed; a dry run skips what it planned.
	lc, ll, err := e.healListed(ctx, rs, func(g afr.GFID, l *listing) bool {
		return e.planned(rs, -1, planVisited, g) || e.goneAfterPlan(rs, g, l)
	})
	return c + lc, append(l, ll...), err
}

// healChildren continues a full crawl below the directories just healed.
func (e *Engine) healChildren(ctx context.Context, rs *ReplicaSet, kids []child) (int, []Left, error) {
	var dirs, files []afr.GFID
	seen := map[afr.GFID]bool{}
	for _, k := range kids {
		if seen[k.gfid] || e.planned(rs, -1, planVisited, k.gfid) {
			continue
		}
		seen[k.gfid] = true
		// A file with several names is met once per name; the run finds
		// nothing to do the second time, so its dry run plans nothing.
		e.plan(rs, -1, planVisited, k.gfid)
		if k.dir {
			dirs = append(dirs, k.gfid)
		} else {
			files = append(files, k.gfid)
		}
	}
	e.total.Add(int64(len(dirs) + len(files)))
	changed, left, err := e.healAll(ctx, rs, files, false)
	if err != nil {
		return changed, left, err
	}
	c, l, err := e.healAll(ctx, rs, dirs, true)
	return changed + c, append(left, l...), err
}

// Target names the file of a split-brain command: a volume path or a gfid.
type Target struct {
	Path string
	GFID afr.GFID
}

func (t Target) String() string {
	if t.Path != "" {
		return t.Path
	}
	return "gfid:" + t.GFID.String()
}

// Outcome is what a split-brain command did to one file, in glfsheal's
// words.
type Outcome struct {
	File string
	// Lines are printed as they are: "GFID split-brain resolved for file
	// F", "Healed F.", "Healing F failed: File not in split-brain.".
	Lines  []string
	Healed bool
	// covered are the gfids of the names whose gfid split-brains it
	// resolved, winners and losers: a command over every entry of an
	// index has nothing more to do for them.
	covered []afr.GFID
}

// SplitBrain runs a split-brain command on one file. Its outcome says what
// happened in GlusterFS's words; err is for failures of afrkit itself.
func (e *Engine) SplitBrain(ctx context.Context, t Target, op SplitBrainOp) (Outcome, error) {
	if !e.opts.DryRun {
		// Plan first: a command whose plan fails (a directory merged, then
		// a name in it that no policy resolves) is refused before it
		// changes anything, with the plan's words.
		opts := e.opts
		opts.DryRun, opts.Step, opts.Events = true, nil, nil
		dry, err := NewEngine(e.Vol, opts)
		if err != nil {
			return Outcome{File: t.String()}, err
		}
		plan, err := dry.SplitBrain(ctx, t, op)
		if err != nil || !plan.Healed {
			// Nothing was done: what is left is what the plan left.
			e.result = &Result{Healed: map[string]int{}, Left: dry.result.Left}
			return plan, err
		}
	}
	e.result = &Result{Healed: map[string]int{}}
	e.start = e.opts.Now()
	out := Outcome{File: t.String()}
	if err := e.checkBricks(); err != nil {
		return out, err
	}
	fail := func(msg string) (Outcome, error) {
		out.Lines = append(out.Lines, fmt.Sprintf("Healing %s failed: %s.", out.File, msg))
		return out, nil
	}
	rs, g, err := e.locate(t)
	if err != nil {
		return fail(err.Error())
	}
	if op.Op == afr.OpSourceBrick && (op.Brick < 0 || op.Brick >= len(rs.Bricks)) {
		return fail(afr.ErrInvalidBrickName.Error()[5:])
	}
	if t.Path != "" && t.Path != "/" {
		// A named lookup first: it resolves a gfid split-brain of the name.
		parent, name := brick.SplitPath(t.Path)
		pg := e.gfidOfPath(rs, parent)
		if !pg.IsZero() {
			pop := op
			pop.name = name
			if _, _, _, err := e.healBatch(ctx, rs, []afr.GFID{pg}, true, &pop); err != nil {
				return out, err
			}
			out.Lines = append(out.Lines, pop.notes...)
			if pop.err != nil {
				out.Lines = append(out.Lines, fmt.Sprintf("Lookup failed on %s:Input/output error.", t.Path))
				var tm typeMismatchError
				if errors.As(pop.err, &tm) {
					out.Lines = append(out.Lines, tm.Error()+".")
				} else {
					out.Lines = append(out.Lines, resolveMessage(pop.err)+" for file "+t.Path)
				}
				return out, nil
			}
			if pop.acted {
				// The name now has the winner's gfid everywhere (a dry
				// run plans so); the losers' new copies fill by a plain
				// heal.
				g = pop.winner
				if !g.IsZero() {
					if _, _, _, err := e.healBatch(ctx, rs, []afr.GFID{g}, false, nil); err != nil {
						return out, err
					}
				}
				out.Healed = true
				return out, nil
			}
		}
	}
	if g.IsZero() {
		if t.Path != "" && e.anyHas(rs, t.Path) {
			// Made on a brick with no gfid: nothing AFR could be in
			// split-brain about.
			return fail(afr.ErrNotInSplitBrain.Error()[5:])
		}
		return fail("No such file or directory")
	}
	fop := op
	_, left, _, err := e.healBatch(ctx, rs, []afr.GFID{g}, false, &fop)
	if err != nil {
		return out, err
	}
	if len(fop.filled) > 0 {
		// The names it made anew on the losers' bricks: a plain heal
		// fills them in now, as after a command naming the file.
		if _, _, _, err := e.healBatch(ctx, rs, fop.filled, false, nil); err != nil {
			return out, err
		}
	}
	out.Lines = append(out.Lines, fop.notes...)
	out.covered = fop.covered
	switch {
	case fop.err != nil:
		return fail(resolveMessage(fop.err))
	case !fop.acted:
		return fail(afr.ErrNotInSplitBrain.Error()[5:])
	case len(left) > 0:
		return fail(left[0].Reason)
	}
	out.Healed = true
	if e.opts.DryRun {
		out.Lines = append(out.Lines, fmt.Sprintf("Would heal %s.", out.File))
	} else {
		out.Lines = append(out.Lines, fmt.Sprintf("Healed %s.", out.File))
	}
	return out, nil
}

// SplitBrainAll is source-brick (or majority) without a file: every entry
// of the brick's index (xattrop and dirty), as gfid:UUID.
func (e *Engine) SplitBrainAll(ctx context.Context, set int, op SplitBrainOp, each func(Outcome)) (int, error) {
	rs := e.Sets[set]
	var gfids []afr.GFID
	for i := range rs.Bricks {
		if op.Op == afr.OpSourceBrick && i != op.Brick {
			continue
		}
		seen := map[afr.GFID]bool{}
		err := rs.Pending(i, func(_ index.Subdir, en index.Entry) error {
			if en.Err == nil && !seen[en.GFID] {
				seen[en.GFID] = true
				gfids = append(gfids, en.GFID)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	healed := 0
	op.every = true
	covered := map[afr.GFID]bool{}
	for _, g := range gfids {
		if ctx.Err() != nil {
			return healed, ctx.Err()
		}
		if covered[g] {
			continue // resolved and healed with its name in a directory before
		}
		out, err := e.SplitBrain(ctx, Target{GFID: g}, op)
		if err != nil {
			return healed, err
		}
		for _, c := range out.covered {
			covered[c] = true
		}
		if out.Healed {
			healed++
		}
		each(out)
	}
	return healed, nil
}

// anyHas reports whether some brick of rs has a name at p.
func (e *Engine) anyHas(rs *ReplicaSet, p string) bool {
	for _, b := range rs.Open {
		if b == nil {
			continue
		}
		if abs, err := b.Abs(p); err == nil {
			if ok, err := b.Exists(abs); err == nil && ok {
				return true
			}
		}
	}
	return false
}

func resolveMessage(err error) string {
	var re *afr.ResolveError
	if errors.As(err, &re) {
		return re.Message()
	}
	return err.Error()
}

// locate finds the replica set that holds t, and its gfid (zero for a
// path whose copies disagree on it).
func (e *Engine) locate(t Target) (*ReplicaSet, afr.GFID, error) {
	for _, rs := range e.Sets {
		if t.Path == "" {
			for _, b := range rs.Open {
				if b == nil {
					continue
				}
				if ok, _, err := b.HasGFID(t.GFID); err == nil && ok {
					return rs, t.GFID, nil
				}
			}
			continue
		}
		parent, _ := brick.SplitPath(t.Path)
		if t.Path != "/" && e.gfidOfPath(rs, parent).IsZero() {
			continue
		}
		replies, _ := rs.GatherPath(t.Path)
		for _, r := range replies {
			if r.Answered && r.Exists {
				return rs, e.gfidOfPath(rs, t.Path), nil
			}
		}
	}
	return nil, afr.GFID{}, errors.New("No such file or directory")
}

// gfidOfPath is the gfid the set's bricks agree p has, or zero.
func (e *Engine) gfidOfPath(rs *ReplicaSet, p string) afr.GFID {
	var g afr.GFID
	for _, b := range rs.Open {
		if b == nil {
			continue
		}
		got, err := b.GFIDOf(p)
		if err != nil {
			continue
		}
		if !g.IsZero() && g != got {
			return afr.GFID{}
		}
		g = got
	}
	return g
}
