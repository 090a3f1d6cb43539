package heal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// entryHeal heals one entry (a gfid) of one replica set: data, metadata
// and, for a directory, its names, in GlusterFS's order. Changes are made
// at once; clearing the counters is left to commits, which run after the
// batch is durable.
type entryHeal struct {
	// ctx ends a data copy between two blocks.
	ctx  context.Context
	e    *Engine
	rs   *ReplicaSet
	gfid afr.GFID
	// force compares a directory's names even when no counter asks for it
	// (a full crawl).
	force bool
	// op is a split-brain command; nil for a plain heal.
	op *SplitBrainOp

	path    string
	replies []afr.Reply
	abs     []string
	// atPath[i] is set when brick i's copy of the directory is at path
	// (it is found by gfid, and may be elsewhere after a rename).
	atPath []bool
	// metadata is the verdict on metadata, which data heal looks at.
	metadata afr.KindVerdict
	commits  []func() error
	changed  bool
	// healedKinds are the kinds healed (healed), for the Healed event.
	healedKinds []string
	// acts counts the actions taken (or, in a dry run, planned) so far.
	acts int
	// keep are the kinds whose counters must stay: left for a person.
	keep    [3]bool
	reasons []string
	sb      bool
	// blockers are the names in split-brain that the reasons name.
	blockers []Blocker
	kids     []child
}

func (h *entryHeal) label(i int) string { return h.rs.Labels[i] }

// leave records why the entry is not (fully) healed.
func (h *entryHeal) leave(splitBrain bool, format string, args ...any) {
	h.reasons = append(h.reasons, fmt.Sprintf(format, args...))
	h.sb = h.sb || splitBrain
}

// maxReasons bounds the reasons one entry's report gives: a directory
// whose thousands of names all fail the same way once printed them all on
// one line of half a megabyte.
const maxReasons = 5

// joinReasons joins the first maxReasons reasons and counts the rest.
func joinReasons(reasons []string) string {
	if len(reasons) <= maxReasons {
		return strings.Join(reasons, "; ")
	}
	return fmt.Sprintf("%s; and %d more like these", strings.Join(reasons[:maxReasons], "; "), len(reasons)-maxReasons)
}

func (h *entryHeal) outcome() outcome {
	out := outcome{changed: h.changed, children: h.kids}
	if len(h.reasons) > 0 {
		out.left = &Left{Set: h.rs.Index, GFID: h.gfid, Path: h.path, SplitBrain: h.sb, Reason: joinReasons(h.reasons), Blockers: h.blockers}
	}
	return out
}

// act records an action, and unless this is a dry run announces it and
// runs do.
func (h *entryHeal) act(a Action, do func() error) error {
	a.Set, a.GFID = h.rs.Index, h.gfid
	if a.Path == "" {
		a.Path = h.path
	}
	h.changed = true
	h.acts++
	if h.e.opts.DryRun {
		h.e.record(a)
		return nil
	}
	h.e.step(a.What + " " + a.Path)
	if err := do(); err != nil {
		return err
	}
	h.e.record(a)
	return nil
}

func (h *entryHeal) run() (outcome, error) {
	rs := h.rs
	h.path = rs.PathOf(h.gfid)
	if h.path == "" {
		h.path = "<gfid:" + h.gfid.String() + ">"
	}
	replies, abs, errs := rs.gatherAbs(h.gfid)
	for i := range replies {
		// A dry run reads a copy its plan moves out of the volume as gone.
		if h.e.planned(rs, i, planGone, h.gfid) {
			replies[i].Exists = false
		}
	}
	h.replies = replies
	for i, r := range replies {
		if !r.Answered {
			h.leave(false, "%s cannot be read: %v", h.label(i), errs[i])
		}
	}
	if len(h.reasons) > 0 {
		return h.outcome(), nil
	}
	h.abs = abs
	present := 0
	for i, r := range replies {
		if !r.Exists {
			continue
		}
		present++
		if h.abs[i] == "" {
			a, err := rs.Open[i].AbsOfGFID(h.gfid)
			if err != nil {
				h.leave(false, "%s: %v", h.label(i), err)
				return h.outcome(), nil
			}
			h.abs[i] = a
		}
	}
	if present == 0 {
		// No brick has the gfid: the index entry is stale. GlusterFS's
		// crawl purges it (ENOENT); so does afrkit.
		return h.outcome(), h.dropIndex("no brick has this gfid")
	}
	v := afr.Decide(replies, h.e.AFR)
	if present < len(replies) {
		if other := h.heldAsAnother(v); other != "" {
			h.leave(false, "%s; the entry heal of its parent directory reports that gfid split-brain", other)
			return h.outcome(), nil
		}
		h.leave(false, "missing on %s; the entry heal of its parent directory creates it", h.absentOn(v))
		return h.outcome(), nil
	}
	if h.op != nil && h.op.oneName() == "" {
		if err := h.applyOp(&v); err != nil {
			return h.outcome(), err
		}
		if !h.op.acted {
			// A command on an entry that is not in split-brain changes
			// nothing, as glfsheal's heal-op does.
			return h.outcome(), nil
		}
	}
	h.metadata = v.Metadata
	// The named lookup of a split-brain command on one file looks up that
	// name in its directory, and heals nothing else of the directory: a
	// command that then fails with "File not in split-brain" once left
	// the directory's mode changed.
	lookupOnly := h.op.oneName() != ""
	for _, kv := range []afr.KindVerdict{v.Data, v.Metadata} {
		if lookupOnly {
			h.keep[kv.Kind] = true
			continue
		}
		if err := h.healKind(kv); err != nil {
			return h.outcome(), err
		}
	}
	if v.Type == afr.TypeDirectory && (v.Entry.NeedsHeal || h.force) {
		if err := h.healNames(v.Entry); err != nil {
			return h.outcome(), err
		}
	} else if v.Entry.SplitBrain {
		h.keep[afr.Entry] = true
	}
	h.commits = append(h.commits, h.clearCounters)
	return h.outcome(), nil
}

