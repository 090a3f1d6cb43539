package afr

import "fmt"

// Options are the volume options that change a decision.
type Options struct {
	// QuorumCount is what QuorumCount returns for the volume.
	QuorumCount int
	// FavoriteChild is cluster.favorite-child-policy.
	FavoriteChild Policy
	// MetadataSplitBrainForcedHeal is cluster.metadata-splitbrain-forced-heal
	// (default off): heal a metadata split-brain from the first brick
	// instead of failing.
	MetadataSplitBrainForcedHeal bool
	// GranularEntryHeal is cluster.granular-entry-heal (on for volumes
	// GlusterFS 9 and later made): a new directory's mark then blames
	// data too (NewEntryMark).
	GranularEntryHeal bool
}

// Block is why a heal whose source is known cannot run (KindVerdict.Blocked).
type Block int

const (
	BlockNone Block = iota
	// BlockUnlisted: a copy has more xattr names than llistxattr returns.
	BlockUnlisted
	// BlockArbiterOnlySource: the arbiter is the only data source, and
	// holds no data.
	BlockArbiterOnlySource
)

func (b Block) String() string {
	switch b {
	case BlockUnlisted:
		return "xattr names cannot be listed"
	case BlockArbiterOnlySource:
		return "the arbiter is the only source, and holds no data"
	}
	return ""
}

// Resolution names how a split-brain (no source in the pending matrix) was
// nevertheless given a source without a human.
type Resolution string

const (
	ResolvedNone       Resolution = ""
	ResolvedEmptyFile  Resolution = "all copies are empty"
	ResolvedSameMeta   Resolution = "metadata is identical"
	ResolvedPolicy     Resolution = "favorite-child-policy"
	ResolvedDirTime    Resolution = "only directory times differ"
	ResolvedForcedHeal Resolution = "metadata-splitbrain-forced-heal"
)

// KindVerdict is the decision for one kind of heal.
type KindVerdict struct {
	Kind Kind
	// Applies is false when GlusterFS never runs this kind of heal on the
	// entry: data is only healed on regular files, entry only on
	// directories, and nothing is healed on a gfid or type mismatch.
	Applies bool
	// Checked is set when GlusterFS's unlocked inspection would go on to
	// the locked heal for this kind (afr_selfheal_unlocked_inspect): a
	// non-zero pending or dirty counter, or for data a size mismatch, or
	// for metadata a uid/gid/mode mismatch.
	Checked   bool
	Direction Direction
	// Source is the brick healed from, or -1.
	Source int
	// Sources are the bricks still trusted after the tie-breaks.
	Sources []bool
	// Sinks are the bricks that will be overwritten (healed_sinks).
	Sinks []bool
	// Merge is set for an entry heal done as a conservative merge: names
	// are only created, never deleted.
	Merge bool
	// NeedsHeal is set when GlusterFS would do (or try and fail) a heal.
	NeedsHeal bool
	// SplitBrain is set when the pending matrix leaves no source; this is
	// what heal info reports, even if Resolution later found one.
	SplitBrain bool
	// Resolution says how a split-brain got a source anyway.
	Resolution Resolution
	// Unresolved is set when the heal fails with EIO and needs a human.
	Unresolved bool
	// MarkPending is set for metadata that differs while no changelog
	// blames anyone: GlusterFS first makes the source blame the sinks.
	MarkPending bool
	// Blocked is set when a source is known but the heal cannot run:
	// metadata heal of copies one of which has more xattr names than
	// llistxattr returns (Reply.XattrsUnlisted), which GlusterFS's heal
	// fails on too; or data whose only source is the arbiter, which holds
	// none. Source is then -1, Reason says why and BlockedBecause which.
	Blocked        bool
	BlockedBecause Block
	// BlockedBy are the names that stop a conservative merge (see
	// MergeBlockers): set by Verdict.BlockMerge, which a caller that has
	// read the directory's names applies.
	BlockedBy []string
	// Reason explains the decision in plain words.
	Reason string
}

