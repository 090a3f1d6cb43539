package afr

// EmptyBrickMarks is the delta AFR adds, on the root of every other brick
// of the replica set, to the pending counters of a brick put in empty
// (replace-brick, reset-brick): the root's metadata and entry are blamed on
// the new brick, so self-heal copies the root's attributes and then every
// name under it. Under granular entry heal the data counter is blamed too:
// on a directory it says the entry heal must list every name, because no
// entry-changes index names what the new brick lacks.
// (_afr_handle_empty_brick_type in afr-inode-write.c.)
func EmptyBrickMarks(granularEntryHeal bool) Changelog {
	c := Changelog{}
	c[Metadata] = 1
	c[Entry] = 1
	if granularEntryHeal {
		c[Data] = 1
	}
	return c
}

// NewBrickDirty is the dirty counter a brick put in empty carries on its
// root: its entry is marked unsure, so it is never taken as the root's
// entry source even where no other brick's blame reached it. glusterd
// writes it on the new brick directly, before AFR blames the brick on the
// others (glusterd_handle_replicate_brick_ops, for reset-brick,
// replace-brick and an add-brick that raises the replica count).
func NewBrickDirty() Changelog {
	c := Changelog{}
	c[Entry] = 1
	return c
}
