package afr

// HealStatus is the value of the glusterfs.heal-info virtual xattr.
type HealStatus int

const (
	NoHeal HealStatus = iota
	Heal
	HealPending
	SplitBrain
	SplitBrainPending
	// PossiblyHealing and PossiblyHealingPending need the inodelk count in
	// the self-heal domain, which only a live brick can report. HealInfo
	// works offline and never returns them.
	PossiblyHealing
	PossiblyHealingPending
)

// String returns GlusterFS's word for the status.
func (s HealStatus) String() string {
	switch s {
	case NoHeal:
		return "no-heal"
	case Heal:
		return "heal"
	case HealPending:
		return "heal-pending"
	case SplitBrain:
		return "split-brain"
	case SplitBrainPending:
		return "split-brain-pending"
	case PossiblyHealing:
		return "possibly-healing"
	case PossiblyHealingPending:
		return "possibly-healing-pending"
	}
	return "unknown"
}

// IsSplitBrain reports whether `heal info split-brain` lists the entry.
func (s HealStatus) IsSplitBrain() bool { return s == SplitBrain || s == SplitBrainPending }

// Listed reports whether `heal info` prints the entry at all.
func (s HealStatus) Listed() bool { return s != NoHeal }

// HealInfo classifies an index entry like afr_lockless_inspect and
// afr_update_heal_status, without any locks.
//
// Heal info looks the entry up by gfid, so a brick holding the name with a
// different gfid answers ENOENT there: bricks whose gfid differs from the
// first brick that has the entry are treated as lacking it. That is why a
// gfid split-brain is never reported as split-brain (the parent directory
// usually is, in entry split-brain). A type mismatch under one gfid is
// reported as plain "split-brain".
//
// The order is GlusterFS's: metadata, then data (non-directories only,
// because a directory's data slot is the full-heal marker), then entry; the
// first kind in split-brain wins. If some brick is down or lacks the entry
// the result is "heal" (plus "-pending" when a counter blames someone),
// never split-brain. Offline there is no lock information, so an entry with
// only dirty counters is "heal" even though a live volume would say
// "no-heal" while I/O holds the lock; and "possibly-healing" never occurs.
// If no brick has the entry, NoHeal is returned (glfsheal purges the index
// entry and prints nothing).
func HealInfo(replies []Reply, quorumCount int) HealStatus {
	view := make([]Reply, len(replies))
	copy(view, replies)
	ref := -1
	for i, r := range view {
		if !r.Answered || !r.Exists {
			continue
		}
		if ref < 0 {
			ref = i
			continue
		}
		if !r.GFID.IsZero() && !view[ref].GFID.IsZero() && r.GFID != view[ref].GFID {
			view[i].Exists = false
		}
	}
	if ref < 0 {
		return NoHeal
	}
	for _, r := range view {
		if r.Answered && r.Exists && r.Type != view[ref].Type {
			return SplitBrain
		}
	}
	dsh, msh, esh := inspect(view)
	pending := false
	for _, step := range []struct {
		on   bool
		kind Kind
	}{{msh, Metadata}, {dsh, Data}, {esh, Entry}} {
		if !step.on {
			continue
		}
		d := FindDirection(view, step.kind, quorumCount)
		pending = pending || d.Pending
		if d.SplitBrain {
			return suffix(SplitBrain, pending)
		}
		if !d.AllAnswered {
			break
		}
	}
	if !dsh && !msh && !esh {
		return NoHeal
	}
	return suffix(Heal, pending)
}

func suffix(s HealStatus, pending bool) HealStatus {
	if !pending {
		return s
	}
	switch s {
	case Heal:
		return HealPending
	case SplitBrain:
		return SplitBrainPending
	}
	return s
}
