// Package heal gathers what every brick of a replica set holds for an
// entry, asks package afr for a verdict, and (in a later release) builds and
// executes heal plans.
//
// Gathering is read-only and takes no locks: it reads the bricks' xattrs
// directly, which is what makes afrkit's heal info cheap where GlusterFS's
// takes a lock cycle per entry per brick.
package heal
