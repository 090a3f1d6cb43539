package afr

// The changelog rules of AFR's write transaction (afr-transaction.c), as
// pure functions: which bricks a fop's pre-op and post-op write, and what.
// The engine that runs fops on bricks, and the fixtures that build damaged
// volumes, apply these; neither decides a delta of its own.

// PreOp is what a transaction's pre-op writes.
type PreOp struct {
	// Locked are the bricks the transaction runs on (pre_op[i]): those it
	// could lock. A brick not locked (down) gets nothing now; the post-op
	// blames it.
	Locked []bool
	// Optimistic is set when optimistic change-log applies to this
	// transaction: the option is on and every brick of the replica set
	// was locked (afr_init_optimistic_changelog_for_txn).
	Optimistic bool
	// Dirty is added to trusted.afr.dirty on every locked brick; zero
	// when the pre-op is skipped.
	Dirty Changelog
}

// Dirtied reports whether the pre-op marked the bricks dirty, which the
// post-op then takes back.
func (p PreOp) Dirtied() bool { return !p.Dirty.IsZero() }

// PlanPreOp is the pre-op of a transaction of kind on a replica set whose
// bricks in locked could be locked, with cluster.optimistic-change-log
// set as optimistic. A data transaction always marks dirty; metadata and
// entry transactions only when optimistic change-log does not apply (a
// brick is down, or the option is off): with every brick up they skip the
// pre-op (afr_changelog_pre_op, afr_needs_changelog_update). The pre-op
// writes no pending counter. The eager-lock inheritance of a data pre-op
// still on disk is the engine's to track.
func PlanPreOp(kind Kind, locked []bool, optimistic bool) PreOp {
	p := PreOp{Locked: append([]bool(nil), locked...), Optimistic: optimistic && count(locked) == len(locked)}
	if kind == Data || !p.Optimistic {
		p.Dirty[kind] = 1
	}
	return p
}

// ArbiterVetoes ports afr_txn_arbitrate_fop, which a replica 3 arbiter 1
// set runs between its pre-op and its fop: the pre-op's sources are the
// bricks that did not fail the lock or pre-op and that no brick's counters
// of kind blame (afr_compute_pre_op_sources; each row of counters is one
// brick's pending counters on one inode, as its pre-op read them). When
// the arbiter is one of fewer than two such sources, the fop would leave
// the arbiter the only good copy, which holds no data: it fails on every
// brick with ENOTCONN, and nothing is written. With every brick up and no
// pre-op written (optimistic change-log), nothing was read: no veto.
func ArbiterVetoes(kind Kind, counters [][]Changelog, failed []bool, arbiter int) bool {
	n := len(failed)
	if arbiter < 0 || arbiter >= n {
		return false
	}
	sources := make([]bool, n)
	for i := range sources {
		sources[i] = !failed[i]
	}
	for _, row := range counters {
		for j := 0; j < n && j < len(row); j++ {
			if row[j][kind] != 0 {
				sources[j] = false
			}
		}
	}
	return count(sources) < 2 && sources[arbiter]
}

// PostOp is what a transaction's post-op writes.
type PostOp struct {
	// Skip: nothing is written. Either every brick succeeded and no
	// pre-op dirtied them, or the fop succeeded on no brick, which
	// leaves the pre-op's dirty mark for self-heal to judge.
	Skip bool
	// Pending[j] is added to the changelog key that blames brick j, on
	// every brick in On.
	Pending []Changelog
	// Dirty is added to trusted.afr.dirty on every brick in On: -1 on
	// the kind's slot when the pre-op dirtied.
	Dirty Changelog
	// On are the bricks the post-op goes to: those where the fop
	// succeeded.
	On []bool
}

// PlanPostOp is the post-op of a transaction of kind whose pre-op was
// pre, after the fop failed on the locked bricks in failed
// (afr_changelog_post_op_do). Every brick that failed, or was not locked
// at all, is blamed for kind on every brick that succeeded, and the
// pre-op's dirty mark is taken back there. Only a failure on a locked
// brick makes the transaction one that "failed" (afr_txn_nothing_failed):
// a brick down from the start does not. Nothing is written when the fop
// succeeded nowhere and something failed, or when nothing failed and no
// dirty mark is to be taken back.
func PlanPostOp(kind Kind, pre PreOp, failed []bool) PostOp {
	n := len(pre.Locked)
	p := PostOp{Pending: make([]Changelog, n), On: make([]bool, n)}
	succeeded, nothingFailed := 0, true
	for i := 0; i < n; i++ {
		fail := i < len(failed) && failed[i]
		switch {
		case !pre.Locked[i]:
			p.Pending[i][kind] = 1
		case fail:
			p.Pending[i][kind] = 1
			nothingFailed = false
		default:
			p.On[i] = true
			succeeded++
		}
	}
	if succeeded == 0 || (nothingFailed && !pre.Dirtied()) {
		return PostOp{Skip: true}
	}
	if pre.Dirtied() {
		p.Dirty[kind] = -1
	}
	return p
}

// MarksNewEntry reports whether a fop that makes a name marks the new
// entry's own changelog when it did not succeed everywhere: create, mknod
// and mkdir do (afr_mark_entry_pending_changelog); symlink and link do
// not, and their new entry is covered only by its parent's entry counter.
func MarksNewEntry(t FileType, isLink bool) bool {
	if isLink {
		return false
	}
	return t == TypeRegular || t == TypeDirectory || t == TypeOther
}

// NewEntryMark is the changelog a new entry of type t carries against each
// brick that did not get it (afr_mark_pending_changelog): metadata always;
// data for a regular file; entry for a directory, and data too under
// granular entry heal, where a directory's data counter asks for a full
// (not granular) entry heal, since no entry-changes index names what the
// brick lacks. Self-heal marks the entries it creates on sinks with the
// same rule (afr_selfheal_newentry_mark).
func NewEntryMark(t FileType, granularEntryHeal bool) Changelog {
	var c Changelog
	c[Metadata] = 1
	switch t {
	case TypeRegular:
		c[Data] = 1
	case TypeDirectory:
		c[Entry] = 1
		if granularEntryHeal {
			c[Data] = 1
		}
	}
	return c
}
