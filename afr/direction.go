package afr

// Direction is the outcome of afr_selfheal_find_direction for one kind: who
// may be copied from (Sources), who must be overwritten (Sinks), and the
// evidence GlusterFS later uses to break ties (Witness).
//
// All slices have one element per brick, in brick order.
type Direction struct {
	// Kind is the changelog slot the matrix was read from.
	Kind Kind
	// Sources[i] is set if brick i is an eligible copy to heal from.
	Sources []bool
	// Sinks[i] is set if brick i needs to be healed. Sinks are computed
	// before post-op failure accounting, so a brick promoted to source by
	// that accounting never blames anyone into the sink set: after a
	// successful FindDirection Sources and Sinks are always disjoint.
	Sinks []bool
	// Witness[i] counts the operations brick i witnessed but that are not
	// known to have reached the others (self-accusing blame and dirty
	// counters). It is unsigned, as in GlusterFS, so negative counters
	// wrap around exactly like the C code's uint64_t arithmetic.
	Witness []uint64
	// Accused[j] is how many non-self-accusing bricks blame brick j.
	Accused []int
	// SelfAccused[i] is set when brick i blames itself (matrix[i][i] != 0).
	// Such a brick is a "fool": its accusations are not counted.
	SelfAccused []bool
	// Blames[i] is how many other bricks brick i blames (the C "pending").
	Blames []int
	// Pending is PFLAG_PENDING: some locked brick has a non-zero cell.
	Pending bool
	// SplitBrain is PFLAG_SBRAIN: every brick is accused (after failure
	// accounting for data and metadata), so there is no source at all.
	SplitBrain bool
	// AllAnswered is false when some brick did not reply, or replied that
	// it has no such entry. GlusterFS then returns -ENOTCONN before doing
	// anything else: no sources, no sinks, no split-brain.
	AllAnswered bool
}

// lockedOn reports which bricks GlusterFS would count as "locked on" and
// successfully looked up. A brick without the entry answers the lookup with
// ENOENT, which afr_success_count does not count, so it is treated exactly
// like a brick that did not answer at all.
func lockedOn(replies []Reply) []bool {
	locked := make([]bool, len(replies))
	for i, r := range replies {
		locked[i] = r.Answered && r.Exists
	}
	return locked
}

// cell returns replies[i].Pending[j][kind] for a brick GlusterFS would read.
// afr_selfheal_extract_xattr only reads successful replies and only the
// child_count pending keys, so anything else reads as zero.
func cell(replies []Reply, i, j int, kind Kind) int32 {
	r := replies[i]
	if !r.Answered || !r.Exists || j >= len(r.Pending) {
		return 0
	}
	return r.Pending[j][kind]
}

func dirtyOf(r Reply, kind Kind) int32 {
	if !r.Answered || !r.Exists {
		return 0
	}
	return r.Dirty[kind]
}

