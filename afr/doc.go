// Package afr is the pure decision core of afrkit: given what each brick of
// a replica set holds for one entry, it decides, exactly as GlusterFS's AFR
// (replicate) translator does, which copies are good, which must be
// healed, and whether a human has to choose.
//
// The package does no I/O, reads no clock and starts no goroutines. Callers
// read the xattrs and stat data of every brick into a []Reply, call
// FindDirection, Decide or HealInfo, and act on the returned value. Inputs
// are never modified. The code follows GlusterFS v10
// (xlators/cluster/afr/src/afr-self-heal-*.c, afr-common.c), quirks
// included, because afrkit must agree with a running GlusterFS about the
// same bricks.
//
// # Changelog
//
// Every write is a transaction. Before it, AFR adds 1 to the dirty counter
// (trusted.afr.dirty) of each brick it writes to; after it, every brick where
// the write succeeded adds 1 to trusted.afr.<VOL>-client-<j> for each brick
// j where it failed, and removes its own dirty mark. A counter is three
// big-endian int32s, one per Kind: data, metadata, entry. A brick that was
// down therefore ends up "blamed" by the bricks that were up, and a brick
// that crashed mid-write keeps a non-zero dirty counter.
//
// # Pending matrix
//
// For one kind, cell [i][j] is brick i's counter for brick j
// (Reply.Pending[j][kind]). Row i is what brick i knows went wrong elsewhere;
// the diagonal is a brick blaming itself, which only old (afr-v1) clients
// wrote. Any non-zero value counts, negative ones included, since GlusterFS
// only tests for non-zero.
//
// # Sources, sinks and witness
//
// A brick blamed by nobody is a source; a brick blamed by a source is a
// sink. A brick that blames itself is a "fool": its accusations are not
// counted, because it evidently did not finish its own transaction. When
// every brick is accused (cyclic blame, or a post-op that failed on several
// bricks), failure accounting still trusts, for data and metadata, any brick
// accused by fewer than the quorum count (QuorumCount): with replica 3 and
// quorum-type auto, a brick blamed by only one other. With quorum-type none,
// the replica-2 default, nobody qualifies. Sinks are computed before this
// accounting, so a source and a sink never coincide.
//
// The witness of a brick counts operations it saw that the others may not
// have: its dirty counter, and for a fool its own blame. When several
// sources remain, data heal prefers the biggest file, then the biggest
// witness, then the newest ctime (whole seconds, the later brick winning a
// tie), and heals from the first remaining source; metadata heal takes the
// first source with a witness; entry heal refuses to choose and merges.
//
// # Split-brain
//
// With no source left, every brick is a sink: split-brain (PFLAG_SBRAIN).
// Data and metadata heals then fail with EIO unless every brick is up and
// either the copies do not really differ (all files empty; metadata equal
// everywhere, which is checked before, and so shadows, the directory-times
// rule), a CLI operation names a source, or cluster.favorite-child-policy
// picks one. Entry split-brains are never blocked: the directory is merged
// conservatively, creating missing names and deleting nothing, which is why
// deleted files can reappear. A name whose bricks hold different gfids (gfid
// split-brain) or different file types is a separate problem, solved only by
// a policy or the CLI for gfids, and never for types; heal info does not
// count it as split-brain, because it looks entries up by gfid.
//
// If any brick is down, or lacks the entry, nothing is decided (GlusterFS
// returns ENOTCONN); the entry is reported as needing heal, never as
// split-brain. A missing entry is created by the parent directory's entry
// heal first.
//
// # Policies
//
// favorite-child-policy (FavoriteChild) applies to data and metadata
// split-brains and gfid split-brains: size picks the unique largest file and
// never a size of 0 or a directory; mtime and ctime pick the strictly newest
// time, keeping the lower brick on an exact tie; majority picks the first
// brick whose (mtime seconds, size) is shared by more than half the bricks
// (for gfids it compares gfids and is disabled for replica 2). The CLI
// (ResolveSplitBrain, ResolveGFIDSplitBrain) offers bigger-file,
// latest-mtime and source-brick, and fails with GlusterFS's own messages,
// such as "No bigger file" or "Use source-brick option to heal metadata
// split-brain"; those are the sentinel errors of this package.
package afr
