package heal

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/afrkit/afrkit/afr"
)

// HowUnexplained is the history's word for a heal over a difference no
// changelog explains.
const HowUnexplained = "unexplained difference"

// keepUnexplained keeps, before kv's heal overwrites them, the sinks'
// copies that differ from the source although no counter blames them: a
// copy edited on its brick behind the volume's back, or different files
// made under one name on several bricks. The heal follows GlusterFS's
// choice of source (so a GlusterFS started later agrees), but the version
// it replaces is kept and recorded in the history, as a split-brain's
// loser is, and undo can bring it back.
func (h *entryHeal) keepUnexplained(kv afr.KindVerdict) error {
	src := kv.Source
	var sinks []int
	for i, sink := range kv.Sinks {
		if !sink || h.blamed(i, kv.Kind) {
			continue
		}
		differs, err := h.differs(kv.Kind, src, i)
		if err != nil {
			return err
		}
		if differs {
			sinks = append(sinks, i)
		}
	}
	if len(sinks) == 0 {
		return nil
	}
	rec := h.newRecord(kv.Kind.String(), HowUnexplained, src, sinks)
	var kept []string
	for _, i := range sinks {
		kept = append(kept, filepath.Join(h.rs.Open[i].KeptDir(), rec.ID))
		if kv.Kind == afr.Data {
			// Room first, the dry run too: a keep that does not fit
			// leaves the entry unhealed rather than the copy lost.
			if err := h.rs.Open[i].RoomToCopy(h.abs[i]); err != nil {
				return fmt.Errorf("%s: keep %s: %w", h.label(i), h.path, err)
			}
		}
	}
	a := Action{What: "keep", Source: h.label(src), Sinks: labelsOf(sinks, h.rs.Labels),
		Detail: fmt.Sprintf("%s differs from %s's with no changelog to say which is right; heal takes %s's, and keeps the other in %s", kv.Kind, h.label(src), h.label(src), strings.Join(kept, ", "))}
	return h.recordKeep(a, rec, func(rec *Record) error { return h.keepAll(rec, src, sinks, kv.Kind) })
}

// recordKeep takes action a: unless this is a dry run, keep fills rec's
// kept copies, then rec is appended to the history. A record that cannot
// be written takes its copies back: nothing is kept that no record names.
func (h *entryHeal) recordKeep(a Action, rec Record, keep func(*Record) error) error {
	if h.e.opts.DryRun {
		return h.act(a, nil)
	}
	if h.e.opts.History == nil {
		return errors.New("heal: no history log to record an unexplained difference in")
	}
	err := h.act(a, func() error {
		if err := keep(&rec); err != nil {
			return err
		}
		if err := h.e.opts.History.Append(rec); err != nil {
			return errors.Join(err, h.dropKept(rec))
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.e.resolved(rec)
	return nil
}

// differs reports whether sink i's copy differs from the source's in kind.
func (h *entryHeal) differs(kind afr.Kind, src, i int) (bool, error) {
	s, d := h.replies[src], h.replies[i]
	if kind == afr.Data && i == h.rs.Arbiter {
		return false, nil // the arbiter's data is never written, so none is lost
	}
	if kind == afr.Metadata {
		return s.Mode != d.Mode || s.UID != d.UID || s.GID != d.GID || metadataDiff(s, d) != "times", nil
	}
	if s.Size != d.Size {
		return true, nil
	}
	a, err := h.rs.Open[src].HashFile(h.abs[src])
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.label(src), err)
	}
	b, err := h.rs.Open[i].HashFile(h.abs[i])
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.label(i), err)
	}
	return a != b, nil
}

// blamed reports whether any brick's counters blame brick i for kind: a
// copy the changelog says is stale (a create that has not been filled in
// yet, a write it missed).
func (h *entryHeal) blamed(i int, kind afr.Kind) bool {
	for _, r := range h.replies {
		if len(r.Pending) > i && r.Pending[i][kind] != 0 {
			return true
		}
	}
	return false
}

// keepBeforeJoining keeps sink i's copy of name p, which has no gfid,
// before it is given the gfid of ref's copy, when its content or its
// metadata differs: it was made or written on its brick behind the
// volume's back, and once it has the gfid, the counters of the others (a
// new file's marks, a write it never saw) blame it, and the heal that
// follows would overwrite it as stale without keeping it.
func (h *entryHeal) keepBeforeJoining(i, ref int, p string, abs []string, copies []afr.Reply) error {
	want, mine := copies[ref], copies[i]
	if want.Type != afr.TypeRegular {
		return nil
	}
	src, dst := h.rs.Open[ref], h.rs.Open[i]
	sum, err := src.HashFile(abs[ref])
	if err != nil {
		return fmt.Errorf("%s: %w", h.label(ref), err)
	}
	mySum, err := dst.HashFile(abs[i])
	if err != nil {
		return fmt.Errorf("%s: %w", h.label(i), err)
	}
	if mySum == sum && metadataDiff(want, mine) == "times" {
		return nil
	}
	if err := dst.RoomToCopy(abs[i]); err != nil {
		return fmt.Errorf("%s: keep %s: %w", h.label(i), p, err)
	}
	// Named by what differs: a record of the metadata keeps it (its
	// metadata file), one of the data keeps the content.
	kind := afr.Data
	if mySum == sum {
		kind = afr.Metadata
	}
	rec := h.newRecord(kind.String(), HowUnexplained, ref, []int{i})
	rec.Path, rec.GFID = p, want.GFID.String()
	if kind == afr.Data {
		rec.SourceBlake3 = sum
	}
	kept := filepath.Join(dst.KeptDir(), rec.ID, keptName(h.label(i), want.GFID.String()))
	a := Action{What: "keep", Path: p, Source: h.label(ref), Sinks: []string{h.label(i)},
		Detail: fmt.Sprintf("%s's copy has no gfid and differs from %s's; it is kept at %s before it gets gfid %s", h.label(i), h.label(ref), kept, want.GFID)}
	return h.recordKeep(a, rec, func(rec *Record) error {
		k, err := keepFile(dst, h.label(i), *rec, p, abs[i], kept)
		if err != nil {
			return err
		}
		k.Blake3 = mySum
		rec.Kept = append(rec.Kept, k)
		return nil
	})
}
