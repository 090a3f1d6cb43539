package afr

import (
	"errors"
	"fmt"
)

// Sentinel errors. Each carries GlusterFS's own sh-fail-msg / gfid-heal-msg
// text after the package prefix, so a CLI can print exactly what glfsheal
// prints (use ResolveError.Message for the bare text).
var (
	ErrNotInSplitBrain     = errors.New("afr: File not in split-brain")
	ErrNoBiggerFile        = errors.New("afr: No bigger file")
	ErrNoDiffInMtime       = errors.New("afr: No difference in mtime")
	ErrUseSourceBrick      = errors.New("afr: Use source-brick option to heal metadata split-brain")
	ErrNotAllBricksReplied = errors.New("afr: Failed to obtain replies from all bricks of the replica (are they up?). Cannot resolve split-brain.")
	ErrInvalidBrickName    = errors.New("afr: Invalid brick name")
	ErrBrickNotUp          = errors.New("afr: Brick is not up")
	ErrSourceBrick         = errors.New("afr: Error getting the source brick")
	ErrAllBricksUpForGFID  = errors.New("afr: All the bricks should be up to resolve the gfid split brain")
	ErrNoMajorityForGFID   = errors.New("afr: No majority to resolve gfid split brain")
	ErrNoMajority          = errors.New("afr: No version is held by more than half of the bricks")
	ErrNoFavoriteChild     = errors.New("afr: No child selected by favorite-child policy.")
	ErrSizePolicyDirectory = errors.New("afr: Size policy is not applicable to directories.")
	ErrNotConnected        = errors.New("afr: Transport endpoint is not connected")
	// ErrArbiterHoldsNoData is afrkit's own: GlusterFS's data heal from
	// an arbiter does nothing unless the file is empty everywhere
	// (__afr_selfheal_data), so afrkit refuses to name it the source.
	ErrArbiterHoldsNoData = errors.New("afr: The arbiter holds no data, so its copy cannot be the one kept")
)

// ResolveError is a failed split-brain resolution. Err is one of the
// sentinels above; errors.Is works through Unwrap.
type ResolveError struct {
	Kind Kind
	// GFID is set for a gfid split-brain (Kind is then Entry).
	GFID bool
	// Op is the CLI operation, or OpNone for a favorite-child policy.
	Op  HealOp
	Err error
}

func (e *ResolveError) Error() string {
	what := e.Kind.String()
	if e.GFID {
		what = "gfid"
	}
	how := "favorite-child-policy"
	if e.Op != OpNone {
		how = e.Op.String()
	}
	return fmt.Sprintf("afr: %s split-brain, %s: %s", what, how, e.Message())
}

func (e *ResolveError) Unwrap() error { return e.Err }

// Message is GlusterFS's text without the "afr: " prefix.
func (e *ResolveError) Message() string {
	s := e.Err.Error()
	if len(s) > 5 && s[:5] == "afr: " {
		return s[5:]
	}
	return s
}

// Policy is cluster.favorite-child-policy.
type Policy int

const (
	PolicyNone Policy = iota
	PolicySize
	PolicyCtime
	PolicyMtime
	PolicyMajority
)