// Verdict is the decision for one entry on a replica set.
type Verdict struct {
	// Names are the bricks' names, in order.
	Names []string
	// Type is the type of the entry on the first brick that has it.
	Type FileType
	// Missing[i] is set when brick i answered but has no such entry.
	Missing []bool
	// Down[i] is set when brick i did not answer.
	Down []bool
	// GFIDMismatch is set when bricks hold the name with different gfids
	// and the same type; TypeMismatch when the types differ.
	GFIDMismatch, TypeMismatch bool
	// GFIDSource is the brick whose gfid wins a gfid split-brain by
	// favorite-child policy, or -1.
	GFIDSource int
	// GFIDReason explains the gfid/type outcome.
	GFIDReason            string
	Data, Metadata, Entry KindVerdict
}

// Kind returns the verdict for k.
func (v Verdict) Kind(k Kind) KindVerdict {
	switch k {
	case Data:
		return v.Data
	case Metadata:
		return v.Metadata
	}
	return v.Entry
}

// NeedsHeal reports whether anything needs healing.
func (v Verdict) NeedsHeal() bool {
	return v.GFIDMismatch || v.TypeMismatch || v.Data.NeedsHeal || v.Metadata.NeedsHeal || v.Entry.NeedsHeal
}

// Decide runs GlusterFS's decision for every kind on one entry: the
// gfid/type checks of entry heal, then data, metadata and entry heal as
// afr_selfheal_do would. replies is not modified.
func Decide(replies []Reply, opts Options) Verdict {
	n := len(replies)
	v := Verdict{
		Names:      make([]string, n),
		Missing:    make([]bool, n),
		Down:       make([]bool, n),
		GFIDSource: -1,
	}
	firstIdx := -1
	for i, r := range replies {
		v.Names[i] = brickName(replies, i)
		v.Down[i] = !r.Answered
		v.Missing[i] = r.Answered && !r.Exists
		if r.Answered && r.Exists && firstIdx < 0 {
			firstIdx = i
		}
	}
	if firstIdx >= 0 {
		v.Type = replies[firstIdx].Type
	}
	v.Data.Kind, v.Metadata.Kind, v.Entry.Kind = Data, Metadata, Entry
	for _, kv := range []*KindVerdict{&v.Data, &v.Metadata, &v.Entry} {
		kv.Source = -1
		kv.Direction = FindDirection(replies, kv.Kind, opts.QuorumCount)
	}
	if firstIdx < 0 {
		reason := "no brick has the entry"
		v.Data.Reason, v.Metadata.Reason, v.Entry.Reason = reason, reason, reason
		return v
	}

	a, b := mismatch(replies)
	if a >= 0 {
		ra, rb := replies[a], replies[b]
		if ra.Type != rb.Type {
			v.TypeMismatch = true
			v.GFIDReason = fmt.Sprintf("%s has a %s and %s a %s with this name; GlusterFS skips the name (EIO) and no policy can resolve a type mismatch",
				v.Names[a], ra.Type, v.Names[b], rb.Type)
		} else {
			v.GFIDMismatch = true
			v.GFIDReason = fmt.Sprintf("%s and %s hold the name with different gfids (%s, %s)",
				v.Names[a], v.Names[b], ra.GFID, rb.GFID)
			src, err := ResolveGFIDSplitBrain(replies, OpNone, -1, opts.FavoriteChild)
			switch {
			case opts.FavoriteChild == PolicyNone:
				v.GFIDReason += "; no favorite-child-policy is set, so lookups fail with EIO until it is resolved by hand"
			case err == nil && replies[src].Type == TypeDirectory:
				// afr_gfid_split_brain_source: DHT owns a directory's view,
				// so no policy resolves its gfid.
				v.GFIDReason += fmt.Sprintf("; favorite-child-policy %s would keep %s's, but GlusterFS resolves no directory's gfid split-brain by policy: it waits for a person", opts.FavoriteChild, v.Names[src])
			case err != nil:
				v.GFIDReason += fmt.Sprintf("; favorite-child-policy %s cannot decide (%s)", opts.FavoriteChild, err.(*ResolveError).Message())
			default:
				v.GFIDSource = src
				v.GFIDReason += fmt.Sprintf("; favorite-child-policy %s keeps %s's copy", opts.FavoriteChild, v.Names[src])
			}
		}
		skip := "not decided: the bricks hold different files under this name"
		v.Data.Reason, v.Metadata.Reason, v.Entry.Reason = skip, skip, skip
		return v
	}

	dsh, msh, esh := inspect(replies)
	v.Metadata.Applies = true
	v.Data.Applies = v.Type == TypeRegular
	v.Entry.Applies = v.Type == TypeDirectory
	v.Data.Checked, v.Metadata.Checked, v.Entry.Checked = dsh && v.Data.Applies, msh, esh && v.Entry.Applies

	decideKind(&v.Metadata, replies, opts, v.Names)
	decideKind(&v.Data, replies, opts, v.Names)
	decideKind(&v.Entry, replies, opts, v.Names)
	return v
}

