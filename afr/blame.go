package afr

// Blame is one non-zero cell of a replica set's pending matrix: what brick
// From's changelog holds against brick To, per kind. From == To is a brick
// blaming itself (a "fool" when the others blame it too).
type Blame struct {
	From, To  int
	Changelog Changelog
}

// Blames lists the non-zero cells of the pending matrix, row by row, read
// as GlusterFS reads them: only bricks that answered and have the entry
// count, and only the first len(replies) keys of each.
func Blames(replies []Reply) []Blame {
	var out []Blame
	for i, r := range replies {
		if !r.Answered || !r.Exists {
			continue
		}
		for j, c := range r.Pending {
			if j < len(replies) && !c.IsZero() {
				out = append(out, Blame{From: i, To: j, Changelog: c})
			}
		}
	}
	return out
}
