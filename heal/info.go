package heal

import (
	"context"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

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
	// Path is the entry's volume path when InfoOptions.Paths is set and
	// some brick resolves it, "" otherwise.
	Path string
	// Replies are what each brick of the set holds; Errs the read errors.
	// Both are nil for an entry InfoOptions.Memo already knew.
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

// InfoOptions tune Info.
type InfoOptions struct {
	// QuorumCount is afr.QuorumCount for the volume.
	QuorumCount int
	// Paths resolves every listed entry's path into InfoEntry.Path.
	// Summaries leave it off: resolving a path costs a gfid2path read or a
	// walk up the directory handles per entry.
	Paths bool
	// Full gathers every fact of each brick's copy (times, xattrs), as
	// afr.Decide needs; without it InfoEntry.Replies hold only what
	// afr.HealInfo reads.
	Full bool
	// Workers is how many entries are gathered at once; 0 picks a default.
	// Gathering is system calls on several bricks (stat, getxattr,
	// readlink), which overlap well even on few cores, and round trips to
	// the bricks read over the network, which overlap better still.
	Workers int
	// Memo, when not nil, remembers each gfid's status and path across
	// the Info calls of one report: the bricks of a set list mostly the
	// same gfids, and an entry is then gathered once, not once per brick
	// that lists it, which for a brick on another host is several round
	// trips. Not with Full, whose replies are per call.
	Memo *InfoMemo
}

// InfoMemo is what Info learned of each gfid during one report. It is safe
// for concurrent use. It holds a few dozen bytes per gfid, and at most
// memoLimit gfids: past that, entries are gathered again.
type InfoMemo struct {
	mu sync.Mutex
	m  map[afr.GFID]memoEntry
}

// memoLimit bounds an InfoMemo: a million entries are some 60 MB.
const memoLimit = 1 << 20

type memoEntry struct {
	status afr.HealStatus
	exists bool
	path   string
}

// NewInfoMemo returns an empty memo.
func NewInfoMemo() *InfoMemo { return &InfoMemo{m: map[afr.GFID]memoEntry{}} }

func (m *InfoMemo) get(g afr.GFID) (memoEntry, bool) {
	if m == nil {
		return memoEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[g]
	return e, ok
}

func (m *InfoMemo) put(g afr.GFID, e memoEntry) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) < memoLimit {
		m.m[g] = e
	}
}

// remoteWorkers is Info's default number of workers for a set with bricks
// read over the network: their round trips, not this host's cores, bound
// the gathering.
const remoteWorkers = 32

// batchSize is how many index entries travel together between the walk,
// the workers and the caller: per-entry channel hand-offs would cost more
// than gathering an entry from a warm cache.
const batchSize = 64

// Info walks brick i's index the way glfsheal does for `heal info`
// (glfsh_print_pending_heals): xattrop first, then dirty. For each gfid it
// gathers every brick's reply and classifies it without locks. It calls
// list for every entry GlusterFS would print, and skip (if not nil) for the
// rest: names that are not gfids, gfids no brick has any more (glfsheal
// purges those), entries whose status is no-heal, and dirty entries whose
// status carries "-pending", which xattrop already counted.
//
// Entries are gathered by several workers at once, but the callbacks run in
// the caller's goroutine and in index order; a non-nil return stops the
// walk and is returned. At most a few batches per worker are in flight, so
// memory does not grow with the index.
func (rs *ReplicaSet) Info(i int, opts InfoOptions, list func(InfoEntry) error, skip func(Skipped) error) error {
	if skip == nil {
		skip = func(Skipped) error { return nil }
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
		if rs.hasRemote() {
			workers = max(workers, remoteWorkers)
		}
	}
	type item struct {
		sub index.Subdir
		e   index.Entry
	}
	type result struct {
		listed  bool
		entry   InfoEntry
		skipped Skipped
	}
	type job struct {
		items []item
		done  chan []result
	}
	g, ctx := errgroup.WithContext(context.Background())
	jobs := make(chan job)
	// order carries each batch's result channel in index order, so the
	// caller sees results in the order the index was read.
	order := make(chan chan []result, 2*workers)
	g.Go(func() error {
		defer close(jobs)
		defer close(order)
		var batch []item
		send := func() error {
			j := job{items: batch, done: make(chan []result, 1)}
			batch = nil
			select {
			case order <- j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- j:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := rs.Pending(i, func(sub index.Subdir, e index.Entry) error {
			batch = append(batch, item{sub, e})
			if len(batch) == batchSize {
				return send()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = send()
		}
		return err
	})
	for w := 0; w < workers; w++ {
		g.Go(func() error {
			for j := range jobs {
				out := make([]result, len(j.items))
				for k, it := range j.items {
					out[k].listed, out[k].entry, out[k].skipped = rs.classify(it.sub, it.e, opts)
				}
				j.done <- out
			}
			return nil
		})
	}
	g.Go(func() error {
		for done := range order {
			var results []result
			select {
			case results = <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
			for _, r := range results {
				var err error
				if r.listed {
					err = list(r.entry)
				} else {
					err = skip(r.skipped)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// classify gathers one index entry and decides whether heal info lists it.
func (rs *ReplicaSet) classify(sub index.Subdir, e index.Entry, opts InfoOptions) (bool, InfoEntry, Skipped) {
	if e.Err != nil {
		return false, InfoEntry{}, Skipped{Name: e.Name, Sub: sub, Stale: true, Reason: "not a gfid"}
	}
	memo := opts.Memo
	if opts.Full {
		memo = nil
	}
	var replies []afr.Reply
	var errs []error
	m, known := memo.get(e.GFID)
	if !known {
		gather := rs.GatherCounters
		if opts.Full {
			gather = rs.Gather
		}
		replies, errs = gather(e.GFID)
		m.status, m.exists = healStatus(replies, opts.QuorumCount)
		if m.exists && m.status.Listed() && opts.Paths {
			m.path = rs.PathOf(e.GFID)
		}
		memo.put(e.GFID, m)
	}
	st, exists := m.status, m.exists
	if !exists {
		return false, InfoEntry{}, Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Stale: true, Reason: "no brick has this gfid"}
	}
	if !st.Listed() {
		return false, InfoEntry{}, Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Stale: true, Reason: "nothing to heal: every counter is zero and the copies agree"}
	}
	if countedElsewhere(sub, st) {
		return false, InfoEntry{}, Skipped{GFID: e.GFID, Name: e.Name, Sub: sub, Reason: "counted from xattrop"}
	}
	return true, InfoEntry{GFID: e.GFID, Sub: sub, Status: st, Path: m.path, Replies: replies, Errs: errs}, Skipped{}
}

// healStatus is heal info's status of an entry from its copies' replies,
// and whether any brick has it at all.
func healStatus(replies []afr.Reply, quorumCount int) (afr.HealStatus, bool) {
	exists := false
	for _, r := range replies {
		exists = exists || (r.Answered && r.Exists)
	}
	if !exists {
		return afr.NoHeal, false
	}
	return afr.HealInfo(replies, quorumCount), true
}

// countedElsewhere reports whether heal info leaves out an entry of sub
// with status st: a dirty entry with counters set is listed from
// xattrop, as glfsheal does.
// ListedFrom reports whether heal info lists an entry of status st that a
// brick's index holds in sub: a dirty entry that xattrop counts (a
// pending one) is not listed from dirty.
func ListedFrom(sub index.Subdir, st afr.HealStatus) bool { return !countedElsewhere(sub, st) }

func countedElsewhere(sub index.Subdir, st afr.HealStatus) bool {
	return sub == index.Dirty && strings.HasSuffix(st.String(), "-pending")
}