// mismatch follows afr_selfheal_detect_gfid_and_type_mismatch: compare each
// brick that has the name with a gfid and a type against the first such
// brick, and stop at the first difference. It returns the pair, or -1, -1.
func mismatch(replies []Reply) (int, int) {
	src := -1
	for i, r := range replies {
		if !r.Answered || !r.Exists || r.GFID.IsZero() || r.Type == TypeUnknown {
			continue
		}
		if src < 0 {
			src = i
			continue
		}
		s := replies[src]
		if s.GFID != r.GFID || s.Type != r.Type {
			return src, i
		}
	}
	return -1, -1
}

// inspect is afr_selfheal_unlocked_inspect's choice of which heals to try:
// a non-zero dirty or pending counter of that kind on any brick that has
// the entry (data only on non-directories, since a directory's data slot is
// the full-heal marker), a size mismatch between regular files, or a uid,
// gid or mode mismatch. Xattr differences alone do not trigger anything.
func inspect(replies []Reply) (dsh, msh, esh bool) {
	var first *Reply
	for i := range replies {
		r := &replies[i]
		if !r.Answered || !r.Exists {
			continue
		}
		if r.Type != TypeDirectory && counterSet(*r, Data, len(replies)) {
			dsh = true
		}
		if counterSet(*r, Metadata, len(replies)) {
			msh = true
		}
		if counterSet(*r, Entry, len(replies)) {
			esh = true
		}
		if first == nil {
			first = r
			continue
		}
		if first.UID != r.UID || first.GID != r.GID || first.Mode != r.Mode {
			msh = true
		}
		if first.Type == TypeRegular && first.Size != r.Size {
			dsh = true
		}
	}
	return dsh, msh, esh
}

// counterSet is afr_is_pending_set: dirty or any of the n pending keys.
func counterSet(r Reply, kind Kind, n int) bool {
	if r.Dirty[kind] != 0 {
		return true
	}
	for j := 0; j < n && j < len(r.Pending); j++ {
		if r.Pending[j][kind] != 0 {
			return true
		}
	}
	return false
}

func brickName(replies []Reply, i int) string {
	if replies[i].Name != "" {
		return replies[i].Name
	}
	return fmt.Sprintf("b%d", i)
}

func decideKind(kv *KindVerdict, replies []Reply, opts Options, names []string) {
	n := len(replies)
	d := kv.Direction
	kv.Sources = make([]bool, n)
	kv.Sinks = make([]bool, n)
	kv.SplitBrain = d.SplitBrain && kv.Applies
	if !kv.Applies {
		switch kv.Kind {
		case Data:
			kv.Reason = fmt.Sprintf("data is only healed on regular files, this is a %s", typeOf(replies))
		case Entry:
			kv.Reason = fmt.Sprintf("entries are only healed in directories, this is a %s", typeOf(replies))
		}
		return
	}
	if !kv.Checked {
		kv.Reason = "no counter is set and the copies agree"
		if kv.Kind == Metadata && xattrsDiffer(replies) {
			kv.Reason = "only xattrs differ, and GlusterFS looks no further unless a counter is set or uid/gid/mode differ"
		}
		return
	}
	kv.NeedsHeal = true
	blame := describeBlame(replies, d, names)
	if !d.AllAnswered {
		kv.SplitBrain = false
		kv.Reason = join(blame, fmt.Sprintf("%s, so GlusterFS does not heal it yet (ENOTCONN)", absent(replies, names)))
		return
	}
	copy(kv.Sources, d.Sources)
	copy(kv.Sinks, d.Sinks)
	switch kv.Kind {
	case Data:
		kv.Reason = join(blame, decideData(kv, replies, opts, names))
	case Metadata:
		kv.Reason = join(blame, decideMetadata(kv, replies, opts, names))
	case Entry:
		kv.Reason = join(blame, decideEntry(kv, names))
	}
	if !kv.Unresolved && !kv.Merge && count(kv.Sinks) == 0 {
		kv.NeedsHeal = false
		kv.Source = -1
	}
	if kv.Kind == Metadata && kv.NeedsHeal && kv.Source >= 0 {
		blockUnlisted(kv, replies, names)
	}
}