// FindDirection ports afr_selfheal_find_direction together with
// afr_selfheal_post_op_failure_accounting (data and metadata only).
//
// Cell [i][j] of the pending matrix is replies[i].Pending[j][kind] and
// dirty[i] is replies[i].Dirty[kind]. Any non-zero value counts, negative
// ones included, as in the C code. quorumCount is what
// afr_get_quorum_count returns (see QuorumCount); 0 or less disables the
// accounting, as quorum-type none does.
//
// replies is not modified.
func FindDirection(replies []Reply, kind Kind, quorumCount int) Direction {
	n := len(replies)
	d := Direction{
		Kind:        kind,
		Sources:     make([]bool, n),
		Sinks:       make([]bool, n),
		Witness:     make([]uint64, n),
		Accused:     make([]int, n),
		SelfAccused: make([]bool, n),
		Blames:      make([]int, n),
	}
	locked := lockedOn(replies)

	// PFLAG_PENDING is computed before the ENOTCONN check, so heal info
	// still says "-pending" for an entry whose bricks are not all up.
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if cell(replies, i, j, kind) != 0 {
				d.Pending = true
			}
		}
	}
	if count(locked) < n {
		return d
	}
	d.AllAnswered = true

	for i := 0; i < n; i++ {
		d.SelfAccused[i] = cell(replies, i, i, kind) != 0
	}
	// Self-accusing bricks are fools: they cannot accuse others.
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if cell(replies, i, j, kind) == 0 {
				continue
			}
			if !d.SelfAccused[i] {
				d.Accused[j]++
			}
			if i != j {
				d.Blames[i]++
			}
		}
	}
	for i := 0; i < n; i++ {
		d.Sources[i] = d.Accused[i] == 0 && locked[i]
	}
	// Everyone blamed by a wise source is a sink. This happens before the
	// failure accounting below, which is why sources promoted there never
	// create sinks.
	for i := 0; i < n; i++ {
		if !d.Sources[i] || d.SelfAccused[i] {
			continue
		}
		for j := 0; j < n; j++ {
			if cell(replies, i, j, kind) != 0 {
				d.Sinks[j] = true
			}
		}
	}
	// A fool's blame of others still tells how much it saw.
	for i := 0; i < n; i++ {
		if !d.SelfAccused[i] {
			continue
		}
		for j := 0; j < n; j++ {
			if i != j {
				d.Witness[i] += uint64(int64(cell(replies, i, j, kind)))
			}
		}
	}
	if kind == Data || kind == Metadata {
		failureAccounting(d.Accused, d.Sources, locked, quorumCount)
	}
	if count(d.Sources) == 0 {
		for i := 0; i < n; i++ {
			if locked[i] {
				d.Sinks[i] = true
			}
		}
		d.SplitBrain = true
	}
	// afr-v1 left self-accusing markers without a dirty xattr; they count
	// as witnesses, either when nobody blames anyone else, or for a fool
	// that also blames others.
	if count(nonZero(d.Blames)) == 0 {
		for i := 0; i < n; i++ {
			if d.SelfAccused[i] {
				d.Witness[i] += uint64(int64(cell(replies, i, i, kind)))
			}
		}
	} else {
		for i := 0; i < n; i++ {
			if d.SelfAccused[i] && d.Blames[i] != 0 {
				d.Witness[i] += uint64(int64(cell(replies, i, i, kind)))
			}
		}
	}
	for i := 0; i < n; i++ {
		d.Witness[i] += uint64(int64(dirtyOf(replies[i], kind)))
	}
	return d
}

// failureAccounting is afr_selfheal_post_op_failure_accounting: when
// everybody is accused (a post-op failed on several bricks, or the blame is
// cyclic), a brick accused by fewer than quorumCount others is still trusted.
// With quorum-type none quorumCount is 0 and nobody qualifies.
func failureAccounting(accused []int, sources, locked []bool, quorumCount int) {
	if count(sources) != 0 {
		return
	}
	for i := range sources {
		if quorumCount > 0 && accused[i] < quorumCount && locked[i] {
			sources[i] = true
		}
	}
}

// QuorumCount returns the number GlusterFS's failure accounting compares
// accusation counts against (afr_get_quorum_count after fix_quorum_options).
//
// quorumType is the cluster.quorum-type option; "" means the option is not
// set, in which case GlusterFS uses "auto" for more than two bricks and
// "none" otherwise. "none" gives 0, "auto" gives replicaCount/2+1 (for an
// even replica count this is NOT the relaxed "half including the first
// brick" rule that afr_has_quorum applies to writes), and "fixed" gives
// fixedCount (cluster.quorum-count) unchanged. GlusterFS's option validation
// allows no other value; any other string is treated like "fixed", because
// fix_quorum_options only overrides quorum_count for "none" and "auto".
func QuorumCount(replicaCount int, quorumType string, fixedCount int) int {
	if quorumType == "" {
		quorumType = "none"
		if replicaCount > 2 {
			quorumType = "auto"
		}
	}
	switch quorumType {
	case "none":
		return 0
	case "auto":
		return replicaCount/2 + 1
	default:
		return fixedCount
	}
}

func count(b []bool) int {
	c := 0
	for _, v := range b {
		if v {
			c++
		}
	}
	return c
}

func nonZero(v []int) []bool {
	b := make([]bool, len(v))
	for i, x := range v {
		b[i] = x != 0
	}
	return b
}
