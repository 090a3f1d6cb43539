package afr

import (
	"fmt"
	"strings"
)

// join glues non-empty clauses with "; ".
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// list names the set bricks in English: "b0", "b0 and b1", "b0, b1 and b2".
func list(set []bool, names []string) string {
	var s []string
	for i, v := range set {
		if v {
			s = append(s, names[i])
		}
	}
	switch len(s) {
	case 0:
		return "nobody"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func isAre(set []bool) string {
	if count(set) == 1 {
		return "is"
	}
	return "are"
}

func verb(set []bool, one, many string) string {
	if count(set) == 1 {
		return one
	}
	return many
}

// absent says which bricks are down or lack the entry.
func absent(replies []Reply, names []string) string {
	down := make([]bool, len(replies))
	missing := make([]bool, len(replies))
	for i, r := range replies {
		down[i] = !r.Answered
		missing[i] = r.Answered && !r.Exists
	}
	var parts []string
	if count(down) > 0 {
		parts = append(parts, list(down, names)+" "+verb(down, "did", "did")+" not answer")
	}
	if count(missing) > 0 {
		parts = append(parts, list(missing, names)+" "+verb(missing, "lacks", "lack")+" the entry (the parent directory's entry heal creates it first)")
	}
	return strings.Join(parts, " and ")
}

// describeBlame renders the pending matrix and dirty counters of one kind
// in words, e.g. "b0 and b2 blame b1; b1 blames b0 and b2".
func describeBlame(replies []Reply, d Direction, names []string) string {
	n := len(replies)
	targets := make([][]bool, n)
	for i := 0; i < n; i++ {
		targets[i] = make([]bool, n)
		for j := 0; j < n; j++ {
			targets[i][j] = i != j && cell(replies, i, j, d.Kind) != 0
		}
	}
	var parts []string
	done := make([]bool, n)
	for i := 0; i < n; i++ {
		if done[i] || count(targets[i]) == 0 || cell(replies, i, i, d.Kind) != 0 {
			continue
		}
		group := make([]bool, n)
		for k := i; k < n; k++ {
			if !done[k] && cell(replies, k, k, d.Kind) == 0 && equal(targets[k], targets[i]) {
				group[k], done[k] = true, true
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", list(group, names), verb(group, "blames", "blame"), list(targets[i], names)))
	}
	for i := 0; i < n; i++ {
		if cell(replies, i, i, d.Kind) == 0 {
			continue
		}
		if count(targets[i]) == 0 {
			parts = append(parts, fmt.Sprintf("%s blames itself", names[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%s blames itself and %s, so its blame does not count", names[i], list(targets[i], names)))
		}
	}
	dirty := make([]bool, n)
	for i, r := range replies {
		dirty[i] = dirtyOf(r, d.Kind) != 0
	}
	if count(dirty) > 0 {
		s := fmt.Sprintf("%s %s dirty (%s)", list(dirty, names), isAre(dirty), d.Kind)
		if len(parts) == 0 {
			s += " but nobody blames anyone"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "nobody blames anyone"
	}
	return strings.Join(parts, "; ")
}

// splitBrainWords explains why there is no source.
func splitBrainWords(d Direction, kind Kind, quorum int, names []string) string {
	s := "every brick is accused, so none can be a source: split-brain"
	if kind == Entry {
		return s
	}
	if quorum <= 0 {
		return s + " (quorum-type none: no brick is trusted for being accused less than the others)"
	}
	return s + fmt.Sprintf(" (no brick is accused by fewer than %d, the quorum count)", quorum)
}

// accountingWords explains sources promoted by post-op failure accounting,
// or nothing when sources came straight from the matrix.
func accountingWords(d Direction, quorum int, names []string) string {
	for _, a := range d.Accused {
		if a == 0 {
			return ""
		}
	}
	return fmt.Sprintf("every brick is accused, but %s %s accused by fewer than %d (the quorum count), so %s trusted",
		list(d.Sources, names), isAre(d.Sources), quorum, verb(d.Sources, "it is", "they are"))
}

// Summary is the one-line outcome, e.g. "heal b0 -> b1".
func (kv KindVerdict) Summary(names []string) string {
	switch {
	case !kv.Applies:
		return "not applicable"
	case !kv.Checked:
		return "nothing to heal"
	case !kv.Direction.AllAnswered:
		return "cannot decide yet"
	case kv.Unresolved:
		return "split-brain, no source"
	case kv.Blocked:
		return "cannot heal: " + kv.BlockedBecause.String()
	case kv.Merge && len(kv.BlockedBy) > 0:
		return "split-brain: the conservative merge into " + list(kv.Sinks, names) + " stops at different files under one name"
	case kv.Merge:
		return "conservative merge into " + list(kv.Sinks, names)
	case !kv.NeedsHeal:
		return "nothing to heal"
	}
	s := fmt.Sprintf("heal %s -> %s", names[kv.Source], list(kv.Sinks, names))
	if kv.Resolution != ResolvedNone {
		s = fmt.Sprintf("split-brain resolved (%s): %s", kv.Resolution, s)
	}
	return s
}

// String renders the verdict for people: one line per kind with its
// outcome and reason. The scenario tests compare against this text.
func (v Verdict) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s", v.Type, strings.Join(v.Names, " "))
	if count(v.Down) > 0 {
		fmt.Fprintf(&b, "; down: %s", list(v.Down, v.Names))
	}
	if count(v.Missing) > 0 {
		fmt.Fprintf(&b, "; missing on: %s", list(v.Missing, v.Names))
	}
	b.WriteString("\n")
	switch {
	case v.TypeMismatch:
		fmt.Fprintf(&b, "name: type mismatch\n  why: %s\n", v.GFIDReason)
	case v.GFIDMismatch && v.GFIDSource >= 0:
		fmt.Fprintf(&b, "name: gfid split-brain resolved: keep %s\n  why: %s\n", v.Names[v.GFIDSource], v.GFIDReason)
	case v.GFIDMismatch:
		fmt.Fprintf(&b, "name: gfid split-brain, no source\n  why: %s\n", v.GFIDReason)
	}
	for _, k := range Kinds {
		kv := v.Kind(k)
		fmt.Fprintf(&b, "%s: %s\n", k, kv.Summary(v.Names))
		if kv.Reason != "" {
			fmt.Fprintf(&b, "  why: %s\n", kv.Reason)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Reason is the short explanation of what is wrong, if anything, naming
// bricks by their names.
func (v Verdict) Reason() string {
	var parts []string
	if v.GFIDMismatch || v.TypeMismatch {
		parts = append(parts, v.GFIDReason)
	}
	for _, k := range Kinds {
		kv := v.Kind(k)
		if kv.NeedsHeal {
			parts = append(parts, fmt.Sprintf("%s: %s (%s)", k, kv.Summary(v.Names), kv.Reason))
		}
	}
	if len(parts) == 0 {
		return "nothing to heal"
	}
	return strings.Join(parts, "\n")
}
