package heal

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// SplitBrainOp is a split-brain command: bigger-file, latest-mtime,
// source-brick or majority.
type SplitBrainOp struct {
	Op afr.HealOp
	// Brick is the source brick's position in its replica set
	// (source-brick only), or -1.
	Brick int
	// name limits a directory's entry heal to this name: the file a
	// command named by path, whose gfid split-brain it resolves.
	name string
	// only limits a directory's entry heal to this name, healed as any
	// heal heals it, with no split-brain op: HealEntry's named lookup.
	only string
	// Kinds are the split-brains of a file the op resolves: data or
	// metadata alone (an afrkit extension), or with none both, as
	// GlusterFS's commands do. The other is left for a choice of its own.
	Kinds []afr.Kind
	// every is set for source-brick or majority without a file: the op
	// also resolves the gfid split-brains of the names in the
	// directories it merges, which GlusterFS leaves for one command per
	// file.
	every bool
	// filled are the gfids whose names a resolution under every made
	// anew on the losers' bricks: a plain heal fills them in.
	filled []afr.GFID
	// covered are the gfids, winners' and losers', of the names it
	// resolved under every.
	covered []afr.GFID

	acted bool
	// winner is the gfid a resolution of name's gfid split-brain keeps.
	winner afr.GFID
	err    error
	notes  []string
}

// spares reports whether op leaves the split-brain of kind alone.
func (op *SplitBrainOp) spares(kind afr.Kind) bool {
	return op != nil && len(op.Kinds) > 0 && !slices.Contains(op.Kinds, kind)
}

// oneName is the one name a directory's entry heal is limited to, or "".
func (op *SplitBrainOp) oneName() string {
	switch {
	case op == nil:
		return ""
	case op.name != "":
		return op.name
	}
	return op.only
}

// how names the resolution in history and messages.
func (h *entryHeal) how(kv afr.KindVerdict) string {
	if h.op != nil {
		return h.op.Op.String()
	}
	if kv.Resolution == afr.ResolvedPolicy {
		return "favorite-child-policy " + h.e.AFR.FavoriteChild.String()
	}
	return string(kv.Resolution)
}

func others(n, src int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if i != src {
			out = append(out, i)
		}
	}
	return out
}

func indexes(b []bool) []int {
	var out []int
	for i, v := range b {
		if v {
			out = append(out, i)
		}
	}
	return out
}