func (p Policy) String() string {
	switch p {
	case PolicyNone:
		return "none"
	case PolicySize:
		return "size"
	case PolicyCtime:
		return "ctime"
	case PolicyMtime:
		return "mtime"
	case PolicyMajority:
		return "majority"
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// ParsePolicy accepts the option values GlusterFS accepts.
func ParsePolicy(s string) (Policy, error) {
	for p := PolicyNone; p <= PolicyMajority; p++ {
		if p.String() == s {
			return p, nil
		}
	}
	return PolicyNone, fmt.Errorf("afr: unknown favorite-child-policy %q", s)
}

// HealOp is a `gluster volume heal V split-brain ...` operation.
type HealOp int

const (
	OpNone HealOp = iota
	OpBiggerFile
	OpLatestMtime
	OpSourceBrick
	// OpMajority is afrkit's own: the version more than half the bricks
	// hold wins. GlusterFS has it only as a favorite-child policy.
	OpMajority
)

func (o HealOp) String() string {
	switch o {
	case OpNone:
		return "none"
	case OpBiggerFile:
		return "bigger-file"
	case OpLatestMtime:
		return "latest-mtime"
	case OpSourceBrick:
		return "source-brick"
	case OpMajority:
		return "majority"
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// ParseHealOp accepts the CLI verbs.
func ParseHealOp(s string) (HealOp, error) {
	for o := OpBiggerFile; o <= OpMajority; o++ {
		if o.String() == s {
			return o, nil
		}
	}
	return OpNone, fmt.Errorf("afr: unknown split-brain operation %q", s)
}

// allAnswered is afr_can_decide_split_brain_source_sinks: every brick
// replied successfully.
func allAnswered(replies []Reply) bool {
	return count(lockedOn(replies)) == len(replies)
}

// FavoriteChild ports afr_sh_get_fav_by_policy, used for data and metadata
// split-brains. It needs every brick to have answered. Semantics per policy:
//
//   - size: the unique largest size; size 0 is never chosen, a tie for the
//     largest gives no child, and a directory stops the scan.
//   - mtime, ctime: the strictly newest (sec, nsec); an exact tie keeps the
//     lower index, and a time of exactly 0 is never chosen.
//   - majority: the first brick whose (mtime seconds, size) equals that of
//     more than n/2 bricks.
func FavoriteChild(replies []Reply, p Policy) (int, error) {
	if !allAnswered(replies) {
		return -1, ErrNotAllBricksReplied
	}
	var fav int
	switch p {
	case PolicySize:
		var err error
		fav, err = favBySize(replies)
		if err != nil {
			return -1, err
		}
	case PolicyMtime:
		fav = favByTime(replies, Reply.LatestMtime)
	case PolicyCtime:
		fav = favByTime(replies, func(r Reply) Timespec { return r.Ctime })
	case PolicyMajority:
		fav = favByMajority(replies)
	default:
		return -1, ErrNoFavoriteChild
	}
	if fav < 0 {
		return -1, ErrNoFavoriteChild
	}
	return fav, nil
}

// favBySize is afr_sh_fav_by_size. Replies without the entry are skipped;
// the C code checks only `valid`, but for the data/metadata path every
// reply is already known to be successful.
func favBySize(replies []Reply) (int, error) {
	fav := -1
	var max int64
	for i, r := range replies {
		if !r.Answered {
			continue
		}
		if r.Exists && r.Type == TypeDirectory {
			// The C code logs and breaks out of the loop, keeping
			// whatever it had found so far.
			if fav < 0 {
				return -1, ErrSizePolicyDirectory
			}
			return fav, nil
		}
		size := r.Size
		if !r.Exists {
			size = 0
		}
		if size > max {
			max, fav = size, i
		} else if size == max {
			fav = -1
		}
	}
	if fav < 0 {
		return -1, ErrNoBiggerFile
	}
	return fav, nil
}

func favByTime(replies []Reply, get func(Reply) Timespec) int {
	fav := -1
	var best Timespec
	for i, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		if t := get(r); best.Before(t) {
			best, fav = t, i
		}
	}
	return fav
}

func favByMajority(replies []Reply) int {
	n := len(replies)
	for i, r := range replies {
		if !r.Answered {
			continue
		}
		votes := 0
		for _, k := range replies {
			if k.Mtime.Sec == r.Mtime.Sec && k.Size == r.Size {
				votes++
			}
		}
		if votes > n/2 {
			return i
		}
	}
	return -1
}

// ResolveSplitBrain ports the CLI path (glfsheal → afr_heal_splitbrain_file)
// for one kind, Data or Metadata: `heal V split-brain bigger-file F`,
// `latest-mtime F` and `source-brick B F`. It returns the brick that becomes
// the source.
//
// As in GlusterFS the heal first needs every brick up (the heal locks fail
// otherwise), then an all-empty file (data) or identical metadata is healed
// from brick 0 before the operation is even looked at, and an entry that is
// not in split-brain fails with "File not in split-brain". sourceBrick is
// only used by OpSourceBrick; an index outside the replica set is "Invalid
// brick name".
func ResolveSplitBrain(replies []Reply, kind Kind, op HealOp, sourceBrick int, quorumCount int) (int, error) {
	fail := func(err error) (int, error) { return -1, &ResolveError{Kind: kind, Op: op, Err: err} }
	if kind != Data && kind != Metadata {
		return fail(ErrNotInSplitBrain)
	}
	if !allAnswered(replies) {
		return fail(ErrNotConnected)
	}
	d := FindDirection(replies, kind, quorumCount)
	if !d.SplitBrain {
		return fail(ErrNotInSplitBrain)
	}
	if src := sameOnAll(replies, kind); src >= 0 {
		return src, nil
	}
	src, err := byHealOp(replies, kind, op, sourceBrick)
	if err != nil {
		return fail(err)
	}
	if kind == Data && replies[src].Arbiter {
		return fail(ErrArbiterHoldsNoData)
	}
	return src, nil
}

// byHealOp is afr_mark_split_brain_source_sinks_by_heal_op once the entry
// is known to be in split-brain with every brick up.
func byHealOp(replies []Reply, kind Kind, op HealOp, sourceBrick int) (int, error) {
	n := len(replies)
	sources := make([]bool, n)
	for i := range sources {
		sources[i] = true
	}
	switch op {
	case OpBiggerFile:
		if kind == Metadata {
			return -1, ErrUseSourceBrick
		}
		markLargest(replies, sources)
		if count(sources) != 1 {
			return -1, ErrNoBiggerFile
		}
	case OpLatestMtime:
		if kind == Metadata {
			return -1, ErrUseSourceBrick
		}
		markLatestMtime(replies, sources)
		if count(sources) != 1 {
			return -1, ErrNoDiffInMtime
		}
	case OpSourceBrick:
		if sourceBrick < 0 || sourceBrick >= n {
			return -1, ErrInvalidBrickName
		}
		if !replies[sourceBrick].Answered || !replies[sourceBrick].Exists {
			return -1, ErrBrickNotUp
		}
		return sourceBrick, nil
	default:
		return -1, ErrNotInSplitBrain
	}
	return first(sources), nil
}

// markLargest is afr_mark_largest_file_as_source: keep the sources whose
// size equals the largest. Ties keep several.
func markLargest(replies []Reply, sources []bool) {
	var max int64
	for i := range sources {
		if sources[i] && replies[i].Size >= max {
			max = replies[i].Size
		}
	}
	for i := range sources {
		if sources[i] && replies[i].Size < max {
			sources[i] = false
		}
	}
}

// markLatestMtime is afr_mark_latest_mtime_file_as_source.
func markLatestMtime(replies []Reply, sources []bool) {
	var max Timespec
	for i := range sources {
		if sources[i] && max.Before(replies[i].LatestMtime()) {
			max = replies[i].LatestMtime()
		}
	}
	for i := range sources {
		if sources[i] && replies[i].LatestMtime().Before(max) {
			sources[i] = false
		}
	}
}

func first(b []bool) int {
	for i, v := range b {
		if v {
			return i
		}
	}
	return -1
}

// sameOnAll is afr_mark_source_sinks_if_file_empty: with every brick up, an
// all-empty file (data) or metadata equal everywhere (type, uid, gid, mode,
// xattrs) is not a real conflict, and brick 0 becomes the source.
func sameOnAll(replies []Reply, kind Kind) int {
	if len(replies) == 0 || !allAnswered(replies) {
		return -1
	}
	if kind == Data {
		for _, r := range replies {
			if r.Size != 0 {
				return -1
			}
		}
		return 0
	}
	r0 := replies[0]
	for _, r := range replies[1:] {
		if r.Type != r0.Type || r.UID != r0.UID || r.GID != r0.GID || r.Mode != r0.Mode {
			return -1
		}
	}
	for _, r := range replies[1:] {
		if !xattrsMatch(r0, r) {
			return -1
		}
	}
	return 0
}

// xattrsMatch reports whether no difference is seen between two copies'
// xattrs. A copy whose names could not be listed (XattrsUnlisted) shows
// none: it is never taken for different, which would make a heal that
// cannot be done.
func xattrsMatch(x, y Reply) bool {
	if x.XattrsUnlisted || y.XattrsUnlisted {
		return true
	}
	a, b := x.Xattrs, y.Xattrs
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ResolveGFIDSplitBrain ports afr_gfid_split_brain_source: which copy of a
// name whose bricks hold different gfids (same type) survives. With op ==
// OpNone the favorite-child policy decides (majority compares gfids and is
// disabled for replica 2); otherwise the CLI operation does. Every brick
// must be up (the parent is entry-locked on all of them); bricks without the
// name are ignored.
func ResolveGFIDSplitBrain(replies []Reply, op HealOp, sourceBrick int, p Policy) (int, error) {
	fail := func(err error) (int, error) { return -1, &ResolveError{Kind: Entry, GFID: true, Op: op, Err: err} }
	for _, r := range replies {
		if !r.Answered {
			return fail(ErrAllBricksUpForGFID)
		}
	}
	valid := func(r Reply) bool { return r.Answered && r.Exists }
	src := -1
	switch op {
	case OpBiggerFile:
		var max int64
		for i, r := range replies {
			if !valid(r) {
				continue
			}
			if max < r.Size {
				src, max = i, r.Size
			} else if r.Size == max {
				src = -1
			}
		}
		if src < 0 {
			return fail(ErrNoBiggerFile)
		}
	case OpLatestMtime:
		var max Timespec
		for i, r := range replies {
			if !valid(r) {
				continue
			}
			if t := r.LatestMtime(); max.Before(t) {
				src, max = i, t
			} else if t == max {
				src = -1
			}
		}
		if src < 0 {
			return fail(ErrNoDiffInMtime)
		}
	case OpSourceBrick:
		if sourceBrick < 0 || sourceBrick >= len(replies) || !valid(replies[sourceBrick]) {
			return fail(ErrSourceBrick)
		}
		src = sourceBrick
	default:
		switch p {
		case PolicySize:
			s, err := favBySize(replies)
			if err != nil {
				return fail(err)
			}
			src = s
		case PolicyMtime:
			src = favByTime(replies, Reply.LatestMtime)
		case PolicyCtime:
			src = favByTime(replies, func(r Reply) Timespec { return r.Ctime })
		case PolicyMajority:
			if len(replies) != 2 {
				src = gfidMajority(replies)
			}
			if src < 0 {
				return fail(ErrNoMajorityForGFID)
			}
		}
		if src < 0 {
			return fail(ErrNoFavoriteChild)
		}
	}
	// The arbiter's copy of a file is empty: keeping its gfid would
	// replace the data bricks' files with an empty one. afrkit refuses
	// it, by a command or a policy (GlusterFS's policy would take it).
	if replies[src].Arbiter && replies[src].Type == TypeRegular {
		return fail(ErrArbiterHoldsNoData)
	}
	return src, nil
}

// gfidMajority is afr_selfheal_gfid_mismatch_by_majority. Its vote only
// looks forward from i, and checks the threshold inside the inner loop.
func gfidMajority(replies []Reply) int {
	n := len(replies)
	for i, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		votes := 1
		for j := i + 1; j < n; j++ {
			if replies[j].Answered && replies[j].Exists && replies[j].GFID == r.GFID {
				votes++
			}
			if votes > n/2 {
				return i
			}
		}
	}
	return -1
}

// ResolveByMajority is `afrkit heal VOL split-brain majority` for one kind,
// Data or Metadata: versions[i] names what brick i holds (a content hash,
// or its owner, mode and xattrs), and the first brick whose version more
// than half the bricks share becomes the source. The entry must be in
// split-brain with every brick up, as for ResolveSplitBrain.
func ResolveByMajority(replies []Reply, kind Kind, versions []string, quorumCount int) (int, error) {
	fail := func(err error) (int, error) { return -1, &ResolveError{Kind: kind, Op: OpMajority, Err: err} }
	if kind != Data && kind != Metadata {
		return fail(ErrNotInSplitBrain)
	}
	if !allAnswered(replies) {
		return fail(ErrNotConnected)
	}
	if !FindDirection(replies, kind, quorumCount).SplitBrain {
		return fail(ErrNotInSplitBrain)
	}
	if src := sameOnAll(replies, kind); src >= 0 {
		return src, nil
	}
	if src := Majority(versions); src >= 0 {
		return src, nil
	}
	return fail(ErrNoMajority)
}

// Majority returns the first index whose value more than half of the
// values equal, or -1.
func Majority(versions []string) int {
	for i, v := range versions {
		votes := 0
		for _, w := range versions {
			if w == v {
				votes++
			}
		}
		if votes > len(versions)/2 {
			return i
		}
	}
	return -1
}