// blockUnlisted blocks a metadata heal one of whose copies could not list
// its xattr names: the heal sets the source's xattrs on the sinks and
// removes the sinks' others, and cannot do either without the lists.
func blockUnlisted(kv *KindVerdict, replies []Reply, names []string) {
	for i, r := range replies {
		if (i == kv.Source || kv.Sinks[i]) && r.XattrsUnlisted {
			kv.Blocked, kv.BlockedBecause = true, BlockUnlisted
			kv.Reason = join(kv.Reason, fmt.Sprintf("but %s's copy has more xattr names than llistxattr returns (E2BIG), so the heal cannot see which xattrs to copy or remove and fails, as GlusterFS's does; fewer hard links or xattrs make it healable", names[i]))
			kv.Source = -1
			return
		}
	}
}

func typeOf(replies []Reply) FileType {
	for _, r := range replies {
		if r.Answered && r.Exists {
			return r.Type
		}
	}
	return TypeUnknown
}

func xattrsDiffer(replies []Reply) bool {
	var first *Reply
	for i := range replies {
		r := &replies[i]
		if !r.Answered || !r.Exists {
			continue
		}
		if first == nil {
			first = r
		} else if !xattrsMatch(*first, *r) {
			return true
		}
	}
	return false
}

// activeSinks is afr_mark_active_sinks: every locked brick that is not a
// source gets healed.
func activeSinks(kv *KindVerdict) {
	for i := range kv.Sinks {
		kv.Sinks[i] = !kv.Sources[i]
	}
}

func only(n, i int) []bool {
	b := make([]bool, n)
	b[i] = true
	return b
}

// splitBrainSource is afr_mark_split_brain_source_sinks without a CLI
// heal-op: identical copies first, then the favorite-child policy.
func splitBrainSource(kv *KindVerdict, replies []Reply, opts Options, names []string) (int, string) {
	if src := sameOnAll(replies, kv.Kind); src >= 0 {
		if kv.Kind == Data {
			kv.Resolution = ResolvedEmptyFile
			return src, fmt.Sprintf("but all copies are empty, so %s is taken as the source", names[src])
		}
		kv.Resolution = ResolvedSameMeta
		return src, fmt.Sprintf("but uid, gid, mode and xattrs are equal everywhere, so %s is taken as the source", names[src])
	}
	if opts.FavoriteChild == PolicyNone {
		return -1, ""
	}
	src, err := FavoriteChild(replies, opts.FavoriteChild)
	if err != nil {
		msg := err.Error()[len("afr: "):]
		return -1, fmt.Sprintf("favorite-child-policy %s picks nobody (%s)", opts.FavoriteChild, msg)
	}
	kv.Resolution = ResolvedPolicy
	return src, fmt.Sprintf("favorite-child-policy %s picks %s", opts.FavoriteChild, names[src])
}

