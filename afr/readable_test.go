package afr

import (
	"fmt"
	"testing"
)

// TestReadable pins which copies a read may use (afr_replies_interpret):
// blamed copies never, a smaller unblamed copy of a settled file never,
// and none at all in split-brain; never the arbiter.
func TestReadable(t *testing.T) {
	file := func(size int64, pending ...Changelog) Reply {
		return Reply{Answered: true, Exists: true, Type: TypeRegular, Size: size, Pending: pending}
	}
	dir := func(pending ...Changelog) Reply {
		return Reply{Answered: true, Exists: true, Type: TypeDirectory, Pending: pending}
	}
	arbiter := func(r Reply) Reply { r.Arbiter = true; return r }
	var z Changelog
	down := Reply{}
	for _, c := range []struct {
		name    string
		replies []Reply
		kind    Kind
		settled bool
		want    string
	}{
		{"all clean", []Reply{file(3, z, z, z), file(3, z, z, z), file(3, z, z, z)}, Data, true, "[true true true]"},
		{"b2 blamed for data", []Reply{file(3, z, z, Changelog{1, 0, 0}), file(3, z, z, Changelog{1, 0, 0}), file(3, z, z, z)}, Data, true, "[true true false]"},
		{"b2 blamed for data, metadata still readable", []Reply{file(3, z, z, Changelog{1, 0, 0}), file(3, z, z, Changelog{1, 0, 0}), file(3, z, z, z)}, Metadata, true, "[true true true]"},
		{"self-blame makes a copy unreadable", []Reply{file(3, Changelog{1, 0, 0}, z), file(3, z, z)}, Data, true, "[false true]"},
		{"data split-brain", []Reply{file(3, z, Changelog{1, 0, 0}), file(4, Changelog{1, 0, 0}, z)}, Data, true, "[false false]"},
		{"smaller copy of a settled file", []Reply{file(3, z, z), file(4, z, z)}, Data, true, "[false true]"},
		{"smaller copy while writes are in flight", []Reply{file(3, z, z), file(4, z, z)}, Data, false, "[true true]"},
		{"down and missing copies", []Reply{down, {Answered: true}, file(3, z, z, z)}, Data, true, "[false false true]"},
		{"directory data reads the entry counter", []Reply{dir(z, Changelog{0, 0, 1}), dir(z, z)}, Data, true, "[true false]"},
		{"directory with a data mark only", []Reply{dir(z, Changelog{1, 0, 0}), dir(z, z)}, Data, true, "[true true]"},
		// tests/basic/afr/arbiter.t: the arbiter serves no reads, and its
		// empty copy accuses nobody of being small.
		{"the arbiter is never read", []Reply{file(3, z, z, z), file(3, z, z, z), arbiter(file(0, z, z, z))}, Data, true, "[true true false]"},
		{"nor its metadata", []Reply{file(3, z, z, z), file(3, z, z, z), arbiter(file(0, z, z, z))}, Metadata, true, "[true true false]"},
		{"only the arbiter good", []Reply{file(3, z, z, z), file(5, Changelog{1, 0, 0}, z, z), arbiter(file(0, Changelog{1, 0, 0}, Changelog{1, 0, 0}, z))}, Data, true, "[false false false]"},
	} {
		if got := fmt.Sprint(Readable(c.replies, c.kind, c.settled)); got != c.want {
			t.Errorf("%s: readable %s, want %s", c.name, got, c.want)
		}
	}
}
