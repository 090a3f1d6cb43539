package afr

// Readable is which bricks a read of kind may be served from
// (afr_replies_interpret): those that answered with the entry and that no
// answering brick blames for kind, themselves included. A directory's
// "data" is its entry list, read from its entry counters. For a regular
// file, when settled is true (no write transaction is in flight on it),
// a copy smaller than the biggest unblamed copy is not readable either
// (afr_accuse_smallfiles). No readable brick with every brick answering
// means split-brain: a read then fails with EIO. The arbiter of a
// replica 3 arbiter 1 set is never readable, for data or metadata
// (afr_readables_fill), and is not accused of being small.
func Readable(replies []Reply, kind Kind, settled bool) []bool {
	n := len(replies)
	readable := make([]bool, n)
	slot := kind
	if kind == Data && typeOf(replies) == TypeDirectory {
		slot = Entry
	}
	accused := make([]bool, n)
	for _, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		for j := 0; j < n && j < len(r.Pending); j++ {
			if r.Pending[j][slot] != 0 {
				accused[j] = true
			}
		}
	}
	if kind == Data && settled && typeOf(replies) == TypeRegular {
		var biggest int64
		for i, r := range replies {
			if r.Answered && r.Exists && !accused[i] && r.Size > biggest {
				biggest = r.Size
			}
		}
		for i, r := range replies {
			if r.Answered && r.Exists && !r.Arbiter && r.Size < biggest {
				accused[i] = true
			}
		}
	}
	for i, r := range replies {
		readable[i] = r.Answered && r.Exists && !accused[i] && !r.Arbiter
	}
	return readable
}
