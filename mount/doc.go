// Package mount serves an afrkit volume through FUSE (go-fuse), with AFR's
// write transaction: dirty before each fop, pending counters for the bricks
// that failed after. It comes in a later release; `afrkit mount` says so.
package mount
