package heal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
)

// DefaultCopyLimit is how much of each copy ReadCopies reads when
// CopyOptions.Limit is not set: plenty for a person to compare, little
// enough that a TUI holding every brick's copy stays small.
const DefaultCopyLimit = 1 << 20

// CopyOptions say how much of each copy ReadCopies reads.
type CopyOptions struct {
	// Limit is the most bytes read of each regular copy; 0 or less means
	// DefaultCopyLimit.
	Limit int64
	// Hash asks for each regular copy's HashFile name, read from the whole
	// file, however long: it costs a full read of every copy.
	Hash bool
}

// Copy is what one brick holds of an explained entry, read for the TUI's
// content view (package content compares copies).
//
// Data and Target are written by the volume's clients and are raw: escape
// them before they reach a terminal (content.Preview, content.Escape).
type Copy struct {
	// Label names the brick, as Explanation.Labels does.
	Label string
	// Arbiter is set for the arbiter's copy (replica 3 arbiter 1): a
	// regular file there holds no data, so its emptiness is no version.
	Arbiter bool
	// Abs is the copy's path on the brick: its name, or its gfid handle
	// when the entry was explained by gfid. "" when it was not resolved.
	Abs string
	// Exists is false when the brick holds nothing there (not an error).
	Exists bool
	// Type is what the brick holds now, which may differ from the
	// explanation's reply if a client changed it since. Only a regular
	// file's content is read; a directory's or a special file's is not.
	Type afr.FileType
	// Size is a regular copy's size, from fstat of the file read.
	Size int64
	// Data is the first Limit bytes of a regular copy.
	Data []byte
	// Truncated is set when the copy goes on past Data.
	Truncated bool
	// Hash is the copy's brick.HashFile name when CopyOptions.Hash asked
	// for it.
	Hash string
	// Target is a symlink's target. It is never followed.
	Target string
	// Err is why the copy could not be read, or read in full: a brick that
	// cannot be opened, a path that leaves the brick, a read error. What
	// was filled in before it stays valid.
	Err error
}

// ReadCopies reads each brick's copy of the entry ex explains, in ex's
// brick order: a regular file's first bytes, size and (when asked) hash,
// a symlink's target, or what else is there. It finds each copy as the
// explanation's replies were gathered: by ex.Target.Path when the entry
// was named by path, by its gfid handle otherwise, so that in a gfid
// split-brain each copy read is the one its reply describes.
//
// Every read goes through package brick, which refuses a symlink
// anywhere on the way and opens only regular files: a client's symlink
// is reported, never followed out of the brick. A copy that cannot be
// read carries an Err; the others are still read. Like Explain, it takes
// no locks, so a copy a client is writing may be read half written.
func ReadCopies(v *volume.Volume, ex Explanation, opts CopyOptions) []Copy {
	if opts.Limit <= 0 {
		opts.Limit = DefaultCopyLimit
	}
	out := make([]Copy, len(ex.Bricks))
	for i, vb := range ex.Bricks {
		out[i] = readCopy(v, vb, ex.Labels[i], ex.Target, opts)
		out[i].Arbiter = i < len(ex.Replies) && ex.Replies[i].Arbiter
	}
	return out
}

func readCopy(v *volume.Volume, vb volume.Brick, label string, target Target, opts CopyOptions) Copy {
	c := Copy{Label: label}
	b, err := OpenBrick(v, vb)
	if err != nil {
		c.Err = fmt.Errorf("copy on %s: %w", label, err)
		return c
	}
	defer b.Close()
	var abs string
	if target.Path != "" {
		abs, err = b.Abs(target.Path)
	} else {
		abs, err = b.AbsOfGFID(target.GFID)
		if errors.Is(err, brick.ErrNoHandle) {
			return c // no handle: the brick has no copy
		}
	}
	if err != nil {
		c.Err = fmt.Errorf("copy of %s on %s: %w", target, label, err)
		return c
	}
	c.Abs = abs
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.Err = fmt.Errorf("copy of %s on %s: %w", target, label, err)
		}
		return c
	}
	c.Exists = true
	c.Type = brick.FileType(st.Mode)
	switch c.Type {
	case afr.TypeRegular:
		err = readRegular(b, &c, opts)
	case afr.TypeSymlink:
		c.Target, err = b.Readlink(abs)
	}
	if err != nil {
		c.Err = fmt.Errorf("copy of %s on %s: %w", target, label, err)
	}
	return c
}

// readRegular fills in c's size, data and hash. The hash is HashFile's,
// which opens the file again: a copy replaced in between is hashed as it
// is then, and its Data is of the one opened first.
func readRegular(b *brick.Brick, c *Copy, opts CopyOptions) error {
	f, err := b.OpenFile(c.Abs, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", c.Abs, err)
	}
	c.Size = fi.Size()
	// One byte past the limit tells a copy that goes on from one that
	// ends there, whatever fstat said: it may be growing.
	data, err := io.ReadAll(io.LimitReader(f, opts.Limit+1))
	if int64(len(data)) > opts.Limit {
		data, c.Truncated = data[:opts.Limit], true
	}
	c.Data = data
	if err != nil {
		return fmt.Errorf("read %s: %w", c.Abs, err)
	}
	if opts.Hash {
		if c.Hash, err = b.HashFile(c.Abs); err != nil {
			return fmt.Errorf("hash %s: %w", c.Abs, err)
		}
	}
	return nil
}
