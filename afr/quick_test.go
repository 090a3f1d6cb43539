package afr

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
)

// replicaSet is a random replica set for testing/quick. Counters are drawn
// mostly from zero so that sources, sinks and split-brains all occur.
type replicaSet struct {
	Replies []Reply
	Kind    Kind
	Quorum  int
	Perm    []int
}

func (replicaSet) Generate(r *rand.Rand, _ int) reflect.Value {
	n := 1 + r.Intn(5)
	vals := []int32{0, 0, 0, 0, 1, 1, 2, 0x20, -1}
	s := replicaSet{Replies: make([]Reply, n), Kind: Kinds[r.Intn(3)], Quorum: r.Intn(n + 2), Perm: r.Perm(n)}
	for i := range s.Replies {
		rep := Reply{Name: string(rune('a' + i)), Answered: r.Intn(12) != 0, Exists: r.Intn(12) != 0,
			Type: TypeRegular, GFID: GFID{15: 1}, Size: int64(r.Intn(3)), Pending: make([]Changelog, n)}
		for j := range rep.Pending {
			for k := range rep.Pending[j] {
				rep.Pending[j][k] = vals[r.Intn(len(vals))]
			}
		}
		for k := range rep.Dirty {
			rep.Dirty[k] = vals[r.Intn(len(vals))]
		}
		s.Replies[i] = rep
	}
	return reflect.ValueOf(s)
}

// naiveDirection restates the rules of afr_selfheal_find_direction as set
// definitions, one field at a time, with no shared intermediate state.
func naiveDirection(replies []Reply, kind Kind, quorum int) Direction {
	n := len(replies)
	m := func(i, j int) int64 {
		r := replies[i]
		if !r.Answered || !r.Exists {
			return 0
		}
		return int64(r.Pending[j][kind])
	}
	d := Direction{Kind: kind, Sources: make([]bool, n), Sinks: make([]bool, n), Witness: make([]uint64, n),
		Accused: make([]int, n), SelfAccused: make([]bool, n), Blames: make([]int, n)}
	up := 0
	for i := 0; i < n; i++ {
		if replies[i].Answered && replies[i].Exists {
			up++
		}
		for j := 0; j < n; j++ {
			d.Pending = d.Pending || m(i, j) != 0
		}
	}
	if up < n {
		return d
	}
	d.AllAnswered = true
	fool := func(i int) bool { return m(i, i) != 0 }
	accused := func(j int) int {
		c := 0
		for i := 0; i < n; i++ {
			if !fool(i) && m(i, j) != 0 {
				c++
			}
		}
		return c
	}
	blames := func(i int) int {
		c := 0
		for j := 0; j < n; j++ {
			if j != i && m(i, j) != 0 {
				c++
			}
		}
		return c
	}
	anyBlames := false
	for i := 0; i < n; i++ {
		d.SelfAccused[i], d.Accused[i], d.Blames[i] = fool(i), accused(i), blames(i)
		anyBlames = anyBlames || blames(i) > 0
	}
	innocent := func(i int) bool { return accused(i) == 0 }
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if innocent(i) && !fool(i) && m(i, j) != 0 {
				d.Sinks[j] = true
			}
		}
	}
	none := true
	for i := 0; i < n; i++ {
		d.Sources[i] = innocent(i)
		none = none && !innocent(i)
	}
	if none && kind != Entry {
		for i := 0; i < n; i++ {
			d.Sources[i] = accused(i) < quorum
		}
	}
	if count(d.Sources) == 0 {
		for i := range d.Sinks {
			d.Sinks[i] = true
		}
		d.SplitBrain = true
	}
	for i := 0; i < n; i++ {
		var w int64
		if fool(i) {
			for j := 0; j < n; j++ {
				if j != i {
					w += m(i, j)
				}
			}
			if !anyBlames || blames(i) > 0 {
				w += m(i, i)
			}
		}
		w += int64(replies[i].Dirty[kind])
		d.Witness[i] = uint64(w)
	}
	return d
}

func deepCopy(replies []Reply) []Reply {
	out := make([]Reply, len(replies))
	for i, r := range replies {
		r.Pending = append([]Changelog(nil), r.Pending...)
		out[i] = r
	}
	return out
}

