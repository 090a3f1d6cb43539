package heal

import (
	"sync"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/index"
)

// listing remembers which xattrop and dirty entries of a replica set's
// indexes can exist during a pass: those the pass's candidates were listed
// from, and those this process has added since. Committing a healed entry
// removes its index entries from every brick whose counters are clear, and
// most of them were never there (a sink's, or the dirty entry of a file
// that only has pending counters): three in four of those unlinks failed
// with ENOENT. Nothing else adds entries while a heal runs (the bricks are
// offline and the heal lock is held), so an entry neither listed nor added
// is absent, and its removal is skipped.
type listing struct {
	mu sync.Mutex
	// bits of a gfid: 1<<(2*i) for brick i's xattrop, 1<<(2*i+1) for its
	// dirty.
	bits map[afr.GFID]uint64
}

// maxListedBricks is how many bricks' entries the bits of a listing hold.
const maxListedBricks = 32

// listingBit is brick i's bit for sub; zero past maxListedBricks (whose
// listings newListing does not make).
func listingBit(i int, sub index.Subdir) uint64 {
	if i >= maxListedBricks {
		return 0
	}
	if sub == index.Dirty {
		return 1 << (2*i + 1)
	}
	return 1 << (2 * i)
}

// mark records that brick i's sub may hold g.
func (l *listing) mark(i int, sub index.Subdir, g afr.GFID) {
	l.mu.Lock()
	l.bits[g] |= listingBit(i, sub)
	l.mu.Unlock()
}

// mayHave reports whether brick i's sub may hold g: always, without a
// listing (outside a pass that listed its candidates, as in a full heal).
func (l *listing) mayHave(i int, sub index.Subdir, g afr.GFID) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bits[g]&listingBit(i, sub) != 0
}

// newListing returns the listing of entries found in rs's indexes (bits
// by gfid, see listing), or nil when rs has more bricks than a listing can
// tell apart.
func newListing(rs *ReplicaSet, found map[afr.GFID]uint64) *listing {
	if len(rs.Bricks) > maxListedBricks {
		return nil
	}
	return &listing{bits: found}
}

// addIndex adds g to brick i's sub, and to the pass's listing: first, so
// that the entry is never there unlisted.
func (rs *ReplicaSet) addIndex(i int, sub index.Subdir, g afr.GFID) error {
	if l := rs.listed(); l != nil {
		l.mark(i, sub, g)
	}
	return rs.Indexes[i].Add(sub, g)
}

// listed is the listing of the pass running, if any.
func (rs *ReplicaSet) listed() *listing {
	rs.listingMu.Lock()
	defer rs.listingMu.Unlock()
	return rs.listing
}

// setListing makes l the listing of the pass starting (nil: none).
func (rs *ReplicaSet) setListing(l *listing) {
	rs.listingMu.Lock()
	rs.listing = l
	rs.listingMu.Unlock()
}