// decideData is __afr_selfheal_data_finalize_source.
func decideData(kv *KindVerdict, replies []Reply, opts Options, names []string) string {
	n := len(replies)
	d := kv.Direction
	var why []string
	if d.SplitBrain {
		why = append(why, splitBrainWords(d, Data, opts.QuorumCount, names))
		src, how := splitBrainSource(kv, replies, opts, names)
		if src < 0 {
			kv.Unresolved = true
			kv.Sources = make([]bool, n)
			return join(append(why, how, "data split-brain: reads fail with EIO until it is resolved")...)
		}
		kv.Sources = only(n, src)
		why = append(why, how)
	} else {
		why = append(why, accountingWords(d, opts.QuorumCount, names))
		if sizeMismatch(replies, kv.Sources) || sourceWitness(kv.Sources, d.Witness) {
			before := clone(kv.Sources)
			markLargest(replies, kv.Sources)
			if !equal(before, kv.Sources) {
				why = append(why, fmt.Sprintf("%s %s the biggest copy (%d bytes)", list(kv.Sources, names), isAre(kv.Sources), replies[first(kv.Sources)].Size))
			}
			before = clone(kv.Sources)
			markBiggestWitness(kv.Sources, d.Witness)
			if !equal(before, kv.Sources) {
				why = append(why, fmt.Sprintf("%s witnessed the most operations (%d)", list(kv.Sources, names), d.Witness[first(kv.Sources)]))
			}
			if count(kv.Sources) > 1 {
				src := newestCtime(replies, kv.Sources)
				why = append(why, fmt.Sprintf("%s tie on size and witness, so the newest ctime (in whole seconds, the later brick on a tie) wins: %s", list(kv.Sources, names), names[src]))
				kv.Sources = only(n, src)
			}
			// An empty file is healed from the first brick, never from
			// the arbiter (afr_mark_source_sinks_if_file_empty).
			if a := arbiterOf(replies); a >= 0 && kv.Sources[a] && emptyOnAll(replies) {
				kv.Sources = only(n, 0)
				why = append(why, fmt.Sprintf("the file is empty on every brick, so %s is the source rather than the arbiter", names[0]))
			}
		}
	}
	activeSinks(kv)
	kv.Source = first(kv.Sources)
	// GlusterFS's data heal from the arbiter heals nothing but an empty
	// file's times (__afr_selfheal_data): the entry stays pending.
	if src := kv.Source; src >= 0 && replies[src].Arbiter && count(kv.Sinks) > 0 && !emptyOnAll(replies) {
		kv.Blocked, kv.BlockedBecause = true, BlockArbiterOnlySource
		kv.Source = -1
		why = append(why, fmt.Sprintf("but %s is the arbiter, the only source of the data and holding none of it: GlusterFS does not heal the data until a data brick with it is back, and reads fail meanwhile", names[src]))
	}
	return join(why...)
}

// arbiterOf is the position of the replica set's arbiter, or -1.
func arbiterOf(replies []Reply) int {
	for i, r := range replies {
		if r.Arbiter {
			return i
		}
	}
	return -1
}

// emptyOnAll is afr_is_file_empty_on_all_children: every brick answered,
// has the file, and its size is 0.
func emptyOnAll(replies []Reply) bool {
	for _, r := range replies {
		if !r.Answered || !r.Exists || r.Size != 0 {
			return false
		}
	}
	return true
}

func sizeMismatch(replies []Reply, sources []bool) bool {
	var min, max int64
	seen := false
	for i, s := range sources {
		// The arbiter's empty copy is no mismatch (afr_does_size_mismatch).
		if !s || replies[i].Arbiter && replies[i].Size == 0 {
			continue
		}
		sz := replies[i].Size
		if !seen || sz < min {
			min = sz
		}
		if !seen || sz > max {
			max = sz
		}
		seen = true
	}
	return seen && min != max
}

func sourceWitness(sources []bool, witness []uint64) bool {
	for i, s := range sources {
		if s && witness[i] != 0 {
			return true
		}
	}
	return false
}

// markBiggestWitness is afr_mark_biggest_witness_as_source.
func markBiggestWitness(sources []bool, witness []uint64) {
	var max uint64
	for i, s := range sources {
		if s && witness[i] > max {
			max = witness[i]
		}
	}
	for i, s := range sources {
		if s && witness[i] < max {
			sources[i] = false
		}
	}
}

// newestCtime is afr_mark_newest_file_as_source: highest ctime seconds
// (nanoseconds are ignored), the later index winning ties.
func newestCtime(replies []Reply, sources []bool) int {
	src := -1
	var max int64
	for i, s := range sources {
		if s && max <= replies[i].Ctime.Sec {
			src, max = i, replies[i].Ctime.Sec
		}
	}
	return src
}