func TestFindDirectionMatchesNaive(t *testing.T) {
	f := func(s replicaSet) bool {
		before := deepCopy(s.Replies)
		got := FindDirection(s.Replies, s.Kind, s.Quorum)
		if !reflect.DeepEqual(s.Replies, before) {
			t.Errorf("FindDirection modified its input")
			return false
		}
		want := naiveDirection(s.Replies, s.Kind, s.Quorum)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

// GlusterFS never lets a brick be both a source and a sink: sinks come only
// from the rows of sources found before failure accounting, and those rows
// only blame accused bricks; accounting only runs when there were no such
// sources, hence no sinks.
func TestFindDirectionInvariants(t *testing.T) {
	f := func(s replicaSet) bool {
		d := FindDirection(s.Replies, s.Kind, s.Quorum)
		for i := range d.Sources {
			if d.Sources[i] && d.Sinks[i] {
				t.Errorf("brick %d is both source and sink: %+v", i, d)
				return false
			}
		}
		if d.AllAnswered && count(d.Sources) == 0 && !d.SplitBrain {
			t.Errorf("no source but no split-brain: %+v", d)
			return false
		}
		if d.SplitBrain && (!d.Pending || !d.AllAnswered) {
			t.Errorf("split-brain without pending counters or with a brick missing: %+v", d)
			return false
		}
		if !d.AllAnswered && (count(d.Sources) != 0 || count(d.Sinks) != 0 || d.SplitBrain) {
			t.Errorf("ENOTCONN must decide nothing: %+v", d)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

// permute moves brick i to position p[i], renumbering the pending keys the
// same way, as if the bricks had been listed in another order.
func permute(replies []Reply, p []int) []Reply {
	out := make([]Reply, len(replies))
	for i, r := range replies {
		r.Pending = make([]Changelog, len(replies))
		for j := range replies {
			r.Pending[p[j]] = replies[i].Pending[j]
		}
		out[p[i]] = r
	}
	return out
}

func TestFindDirectionPermutation(t *testing.T) {
	f := func(s replicaSet) bool {
		d := FindDirection(s.Replies, s.Kind, s.Quorum)
		e := FindDirection(permute(s.Replies, s.Perm), s.Kind, s.Quorum)
		if d.Pending != e.Pending || d.SplitBrain != e.SplitBrain || d.AllAnswered != e.AllAnswered {
			t.Errorf("flags differ after permutation %v", s.Perm)
			return false
		}
		for i, pi := range s.Perm {
			if d.Sources[i] != e.Sources[pi] || d.Sinks[i] != e.Sinks[pi] || d.Witness[i] != e.Witness[pi] ||
				d.Accused[i] != e.Accused[pi] || d.SelfAccused[i] != e.SelfAccused[pi] || d.Blames[i] != e.Blames[pi] {
				t.Errorf("brick %d -> %d differs after permutation %v:\n%+v\n%+v", i, pi, s.Perm, d, e)
				return false
			}
		}
		// With one gfid and one type, heal info ignores brick order.
		if HealInfo(s.Replies, s.Quorum) != HealInfo(permute(s.Replies, s.Perm), s.Quorum) {
			t.Errorf("heal info differs after permutation %v", s.Perm)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

func TestDecideDoesNotMutate(t *testing.T) {
	f := func(s replicaSet) bool {
		before := deepCopy(s.Replies)
		Decide(s.Replies, Options{QuorumCount: s.Quorum, FavoriteChild: PolicyMtime})
		HealInfo(s.Replies, s.Quorum)
		return reflect.DeepEqual(s.Replies, before)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestQuorumCount(t *testing.T) {
	for _, tc := range []struct {
		replica int
		qtype   string
		fixed   int
		want    int
	}{
		{2, "", 0, 0},      // replica 2 defaults to none
		{3, "", 0, 2},      // more than 2 defaults to auto
		{4, "", 0, 3},      // auto is n/2+1 here, no even-count relaxation
		{2, "auto", 0, 2},  // explicit auto on replica 2
		{3, "none", 5, 0},  // none overrides quorum-count
		{2, "fixed", 1, 1}, // split-brain-favorite-child-policy*.t
		{3, "auto", 1, 2},  // auto overrides quorum-count
	} {
		if got := QuorumCount(tc.replica, tc.qtype, tc.fixed); got != tc.want {
			t.Errorf("QuorumCount(%d, %q, %d) = %d, want %d", tc.replica, tc.qtype, tc.fixed, got, tc.want)
		}
	}
}

func TestHealStatusWords(t *testing.T) {
	want := []string{"no-heal", "heal", "heal-pending", "split-brain", "split-brain-pending", "possibly-healing", "possibly-healing-pending"}
	for i, w := range want {
		if got := HealStatus(i).String(); got != w {
			t.Errorf("HealStatus(%d) = %q, want %q", i, got, w)
		}
	}
}

func TestResolveErrorsAreSentinels(t *testing.T) {
	replies := []Reply{
		{Name: "b0", Answered: true, Exists: true, Size: 8, Pending: []Changelog{{}, {1}}},
		{Name: "b1", Answered: true, Exists: true, Size: 8, Pending: []Changelog{{1}, {}}},
	}
	_, err := ResolveSplitBrain(replies, Data, OpBiggerFile, -1, 0)
	var re *ResolveError
	if !errors.Is(err, ErrNoBiggerFile) || !errors.As(err, &re) || re.Message() != "No bigger file" {
		t.Fatalf("got %v, want ErrNoBiggerFile with GlusterFS's message", err)
	}
}

// TestBlamesAreTheMatrixCells checks Blames against FindDirection's own
// reading of the matrix: a brick blames another exactly when a cell the
// direction counts is non-zero.
func TestBlamesAreTheMatrixCells(t *testing.T) {
	f := func(s replicaSet) bool {
		replies := s.Replies
		got := map[[3]int]int32{}
		for _, b := range Blames(replies) {
			for k := range Kinds {
				got[[3]int{b.From, b.To, k}] = b.Changelog[k]
			}
			if b.Changelog.IsZero() {
				return false
			}
		}
		for i := range replies {
			for j := range replies {
				for k, kind := range Kinds {
					if got[[3]int{i, j, k}] != cell(replies, i, j, kind) {
						return false
					}
				}
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}
