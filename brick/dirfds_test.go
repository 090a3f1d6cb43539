package brick

import "testing"

// TestOnlyFixedDirectoriesAreKept: the directories kept open are those
// nothing renames or removes; a kept or quarantined tree, which undo
// moves back into the volume, and one parent's entry-changes directory,
// which the index removes once empty, are resolved every time.
func TestOnlyFixedDirectoriesAreKept(t *testing.T) {
	for rel, want := range map[string]bool{
		".glusterfs/ab":                          true,
		".glusterfs/ab/cd":                       true,
		".glusterfs/indices":                     true,
		".glusterfs/indices/xattrop":             true,
		".glusterfs/indices/entry-changes":       true,
		".glusterfs/indices/entry-changes/00000": false,
		".glusterfs/ab/cd/0f8a5d3e-1b2c":         false,
		".glusterfs/afrkit/keep/1":               false,
		".glusterfs/afrkit":                      false,
		".glusterfs/unlink":                      false,
		".glusterfs/AB":                          false,
		"data/ab/cd":                             false,
		"":                                       false,
	} {
		if got := cacheable(rel); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", rel, got, want)
		}
	}
}
