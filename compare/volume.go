package compare

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
)

// VolumeTree is a replicated volume compared as a tree, read from its
// bricks: its namespace is what its replica sets hold (DHT's link files
// left out), and a file is read from a copy AFR would read, never from a
// blamed copy or the arbiter. It reads a started volume's bricks as heal
// info does, without locks: a file written meanwhile may compare as
// different.
type VolumeTree struct {
	sets []*heal.ReplicaSet
}

// OpenVolume opens v's bricks as a tree, those on other hosts as opts
// says; Close lets them go.
func OpenVolume(v *volume.Volume, opts heal.OpenOptions) *VolumeTree {
	return &VolumeTree{sets: heal.OpenReplicaSets(v, opts)}
}

// Close closes the bricks.
func (t *VolumeTree) Close() {
	for _, rs := range t.sets {
		rs.Close()
	}
}

// ErrNoCopy is a name whose copies give no content to read: in
// split-brain, or on no brick that could be read.
var ErrNoCopy = errors.New("no copy of it can be read")

// ReadDir lists dir: the names any replica set holds there. A directory
// is in every set (DHT makes it on each) and is listed once; a file is in
// one set, a name two sets hold as files is unreadable.
func (t *VolumeTree) ReadDir(dir string) ([]Entry, error) {
	byName := map[string]Entry{}
	var errs []error
	listed := false
	for _, rs := range t.sets {
		kids, err := rs.Children(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		listed = true
		for name, replies := range kids {
			e, ok := entryOf(rs, brick.Join(dir, name), name, replies)
			if !ok {
				continue
			}
			if prev, seen := byName[name]; seen && (prev.Type != afr.TypeDirectory || e.Type != afr.TypeDirectory) {
				e.Err = fmt.Errorf("%s is held by two replica sets: %w", brick.Join(dir, name), ErrNoCopy)
			}
			byName[name] = e
		}
	}
	if !listed {
		return nil, errors.Join(errs...)
	}
	out := make([]Entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	return out, nil
}

// entryOf makes one name's entry from its copies; ok is false for a name
// no copy holds, or DHT's link file (the file lives in another set).
func entryOf(rs *heal.ReplicaSet, p, name string, replies []afr.Reply) (Entry, bool) {
	held := heldCopies(replies)
	if len(held) == 0 || linkFile(held) {
		return Entry{}, false
	}
	e := Entry{Name: name, Type: held[0].Type}
	for _, r := range held[1:] {
		if r.Type != e.Type || r.GFID != held[0].GFID {
			e.Err = fmt.Errorf("its copies are different files (gfid or type split-brain): %w", ErrNoCopy)
			return e, true
		}
	}
	if e.Type == afr.TypeDirectory {
		return e, true
	}
	i := readable(replies)
	if i < 0 {
		e.Err = fmt.Errorf("%s: %w", p, ErrNoCopy)
		return e, true
	}
	e.Size = replies[i].Size
	if e.Type == afr.TypeSymlink {
		e.Target, e.Err = readlink(rs, i, p)
	}
	return e, true
}

// heldCopies are the replies of the bricks that answered with the name.
func heldCopies(replies []afr.Reply) []afr.Reply {
	var held []afr.Reply
	for _, r := range replies {
		if r.Answered && r.Exists {
			held = append(held, r)
		}
	}
	return held
}

// readable is the copy AFR reads data from (afr.Readable), or -1.
func readable(replies []afr.Reply) int {
	for i, ok := range afr.Readable(replies, afr.Data, true) {
		if ok {
			return i
		}
	}
	return -1
}

// linkFile reports whether the copies are DHT's link file: empty, with
// only the sticky bit for mode (dht_is_linkfile), pointing to the set that
// holds the file.
func linkFile(held []afr.Reply) bool {
	for _, r := range held {
		if r.Type != afr.TypeRegular || r.Size != 0 || r.Mode&0o7777 != 0o1000 {
			return false
		}
	}
	return true
}

// readlink reads the symlink at p on brick i of rs: only a brick of this
// host is read so.
func readlink(rs *heal.ReplicaSet, i int, p string) (string, error) {
	b := rs.Open[i]
	if b == nil {
		return "", fmt.Errorf("%s: its target is read on its brick's own server", p)
	}
	abs, err := b.Abs(p)
	if err != nil {
		return "", err
	}
	return b.Readlink(abs)
}

// Count counts the volume's files on one brick of this host of each
// replica set (a names-only walk, for a progress line's total: a brick
// that missed writes makes it a little off). A set with no brick here
// counts for nothing.
func (t *VolumeTree) Count(ctx context.Context) (int64, error) {
	var n int64
	for _, rs := range t.sets {
		for _, b := range rs.Open {
			if b == nil {
				continue
			}
			m, err := countFiles(ctx, b, b.Root, false)
			if err != nil {
				return n, err
			}
			n += m
			break
		}
	}
	return n, nil
}

// Hash names the content of the file at p, read from a copy AFR reads.
func (t *VolumeTree) Hash(p string) (string, error) {
	for _, rs := range t.sets {
		replies, _ := rs.GatherPath(p)
		if held := heldCopies(replies); len(held) == 0 || linkFile(held) {
			continue
		}
		i := readable(replies)
		if i < 0 {
			return "", fmt.Errorf("%s: %w", p, ErrNoCopy)
		}
		f, err := rs.Read[i].OpenGFID(replies[i].GFID)
		if err != nil {
			return "", fmt.Errorf("%s on %s: %w", p, rs.Labels[i], err)
		}
		defer f.Close()
		return brick.HashReaderAt(f, replies[i].Size)
	}
	return "", fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}
