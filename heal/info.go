package heal

import (
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/index"
)

// InfoEntry is one entry heal info lists for a brick.
type InfoEntry struct {
	GFID afr.GFID
	// Sub is the index directory the entry was found in.
	Sub index.Subdir
	// Status is the heal-info status GlusterFS would report.
	Status afr.HealStatus
	// Replies are what each brick of the set holds; Errs the read errors.
	Replies []afr.Reply
	Errs    []error
}

// Skipped says why an index entry was not listed.
type Skipped struct {
	GFID afr.GFID
	Name string
	Sub  index.Subdir
	// Stale is set for an index entry that points at nothing to heal: a
	// name that is not a gfid, a gfid no brick has, or a copy whose
	// counters are all zero. GlusterFS's index translator would drop it on
	// its next crawl; heal info only reports it, because it never writes.
	Stale  bool
	Reason string
}

// Info walks brick i's index the way glfsheal does for `heal info`
// (glfsh_print_pending_heals): xattrop first, then dirty. For each gfid it
// gathers every brick's reply and classifies it without locks. It calls
// list for every entry GlusterFS would print, and skip (if not nil) for the
// rest: names that are not gfids, gfids no brick has any more (glfsheal
// purges those), entries whose status is no-heal, and dirty entries whose
// status carries "-pending", which xattrop already counted. Both callbacks
// run in the caller's goroutine; a non-nil return stops the walk.
func (rs *ReplicaSet) Info(i int, quorumCount int, list func(InfoEntry) error, skip func(Skipped) error) error {
	if skip == nil {
		skip = func(Skipped) error { return nil }
	}
	return rs.Pending(i, func(sub index.Subdir, e index.Entry) error {
		if e.Err != nil {
			return skip(Skipped{Name: e.Name, Sub: sub, Stale: true, Reason: "not a gfid"})
		}
		replies, errs := rs.Gather(e.GFID)
		exists := false
		for _, r := range replies {
			exists = exists || (r.Answered && r.Exists)
		}
		if !exists {
			return skip(Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Stale: true, Reason: "no brick has this gfid"})
		}
		st := afr.HealInfo(replies, quorumCount)
		if !st.Listed() {
			return skip(Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Stale: true, Reason: "nothing to heal: every counter is zero and the copies agree"})
		}
		if sub == index.Dirty && strings.HasSuffix(st.String(), "-pending") {
			return skip(Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Reason: "counted from xattrop"})
		}
		return list(InfoEntry{GFID: e.GFID, Sub: sub, Status: st, Replies: replies, Errs: errs})
	})
}