// decideMetadata is __afr_selfheal_metadata_prepare and _finalize_source.
func decideMetadata(kv *KindVerdict, replies []Reply, opts Options, names []string) string {
	n := len(replies)
	d := kv.Direction
	var why []string
	// The first source with a witness (dirty) wins outright.
	for i := range kv.Sources {
		if kv.Sources[i] && d.Witness[i] != 0 {
			if count(kv.Sources) > 1 {
				why = append(why, fmt.Sprintf("%s is the first source with a witness count (%d), so it wins over the other sources", names[i], d.Witness[i]))
			}
			kv.Sources = only(n, i)
			break
		}
	}
	sourcesCount := count(kv.Sources)
	if d.SplitBrain {
		why = append(why, splitBrainWords(d, Metadata, opts.QuorumCount, names))
		src, how := splitBrainSource(kv, replies, opts, names)
		if src >= 0 {
			kv.Sources = only(n, src)
			activeSinks(kv)
			kv.Source = src
			return join(append(why, how)...)
		}
		why = append(why, how)
		if src = dirtimeSource(replies); src >= 0 {
			kv.Resolution = ResolvedDirTime
			kv.Sources = only(n, src)
			activeSinks(kv)
			kv.Source = src
			return join(append(why, fmt.Sprintf("but only the directory times differ, so %s with the newest mtime is the source", names[src]))...)
		}
		if !opts.MetadataSplitBrainForcedHeal {
			kv.Unresolved = true
			kv.Sources = make([]bool, n)
			return join(append(why, "metadata split-brain: it stays until it is resolved with source-brick")...)
		}
		kv.Resolution = ResolvedForcedHeal
		kv.Sources = only(n, 0)
		why = append(why, fmt.Sprintf("metadata-splitbrain-forced-heal takes %s", names[0]))
	} else {
		why = append(why, accountingWords(d, opts.QuorumCount, names))
	}
	src := first(kv.Sources)
	for i := range kv.Sources {
		if !kv.Sources[i] || i == src {
			continue
		}
		a, b := replies[src], replies[i]
		if a.Type != b.Type || a.UID != b.UID || a.GID != b.GID || a.Mode != b.Mode {
			kv.Sources[i] = false
			why = append(why, fmt.Sprintf("%s's uid/gid/mode differ from %s's, so it is healed too", names[i], names[src]))
		}
	}
	for i := range kv.Sources {
		if !kv.Sources[i] || i == src {
			continue
		}
		if !xattrsMatch(replies[src], replies[i]) {
			kv.Sources[i] = false
			why = append(why, fmt.Sprintf("%s's xattrs differ from %s's, so it is healed too", names[i], names[src]))
		}
	}
	activeSinks(kv)
	kv.Source = src
	if sourcesCount == n && count(kv.Sinks) != 0 {
		kv.MarkPending = true
		why = append(why, fmt.Sprintf("no changelog blames anyone, so %s is picked and first marked as blaming %s", names[src], list(kv.Sinks, names)))
	}
	return join(why...)
}

// dirtimeSource is afr_dirtime_splitbrain_source: for a directory whose
// gfid, type, mode, uid, gid and xattrs agree everywhere, a metadata
// split-brain is only about times, and the newest mtime (in nanoseconds,
// the first brick winning ties) is the source.
func dirtimeSource(replies []Reply) int {
	src := -1
	var max uint64
	for i, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		ns := uint64(r.Mtime.Sec)*1000000000 + uint64(r.Mtime.Nsec)
		if ns <= max {
			continue
		}
		max, src = ns, i
	}
	if src < 0 || replies[src].Type != TypeDirectory {
		return -1
	}
	s := replies[src]
	for i, r := range replies {
		if i == src || !r.Answered || !r.Exists {
			continue
		}
		if r.GFID != s.GFID || r.Type != s.Type || r.Mode != s.Mode || r.UID != s.UID || r.GID != s.GID || !xattrsMatch(r, s) {
			return -1
		}
	}
	return src
}

// decideEntry is __afr_selfheal_entry_finalize_source.
func decideEntry(kv *KindVerdict, names []string) string {
	n := len(kv.Sources)
	d := kv.Direction
	merge := func(why string) string {
		kv.Merge = true
		kv.Source = -1
		kv.Sources = make([]bool, n)
		for i := range kv.Sinks {
			kv.Sinks[i] = true
		}
		return why + ", so the directories are merged conservatively: missing names are created, nothing is deleted"
	}
	switch {
	case d.SplitBrain:
		return merge(splitBrainWords(d, Entry, 0, names))
	case witnessAny(d.Witness):
		return merge(fmt.Sprintf("%s witnessed operations that may not have reached the others", list(nonZeroU(d.Witness), names)))
	}
	src := first(kv.Sources)
	if count(kv.Sinks) == 0 {
		return merge(fmt.Sprintf("the source %s blames nobody", names[src]))
	}
	kv.Source = src
	activeSinks(kv)
	return fmt.Sprintf("%s is the source: names it lacks are removed from %s and missing ones created", names[src], list(kv.Sinks, names))
}

func witnessAny(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return true
		}
	}
	return false
}

func nonZeroU(w []uint64) []bool {
	b := make([]bool, len(w))
	for i, x := range w {
		b[i] = x != 0
	}
	return b
}

func clone(b []bool) []bool { return append([]bool(nil), b...) }

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