// resolve turns a split-brain of kind with a chosen source into a plain
// heal: it keeps every sink's copy on its brick, records the decision, then
// clears the sinks' blame of the source and their dirty counter
// (_afr_fav_child_reset_sink_xattrs) and makes that durable. From then on
// only the source blames, so a crash at any later point heals the same way.
func (h *entryHeal) resolve(kv afr.KindVerdict) (bool, error) {
	src := kv.Source
	sinks := indexes(kv.Sinks)
	rec := h.newRecord(kv.Kind.String(), h.how(kv), src, sinks)
	var kept []string
	for _, i := range sinks {
		kept = append(kept, filepath.Join(h.rs.Open[i].KeptDir(), rec.ID))
	}
	a := Action{What: "resolve", Source: h.label(src), Sinks: h.sinkLabels(kv.Sinks),
		Detail: fmt.Sprintf("%s split-brain, %s: keep %s's copy; the others' are kept in %s", kv.Kind, rec.How, h.label(src), strings.Join(kept, ", "))}
	if kv.Kind == afr.Data {
		// Each sink's copy is kept on its brick before anything changes:
		// one that does not fit refuses the resolution, the dry run too,
		// before a byte is written.
		for _, i := range sinks {
			if err := h.rs.Open[i].RoomToCopy(h.abs[i]); err != nil {
				return false, fmt.Errorf("%s: keep %s: %w", h.label(i), h.path, err)
			}
		}
	}
	if h.e.opts.DryRun {
		return true, h.act(a, nil)
	}
	if h.e.opts.History == nil {
		return false, errors.New("heal: no history log to record a resolution in")
	}
	err := h.act(a, func() error {
		if err := h.keepAll(&rec, src, sinks, kv.Kind); err != nil {
			return err
		}
		if err := h.e.opts.History.Append(rec); err != nil {
			return errors.Join(err, h.dropKept(rec))
		}
		for _, i := range sinks {
			b := h.rs.Open[i]
			if kv.Kind == afr.Data {
				// Clearing the sink's blame would let a mark from before
				// the split-brain resume over what only the sink holds.
				h.e.step("forget resume " + h.label(i) + " " + h.path)
				if err := forgetResume(b, h.abs[i], h.path); err != nil {
					return err
				}
			}
			h.e.step("reset " + h.label(i) + " " + h.path)
			if _, err := b.ClearChangelog(h.abs[i], h.path, h.rs.Keys[src], kv.Kind); err != nil {
				return err
			}
			if _, err := b.ClearChangelog(h.abs[i], h.path, brick.KeyDirty, kv.Kind); err != nil {
				return err
			}
			if err := b.Syncfs(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	h.e.resolved(rec)
	if !h.blamesSinks(kv) {
		if err := h.markSinks(kv); err != nil {
			return false, err
		}
	}
	return true, nil
}

// keepAll keeps every sink's copy and the source's counters in rec, before
// the record is written. Should one keep fail, the copies already made are
// removed again: a kept copy no record mentions is never left behind.
func (h *entryHeal) keepAll(rec *Record, src int, sinks []int, kind afr.Kind) error {
	for _, i := range sinks {
		k, err := h.keepCopy(i, *rec, kind)
		if err != nil {
			return errors.Join(err, h.dropKept(*rec))
		}
		rec.Kept = append(rec.Kept, k)
	}
	// The winner's counters too, so that undo can bring the split-brain
	// back exactly.
	k, err := h.keepCopy(src, *rec, afr.Metadata)
	if err != nil {
		return errors.Join(err, h.dropKept(*rec))
	}
	k.Source = true
	rec.Kept = append(rec.Kept, k)
	if kind == afr.Data {
		sum, err := h.rs.Open[src].HashFile(h.abs[src])
		if err != nil {
			return errors.Join(err, h.dropKept(*rec))
		}
		rec.SourceBlake3 = sum
	}
	return nil
}

// dropKept removes the copies rec kept (copies only: nothing was moved
// yet) and the record's directory on each brick, as a resolution that
// failed before its record was written leaves them.
func (h *entryHeal) dropKept(rec Record) error {
	var errs []error
	for _, k := range rec.Kept {
		rs, i, err := h.e.brickOf(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b := rs.Open[i]
		for _, p := range []string{k.Path, k.Meta} {
			if p == "" {
				continue
			}
			if err := b.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("%s: remove the kept %s: %w", k.Brick, p, err))
			}
		}
	}
	for _, b := range h.rs.Open {
		if b == nil {
			continue
		}
		// Only an empty directory goes: rmdir fails on anything else.
		if err := b.Remove(filepath.Join(b.KeptDir(), rec.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			errs = append(errs, fmt.Errorf("remove %s: %w", filepath.Join(b.KeptDir(), rec.ID), err))
		}
	}
	return errors.Join(errs...)
}

// typeMismatchError is why a split-brain command left a name whose copies
// differ in type: GlusterFS fails the lookup with EIO
// (afr_selfheal_detect_gfid_and_type_mismatch) and has no command for it.
type typeMismatchError string

func (e typeMismatchError) Error() string { return string(e) }

// gfidSplitBrain handles a name whose copies carry different gfids or
// types. A favorite-child policy or a command naming this file picks the
// winner (afr_gfid_split_brain_source); the losers are moved out of the
// volume into their bricks' kept directories and the name is recreated
// from the winner. Without a winner the name is left, and with it the
// directory's entry counters, as GlusterFS leaves them.
func (h *entryHeal) gfidSplitBrain(name string, copies []afr.Reply, abs []string) (bool, error) {
	p := brick.Join(h.path, name)
	for i, c := range copies {
		for j := i + 1; j < len(copies); j++ {
			if c.Exists && copies[j].Exists && c.Type != copies[j].Type {
				if h.op != nil && h.op.every && !c.GFID.IsZero() && !copies[j].GFID.IsZero() && c.GFID != copies[j].GFID {
					// Two files under one name, as in a gfid
					// split-brain: the op keeps one and moves the
					// others to the kept directories.
					continue
				}
				h.blockers = append(h.blockers, Blocker{Path: p, TypeMismatch: true})
				h.leave(true, "%s: type mismatch (%s on %s, %s on %s); no policy resolves it: move one aside by hand, or keep one brick's copy of every such name with afrkit heal %s split-brain source-brick BRICK (without a file)", p, c.Type, h.label(i), copies[j].Type, h.label(j), h.e.Vol.Name)
				if h.op != nil && h.op.name == name {
					h.op.err = typeMismatchError(fmt.Sprintf("Type mismatch for file %s: %s on %s, %s on %s. No split-brain command resolves it: move the wrong copy aside by hand, with its .glusterfs handle", p, c.Type, h.label(i), copies[j].Type, h.label(j)))
				}
				return false, nil
			}
		}
	}
	op, brickIdx, policy := afr.OpNone, -1, h.e.AFR.FavoriteChild
	named := h.op != nil && (h.op.name == name || h.op.every)
	if named {
		op, brickIdx = h.op.Op, h.op.Brick
		if op == afr.OpMajority {
			op, policy = afr.OpNone, afr.PolicyMajority
		}
	} else if policy == afr.PolicyNone {
		h.blockers = append(h.blockers, Blocker{Path: p})
		h.leave(true, "%s: gfid split-brain (%s); resolve it with a split-brain command or a favorite-child-policy", p, gfidList(copies, h.rs.Labels))
		return false, nil
	}
	// Only copies with a gfid take part, as in GlusterFS's
	// afr_gfid_split_brain_source: a copy made on its brick with none is
	// given the winner's later (and kept first if it differs).
	withGFID := slices.Clone(copies)
	for i := range withGFID {
		if withGFID[i].GFID.IsZero() {
			withGFID[i].Exists = false
		}
	}
	w, err := afr.ResolveGFIDSplitBrain(withGFID, op, brickIdx, policy)
	if err != nil {
		msg := err.Error()
		var re *afr.ResolveError
		if errors.As(err, &re) {
			msg = re.Message()
		}
		if h.op != nil && h.op.name == name {
			h.op.err = err
		}
		h.blockers = append(h.blockers, Blocker{Path: p})
		h.leave(true, "%s: gfid split-brain: %s", p, msg)
		return false, nil
	}
	var losers []int
	for i, c := range copies {
		if c.Exists && !c.GFID.IsZero() && c.GFID != copies[w].GFID {
			losers = append(losers, i)
		}
	}
	how := "favorite-child-policy " + policy.String()
	if op != afr.OpNone || named {
		how = h.op.Op.String()
	}
	rec := h.newRecord("gfid", how, w, losers)
	rec.Path, rec.GFID = p, copies[w].GFID.String()
	a := Action{What: "resolve", Path: p, Source: h.label(w), Sinks: labelsOf(losers, h.rs.Labels),
		Detail: fmt.Sprintf("gfid split-brain, %s: keep %s's gfid %s; the others' copies are moved to their kept directories (%s)", how, h.label(w), copies[w].GFID, rec.ID)}
	if named {
		h.op.acted = true
		h.op.winner = copies[w].GFID
		if h.op.every {
			h.op.filled = append(h.op.filled, copies[w].GFID)
			h.op.covered = append(h.op.covered, copies[w].GFID)
			for _, i := range losers {
				h.op.covered = append(h.op.covered, copies[i].GFID)
			}
		}
		if h.e.opts.DryRun {
			h.op.notes = append(h.op.notes, "GFID split-brain would be resolved for file "+p)
		} else {
			h.op.notes = append(h.op.notes, "GFID split-brain resolved for file "+p)
		}
	}
	if h.e.opts.DryRun {
		// The plan goes on to the losers' new copies: the run makes them
		// at once.
		if err := h.act(a, nil); err != nil {
			return false, err
		}
		for _, i := range losers {
			copies[i] = afr.Reply{Name: copies[i].Name, Answered: true}
			if err := h.createName(i, w, p, abs, copies[w]); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if h.e.opts.History == nil {
		return false, errors.New("heal: no history log to record a resolution in")
	}
	err = h.act(a, func() error {
		// Pre-op: the winner's directory blames the losers' for entries,
		// so a crash after a loser is moved still recreates the name.
		wb := h.rs.Open[w]
		for _, i := range losers {
			if _, err := wb.AddChangelog(h.abs[w], h.path, h.rs.Keys[i], afr.Changelog{0, 0, 1}); err != nil {
				return err
			}
		}
		if err := h.rs.addIndex(w, index.Xattrop, h.gfid); err != nil {
			return err
		}
		if err := wb.Syncfs(); err != nil {
			return err
		}
		for _, i := range losers {
			k, err := h.keepMoved(i, rec, p, abs[i], copies[i].GFID)
			rec.Kept = append(rec.Kept, k)
			if err != nil {
				return err
			}
		}
		return h.e.opts.History.Append(rec)
	})
	if err != nil {
		return false, err
	}
	h.e.resolved(rec)
	for _, i := range losers {
		copies[i] = afr.Reply{Name: copies[i].Name, Answered: true}
		if err := h.createName(i, w, p, abs, copies[w]); err != nil {
			return false, err
		}
	}
	return true, nil
}

func gfidList(copies []afr.Reply, labels []string) string {
	var parts []string
	for i, c := range copies {
		if c.Exists {
			parts = append(parts, fmt.Sprintf("%s has %s", labels[i], c.GFID))
		}
	}
	return strings.Join(parts, ", ")
}

func labelsOf(idx []int, labels []string) []string {
	var out []string
	for _, i := range idx {
		out = append(out, labels[i])
	}
	return out
}

// applyOp turns the verdict's split-brains into resolutions by the
// command's rule, as glfsheal's heal-op does.
func (h *entryHeal) applyOp(v *afr.Verdict) error {
	op := h.op
	for _, kv := range []*afr.KindVerdict{&v.Data, &v.Metadata} {
		if op.Op == afr.OpSourceBrick && kv.Applies && !kv.SplitBrain && !op.spares(kv.Kind) && !h.anyBlamed(kv.Kind) {
			if err := h.sourceUnexplained(kv, op.Brick); err != nil {
				return err
			}
			continue
		}
		if !kv.Applies || !kv.SplitBrain || op.spares(kv.Kind) {
			continue
		}
		var src int
		var err error
		if op.Op == afr.OpMajority {
			versions, verr := h.versions(kv.Kind)
			if verr != nil {
				return verr
			}
			src, err = afr.ResolveByMajority(h.replies, kv.Kind, versions, h.e.AFR.QuorumCount)
		} else {
			src, err = afr.ResolveSplitBrain(h.replies, kv.Kind, op.Op, op.Brick, h.e.AFR.QuorumCount)
		}
		if errors.Is(err, afr.ErrNotInSplitBrain) {
			continue
		}
		if err != nil {
			op.err = err
			kv.NeedsHeal, kv.Source = true, -1
			continue
		}
		op.acted = true
		kv.NeedsHeal, kv.Source, kv.Unresolved = true, src, false
		kv.Resolution = afr.Resolution(op.Op.String())
		kv.Sinks = make([]bool, len(h.replies))
		for _, i := range others(len(h.replies), src) {
			kv.Sinks[i] = true
		}
	}
	if v.Type == afr.TypeDirectory && v.Entry.SplitBrain {
		switch op.Op {
		case afr.OpBiggerFile:
			op.err = errors.New("'bigger-file' not a valid option for directories")
		case afr.OpSourceBrick:
			op.acted = true
			op.notes = append(op.notes, fmt.Sprintf("'source-brick' option used on a directory (%s). Performing conservative merge.", h.path))
			v.Entry.NeedsHeal, v.Entry.Merge = true, true
		}
	}
	return nil
}

// anyBlamed reports whether any counter blames any copy for kind.
func (h *entryHeal) anyBlamed(kind afr.Kind) bool {
	for i := range h.replies {
		if h.blamed(i, kind) {
			return true
		}
	}
	return false
}

// sourceUnexplained makes brick src the source of kind where the other
// copies differ from it with no counter to say which is right (fsck's
// silent difference): an afrkit extension of source-brick, where
// GlusterFS says "File not in split-brain" and heals nothing. The heal
// then keeps the versions it replaces, as any heal over an unexplained
// difference does (keepUnexplained), and records them in the history.
func (h *entryHeal) sourceUnexplained(kv *afr.KindVerdict, src int) error {
	if src < 0 || src >= len(h.replies) || !h.replies[src].Exists {
		return nil
	}
	if kv.Kind == afr.Data && src == h.rs.Arbiter {
		h.op.err = &afr.ResolveError{Kind: afr.Data, Op: afr.OpSourceBrick, Err: afr.ErrArbiterHoldsNoData}
		return nil
	}
	sinks := make([]bool, len(h.replies))
	any := false
	for i, r := range h.replies {
		if i == src || !r.Exists {
			continue
		}
		differs, err := h.differs(kv.Kind, src, i)
		if err != nil {
			return err
		}
		sinks[i], any = differs, any || differs
	}
	if !any {
		return nil
	}
	h.op.acted = true
	kv.NeedsHeal, kv.Source, kv.Sinks = true, src, sinks
	kv.Resolution = afr.Resolution(afr.OpSourceBrick.String())
	return nil
}

// versions names what each brick holds of kind, for the majority rule:
// the content hash for data, owner, mode and xattrs for metadata.
func (h *entryHeal) versions(kind afr.Kind) ([]string, error) {
	out := make([]string, len(h.replies))
	for i, r := range h.replies {
		if kind == afr.Data && i == h.rs.Arbiter {
			out[i] = "arbiter: no data" // it votes for no version's data
			continue
		}
		if kind == afr.Data {
			sum, err := h.rs.Open[i].HashFile(h.abs[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", h.label(i), err)
			}
			out[i] = sum
			continue
		}
		keys := make([]string, 0, len(r.Xattrs))
		for k, v := range r.Xattrs {
			keys = append(keys, fmt.Sprintf("%s=%x", k, v))
		}
		sort.Strings(keys)
		out[i] = fmt.Sprintf("%d:%d:%o:%s", r.UID, r.GID, r.Mode, strings.Join(keys, ","))
	}
	return out, nil
}
