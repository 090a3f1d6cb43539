package afr

import (
	"fmt"
	"sort"
	"strings"
)

// MergeBlockers returns, sorted, the names a directory's entry heal cannot
// heal when it is a conservative merge (no brick is the directory's entry
// source): the names whose copies are different files, a gfid split-brain
// that no favorite-child-policy resolves or a type mismatch. GlusterFS's
// entry self-heal fails such a name with EIO
// (afr_selfheal_detect_gfid_and_type_mismatch, with no source to prefer),
// so the directory keeps its counters, and heal info lists it in
// split-brain, until the name is resolved. With an entry source the
// directory is not blocked: the source's copy replaces the sinks'.
// children are the verdicts of the directory's names, by name.
func MergeBlockers(dir Verdict, children map[string]Verdict) []string {
	if !dir.Entry.Merge {
		return nil
	}
	var out []string
	for name, v := range children {
		if v.TypeMismatch || (v.GFIDMismatch && v.GFIDSource < 0) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// BlockMerge records on v, a directory's verdict, the names that stop
// its conservative merge (MergeBlockers): its entry outcome becomes a
// split-brain that those names keep.
func (v *Verdict) BlockMerge(names []string) {
	if len(names) == 0 || !v.Entry.Merge {
		return
	}
	v.Entry.BlockedBy = names
	shown := names
	more := ""
	if len(shown) > 3 {
		shown, more = shown[:3], fmt.Sprintf(" and %d more", len(names)-3)
	}
	v.Entry.Reason += fmt.Sprintf("; but %s%s %s different files on the bricks (gfid or type split-brain), which no merge joins: the other names are merged, and the directory stays in split-brain until %s resolved",
		strings.Join(shown, ", "), more, isAreN(len(names)), itThey(len(names)))
}

func isAreN(n int) string {
	if n == 1 {
		return "is two"
	}
	return "are each"
}

func itThey(n int) string {
	if n == 1 {
		return "it is"
	}
	return "they are"
}