func (h *entryHeal) absentOn(v afr.Verdict) string {
	var names []string
	for i, m := range v.Missing {
		if m {
			names = append(names, h.label(i))
		}
	}
	return strings.Join(names, ", ")
}

// heldAsAnother says which bricks that lack this gfid hold its name as
// another file (a gfid split-brain: the parent's entry heal creates
// nothing there), or "" when none does.
func (h *entryHeal) heldAsAnother(v afr.Verdict) string {
	if h.path == "" || h.path == "/" {
		return ""
	}
	var parts []string
	for i, m := range v.Missing {
		if !m || h.rs.Open[i] == nil {
			continue
		}
		if g, err := h.rs.Open[i].GFIDOf(h.path); err == nil && !g.IsZero() && g != h.gfid {
			parts = append(parts, fmt.Sprintf("%s holds the name as another file (gfid %s)", h.label(i), g))
		}
	}
	return strings.Join(parts, ", ")
}

// healKind heals data or metadata from the verdict's source, resolving a
// split-brain first when the verdict found a way (a favorite-child policy
// or a split-brain command).
func (h *entryHeal) healKind(kv afr.KindVerdict) error {
	if !kv.NeedsHeal {
		return nil
	}
	if kv.SplitBrain && h.op.spares(kv.Kind) {
		// A command for the other kind: this one waits for its own,
		// whatever a favorite-child policy would choose.
		h.keep[kv.Kind] = true
		h.op.notes = append(h.op.notes, fmt.Sprintf("The %s split-brain of %s is left for a choice of its own.", kv.Kind, h.path))
		return nil
	}
	if kv.Source < 0 {
		h.keep[kv.Kind] = true
		if kv.SplitBrain {
			h.leave(true, "%s split-brain: %s", kv.Kind, kv.Reason)
		} else {
			h.leave(false, "%s not healed: %s", kv.Kind, kv.Reason)
		}
		return nil
	}
	if kv.SplitBrain && kv.Resolution != afr.ResolvedEmptyFile {
		ok, err := h.resolve(kv)
		if err != nil || !ok {
			h.keep[kv.Kind] = true
			return err
		}
		// A resolution made is carried through: a signal now stops the
		// heal after this entry, not with its winner half copied (the
		// same command run again would find no split-brain left to
		// finish).
		h.ctx = context.WithoutCancel(h.ctx)
	} else if !h.blamesSinks(kv) {
		// Nothing blames the sinks (the copies differ with no counter
		// set): keep what would be lost, then make the source blame them,
		// as GlusterFS's __afr_selfheal_*_mark_pending_xattrs does, so a
		// crash midway still heals in this direction.
		if err := h.keepUnexplained(kv); err != nil {
			h.keep[kv.Kind] = true
			h.leave(false, "%s not healed: %v", kv.Kind, err)
			return nil
		}
		if err := h.markSinks(kv); err != nil {
			return err
		}
	}
	var err error
	switch kv.Kind {
	case afr.Data:
		err = h.healData(kv)
	case afr.Metadata:
		err = h.healMetadata(kv)
	}
	if err != nil && h.ctx.Err() != nil && errors.Is(err, h.ctx.Err()) {
		// Stopped, not failed: the heal ends here, and the counters
		// that blame the sink stay for the next one.
		return err
	}
	if err != nil {
		h.keep[kv.Kind] = true
		h.leave(false, "%s heal failed: %v", kv.Kind, err)
		return nil
	}
	h.healed(kv.Kind.String())
	return nil
}

