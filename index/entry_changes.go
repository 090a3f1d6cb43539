package index

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

// AddEntryChange records that name in directory pgfid changed while a
// brick was down (granular entry heal): entry-changes/<pgfid>/<name>, a hard
// link to the entry-changes base file.
func (ix *Index) AddEntryChange(pgfid afr.GFID, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	dir := ix.path(EntryChanges, pgfid.String())
	if err := ix.fs.Mkdir(dir, ix.dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("index: create %s: %w", dir, err)
	}
	// The base lives in entry-changes/ itself, not in the per-parent dir.
	return ix.linkToBase(ix.path(EntryChanges), EntryChanges, ix.path(EntryChanges, pgfid.String(), name))
}

// RemoveEntryChange drops one name, and the parent's directory once it is
// empty (as the purge after an entry heal does).
func (ix *Index) RemoveEntryChange(pgfid afr.GFID, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := ix.fs.Remove(ix.path(EntryChanges, pgfid.String(), name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("index: remove entry-changes/%s/%s: %w", pgfid, name, err)
	}
	// ENOTEMPTY just means other names are still pending.
	_ = ix.fs.Remove(ix.path(EntryChanges, pgfid.String()))
	return nil
}

// WalkEntryChanges calls fn for every parent directory with pending name
// changes, and for each of its names. fn is called in the caller's goroutine.
// A directory name that is not a gfid is passed with a zero pgfid and a
// non-nil err.
func (ix *Index) WalkEntryChanges(fn func(pgfid afr.GFID, name string, err error) error) error {
	return ix.walkNames(ix.path(EntryChanges), func(dir string) error {
		if IsBase(EntryChanges, dir) {
			return nil
		}
		pg, err := brick.ParseGFID(dir)
		if err != nil {
			return fn(afr.GFID{}, dir, fmt.Errorf("index: entry-changes/%s: %w", dir, err))
		}
		return ix.walkNames(ix.path(EntryChanges, dir), func(name string) error {
			return fn(pg, name, nil)
		})
	})
}

// checkName refuses names that would escape the parent's directory.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("index: entry name %q: %w", name, brick.ErrOutsideBrick)
	}
	return nil
}

// RemoveEntryChanges drops every name recorded for directory pgfid, and
// its directory, once the directory's entry heal is done. A missing
// directory is not an error.
func (ix *Index) RemoveEntryChanges(pgfid afr.GFID) error {
	dir := ix.path(EntryChanges, pgfid.String())
	err := ix.walkNames(dir, func(name string) error {
		err := ix.fs.Remove(ix.path(EntryChanges, pgfid.String(), name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("index: remove entry-changes/%s/%s: %w", pgfid, name, err)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := ix.fs.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("index: remove entry-changes/%s: %w", pgfid, err)
	}
	return nil
}

// HasEntryChanges reports whether directory pgfid has granular
// entry-changes recorded.
func (ix *Index) HasEntryChanges(pgfid afr.GFID) (bool, error) {
	ok, err := ix.fs.Exists(ix.path(EntryChanges, pgfid.String()))
	if err != nil {
		return false, fmt.Errorf("index: entry-changes/%s: %w", pgfid, err)
	}
	return ok, nil
}
