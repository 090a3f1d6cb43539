package compare

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/brick"
)

// DirTree is a plain directory compared as a tree: read beneath its root,
// never through a symlink.
type DirTree struct {
	b *brick.Brick
}

// OpenDir opens the directory at root as a tree; Close lets it go.
func OpenDir(root string) (*DirTree, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(root, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: root, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	return &DirTree{b: brick.Beneath(root)}, nil
}

// Close releases the tree's root.
func (t *DirTree) Close() { t.b.Close() }

// ReadDir lists dir, statting each name without following it.
func (t *DirTree) ReadDir(dir string) ([]Entry, error) {
	abs, err := t.b.Abs(dir)
	if err != nil {
		return nil, err
	}
	f, err := t.b.OpenDir(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	out := make([]Entry, 0, len(names))
	for _, name := range names {
		a := abs + "/" + name
		// Each name is statted in the directory opened beneath the root,
		// not followed: one system call, where resolving the path from
		// the root again takes three.
		var st unix.Stat_t
		if err := unix.Fstatat(int(f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since it was listed
			}
			out = append(out, Entry{Name: name, Err: &fs.PathError{Op: "stat", Path: a, Err: err}})
			continue
		}
		e := Entry{Name: name, Type: brick.FileType(st.Mode), Size: st.Size}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if e.Target, err = t.b.Readlink(a); err != nil {
				e.Err = err
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// RenameTemp renames f's temp name to its final name (f is a TempName
// finding of this tree as the slave), once the temp name is found again to
// hold the content master holds at the final name; the rename never
// replaces a name that appeared meanwhile.
func (t *DirTree) RenameTemp(master Tree, f Finding) error {
	if f.Kind != TempName {
		return fmt.Errorf("%s: not a temp name to rename", f.Path)
	}
	want, err := master.Hash(f.Path)
	if err != nil {
		return fmt.Errorf("master %s: %w", f.Path, err)
	}
	got, err := t.Hash(f.Temp)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Temp, err)
	}
	if got != want {
		return fmt.Errorf("%s no longer holds %s's content on the master: left as it is", f.Temp, f.Path)
	}
	from, err := t.b.Abs(f.Temp)
	if err != nil {
		return err
	}
	to, err := t.b.Abs(f.Path)
	if err != nil {
		return err
	}
	if err := t.b.Rename(from, to, true); err != nil {
		return fmt.Errorf("rename %s to %s: %w", f.Temp, f.Path, err)
	}
	return nil
}

// ReadSmall reads the file at p when it is small (brick.ReadSmall).
func (t *DirTree) ReadSmall(p string) ([]byte, bool, error) {
	abs, err := t.b.Abs(p)
	if err != nil {
		return nil, false, err
	}
	return t.b.ReadSmall(abs)
}

// Hash names the content of the file at p.
func (t *DirTree) Hash(p string) (string, error) {
	abs, err := t.b.Abs(p)
	if err != nil {
		return "", err
	}
	return t.b.HashFile(abs)
}

// Count counts the tree's regular files and symlinks, listing its
// directories without statting what they hold: the total a progress line
// estimates the rest from.
func (t *DirTree) Count(ctx context.Context) (int64, error) {
	return countFiles(ctx, t.b, t.b.Root, true)
}

// countFiles counts the files under the directory at abs on b; a brick's
// own names at its root (.glusterfs) are left out unless plain.
func countFiles(ctx context.Context, b *brick.Brick, abs string, plain bool) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	f, err := b.OpenDir(abs)
	if err != nil {
		return 0, err
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range ents {
		if !plain && abs == b.Root && brick.InternalAtRoot(e.Name()) {
			continue
		}
		if e.IsDir() {
			m, err := countFiles(ctx, b, abs+"/"+e.Name(), plain)
			if err != nil {
				return n, err
			}
			n += m
			continue
		}
		n++
	}
	return n, nil
}