// blamesSinks reports whether the source's counters blame every sink for
// the kind.
func (h *entryHeal) blamesSinks(kv afr.KindVerdict) bool {
	src := h.replies[kv.Source]
	for i, sink := range kv.Sinks {
		if sink && src.Pending[i][kv.Kind] == 0 {
			return false
		}
	}
	return true
}

// markSinks makes the source blame each sink for the kind and makes that
// durable before any sink is touched.
func (h *entryHeal) markSinks(kv afr.KindVerdict) error {
	src := kv.Source
	var delta afr.Changelog
	delta[kv.Kind] = 1
	return h.act(Action{What: "mark", Source: h.label(src), Sinks: h.sinkLabels(kv.Sinks),
		Detail: fmt.Sprintf("%s makes its %s counters blame the sinks before healing them", h.label(src), kv.Kind)}, func() error {
		b := h.rs.Open[src]
		for i, sink := range kv.Sinks {
			if !sink || h.replies[src].Pending[i][kv.Kind] != 0 {
				continue
			}
			if _, err := b.AddChangelog(h.abs[src], h.path, h.rs.Keys[i], delta); err != nil {
				return err
			}
		}
		if err := h.rs.addIndex(src, index.Xattrop, h.gfid); err != nil {
			return err
		}
		return b.Syncfs()
	})
}

func (h *entryHeal) sinkLabels(sinks []bool) []string {
	var out []string
	for i, s := range sinks {
		if s {
			out = append(out, h.label(i))
		}
	}
	return out
}

// clearCounters is afr_selfheal_undo_pending for every kind that was
// healed or needed nothing: it zeroes those counters on the sinks first and
// the sources last (so a crash between leaves the direction intact), then
// drops the index entries of bricks left with no counter set.
func (h *entryHeal) clearCounters() error {
	var kinds []afr.Kind
	for _, k := range afr.Kinds {
		if !h.keep[k] {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	order := make([]int, 0, len(h.replies))
	for pass := 0; pass < 2; pass++ {
		for i, r := range h.replies {
			accuses := false
			for _, c := range r.Pending {
				accuses = accuses || !c.IsZero()
			}
			if (pass == 0) != accuses {
				order = append(order, i)
			}
		}
	}
	for _, i := range order {
		if h.abs[i] == "" {
			continue
		}
		if err := h.clearBrick(i, kinds); err != nil {
			return err
		}
	}
	return nil
}

func (h *entryHeal) clearBrick(i int, kinds []afr.Kind) error {
	b := h.rs.Open[i]
	// The counters are read afresh: this heal may have set some (a source
	// made to blame its sinks) since they were gathered. An absent key is
	// zero and stays so, and is not read at all.
	has := b.KeysPresent(h.abs[i])
	pendingLeft := false
	for _, key := range h.rs.Keys {
		if !has(key) {
			continue
		}
		h.e.step("clear " + key + " " + h.path)
		left, err := b.ClearChangelog(h.abs[i], h.path, key, kinds...)
		if err != nil {
			return err
		}
		pendingLeft = pendingLeft || !left.IsZero()
	}
	dirtyLeft := false
	if has(brick.KeyDirty) {
		h.e.step("clear dirty " + h.path)
		dirty, err := b.ClearChangelog(h.abs[i], h.path, brick.KeyDirty, kinds...)
		if err != nil {
			return err
		}
		dirtyLeft = !dirty.IsZero()
	}
	ix, l := h.rs.Indexes[i], h.rs.listed()
	if !pendingLeft && l.mayHave(i, index.Xattrop, h.gfid) {
		if err := ix.Remove(index.Xattrop, h.gfid); err != nil {
			return err
		}
	}
	if !dirtyLeft && l.mayHave(i, index.Dirty, h.gfid) {
		if err := ix.Remove(index.Dirty, h.gfid); err != nil {
			return err
		}
	}
	return nil
}

// dropIndex removes the gfid from every brick's index. An entry already
// dropped (by the heal that removed its file, earlier in this run) is no
// action.
func (h *entryHeal) dropIndex(why string) error {
	listed := false
	for _, ix := range h.rs.Indexes {
		if ix == nil {
			continue
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			has, err := ix.Has(sub, h.gfid)
			if err != nil {
				return err
			}
			listed = listed || has
		}
		has, err := ix.HasEntryChanges(h.gfid)
		if err != nil {
			return err
		}
		listed = listed || has
	}
	if !listed {
		return nil
	}
	return h.act(Action{What: "drop-index", Detail: why}, func() error {
		for _, ix := range h.rs.Indexes {
			if ix == nil {
				continue
			}
			for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
				if err := ix.Remove(sub, h.gfid); err != nil {
					return err
				}
			}
			if err := ix.RemoveEntryChanges(h.gfid); err != nil {
				return err
			}
		}
		return nil
	})
}

var errNoPath = errors.New("the directory's path cannot be resolved on any brick")
