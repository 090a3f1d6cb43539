// Package heal gathers what every brick of a replica set holds for an
// entry, asks package afr for a verdict, and heals.
//
// Gathering is read-only and takes no locks: it reads the bricks' xattrs
// directly, which is what makes afrkit's heal info cheap where GlusterFS's
// takes a lock cycle per entry per brick.
//
// The Engine heals the way GlusterFS's self-heal daemon does, offline: it
// crawls the bricks' indexes (or, for a full heal, every directory), heals
// data, metadata and entries from the source afr names, and clears the
// counters (undo-pending) only after a syncfs has made the sinks durable,
// sinks first and sources last. Whenever it must write to a sink that no
// counter blames yet, it first makes the source blame it, durably. So a
// crash at any point leaves counters that send the next run the same way.
//
// A split-brain is resolved only by a favorite-child policy or a command
// (SplitBrain). The losing copies are kept on their bricks under
// .glusterfs/afrkit/kept, outside the volume's namespace, and the decision
// is appended to the volume's History before any copy is overwritten; Undo
// puts the losers back.
package heal
