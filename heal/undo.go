package heal

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// Opts returns the engine's options.
func (e *Engine) Opts() EngineOptions { return e.opts }

// Result returns what the last run did or planned.
func (e *Engine) Result() *Result { return e.result }

// Undo puts back the kept copies of history record id as they were before
// the resolution, and records the undo. A split-brain is then again in the
// state that needed a decision (its directory is marked dirty on the
// restored bricks so heal info lists it). A name that entry heal removed
// comes back on the bricks it was removed from; the dirty mark makes the
// next heal merge it back to the others, as GlusterFS merges a directory
// that no brick blames.
//
// Undo puts kept copies back over what the resolution left. When a data
// resolution's copy has changed since (its content is no longer the
// winner's the record names), Undo refuses before changing anything and
// names it; with force it first keeps that newer content too, under the
// undo's record.
func (e *Engine) Undo(id string, force bool) ([]string, error) {
	h := e.opts.History
	recs, err := h.Read()
	if err != nil {
		return nil, err
	}
	var rec *Record
	for i := range recs {
		if recs[i].ID == id {
			rec = &recs[i]
		}
		if recs[i].Kind == "undo" && recs[i].Undoes == id {
			return nil, fmt.Errorf("undo %s: already undone by %s", id, recs[i].ID)
		}
	}
	if (rec == nil && hasRepair(e.Vol, id)) || (rec != nil && rec.Kind == KindRepair) {
		return UndoRepair(h, e.Vol, id, e.opts.DryRun, e.opts.Now())
	}
	if rec == nil {
		return nil, fmt.Errorf("undo %s: no such record in %s", id, h.Path)
	}
	if rec.Kind == "undo" {
		return nil, fmt.Errorf("undo %s: it is itself an undo", id)
	}
	if rec.Live {
		var kept []string
		for _, k := range rec.Kept {
			if k.Path != "" {
				kept = append(kept, k.Path)
			} else {
				kept = append(kept, k.Meta)
			}
		}
		return nil, fmt.Errorf("undo %s: GlusterFS made this resolution on the started volume, and afrkit does not put its losers back; they are kept at %s: copy the one you want back through a mount of the volume", id, strings.Join(kept, ", "))
	}
	u := Record{ID: rec.ID + "-undo", Time: e.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z"), Volume: rec.Volume,
		Set: rec.Set, Path: rec.Path, GFID: rec.GFID, Kind: "undo", How: "undo", Undoes: rec.ID}
	newer, err := e.changedSince(*rec)
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", id, err)
	}
	if len(newer) > 0 && !force {
		var what []string
		for _, n := range newer {
			what = append(what, fmt.Sprintf("%s's %s (blake3 %s now, %s after the resolution)", n.k.Brick, rec.Path, brick.ShortHash(n.sum), brick.ShortHash(rec.SourceBlake3)))
		}
		return nil, fmt.Errorf("undo %s: changed since the resolution: %s; undo would overwrite it, and --force keeps the newer content in the keep store first", id, strings.Join(what, ", "))
	}
	// Every put-back is checked before the first: an undo that would
	// fail half way refuses, the dry run too, and changes nothing.
	if err := e.checkPutBacks(*rec); err != nil {
		return nil, fmt.Errorf("undo %s: %w", id, err)
	}
	var lines []string
	for _, n := range newer {
		// Labels may be host:/path when brick directories share a base name.
		kept := filepath.Join(n.rs.Open[n.i].KeptDir(), u.ID, keptName(n.k.Brick, rec.GFID))
		if e.opts.DryRun {
			lines = append(lines, fmt.Sprintf("would keep %s's newer %s at %s", n.k.Brick, rec.Path, kept))
			continue
		}
		k, err := e.keepNewer(n, u, kept)
		if err != nil {
			return lines, fmt.Errorf("undo %s: %w", id, err)
		}
		u.Kept = append(u.Kept, k)
		lines = append(lines, fmt.Sprintf("Kept %s's newer %s at %s.", n.k.Brick, rec.Path, kept))
	}
	for _, k := range rec.Kept {
		rs, i, err := e.brickOf(k)
		if err != nil {
			return lines, err
		}
		var m keptMeta
		raw, err := rs.Open[i].ReadFile(k.Meta)
		if err != nil {
			return lines, fmt.Errorf("undo %s: %w", id, err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return lines, fmt.Errorf("undo %s: %s: %w", id, k.Meta, err)
		}
		if e.opts.DryRun {
			what := rec.Kind
			if k.Source {
				what = "counters"
			}
			lines = append(lines, fmt.Sprintf("would restore %s's %s of %s from %s", k.Brick, what, m.Path, firstOf(k.Path, k.Meta)))
			continue
		}
		if err := e.restore(rs, i, *rec, k, m); err != nil {
			return lines, fmt.Errorf("undo %s: %s: %w", id, k.Brick, err)
		}
		switch {
		case k.Source:
			lines = append(lines, fmt.Sprintf("Restored %s's counters of %s.", k.Brick, m.Path))
		case rec.Kind == "removed":
			lines = append(lines, fmt.Sprintf("Restored %s's %s, which heal had removed; the next heal copies it to the other bricks.", k.Brick, m.Path))
		default:
			lines = append(lines, fmt.Sprintf("Restored %s's %s of %s.", k.Brick, rec.Kind, m.Path))
		}
	}
	if e.opts.DryRun {
		return lines, nil
	}
	return lines, h.Append(u)
}

// newerCopy is a copy a data resolution overwrote that has changed since.
type newerCopy struct {
	rs  *ReplicaSet
	i   int
	k   Kept
	abs string
	sum string // its content's HashFile name now
}

// changedSince returns the copies that undoing rec would overwrite and
// whose content is no longer what the resolution left (rec.SourceBlake3).
func (e *Engine) changedSince(rec Record) ([]newerCopy, error) {
	if rec.Kind != afr.Data.String() || rec.SourceBlake3 == "" {
		return nil, nil
	}
	g, err := brick.ParseGFID(rec.GFID)
	if err != nil {
		return nil, err
	}
	var out []newerCopy
	for _, k := range rec.Kept {
		if k.Source || k.Moved || k.Path == "" {
			continue
		}
		rs, i, err := e.brickOf(k)
		if err != nil {
			return nil, err
		}
		b := rs.Open[i]
		abs, err := b.AbsOfGFID(g)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", k.Brick, rec.Path, err)
		}
		sum, err := b.HashFile(abs)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", k.Brick, rec.Path, err)
		}
		if sum != rec.SourceBlake3 {
			out = append(out, newerCopy{rs: rs, i: i, k: k, abs: abs, sum: sum})
		}
	}
	return out, nil
}

// keepNewer copies n's current content into the keep store at kept, under
// the undo's record u, before the undo overwrites it.
func (e *Engine) keepNewer(n newerCopy, u Record, kept string) (Kept, error) {
	b := n.rs.Open[n.i]
	if err := b.RoomToCopy(n.abs); err != nil {
		return Kept{}, fmt.Errorf("%s: keep the newer %s: %w", n.k.Brick, u.Path, err)
	}
	e.step("keep newer " + u.Path)
	k, err := keepFile(b, n.k.Brick, u, u.Path, n.abs, kept)
	k.Blake3 = n.sum
	return k, err
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *Engine) brickOf(k Kept) (*ReplicaSet, int, error) {
	for _, rs := range e.Sets {
		for i, b := range rs.Open {
			if b != nil && rs.Labels[i] == k.Brick && b.Root == k.BrickRoot {
				return rs, i, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("brick %s (%s) is not a readable brick of volume %s", k.Brick, k.BrickRoot, e.Vol.Name)
}

// restore puts one kept copy back.
func (e *Engine) restore(rs *ReplicaSet, i int, rec Record, k Kept, m keptMeta) error {
	b := rs.Open[i]
	xs := map[string][]byte{}
	for key, v := range m.Xattrs {
		raw, err := hex.DecodeString(v)
		if err != nil {
			return fmt.Errorf("%s: xattr %s: %w", k.Meta, key, err)
		}
		xs[key] = raw
	}
	var abs string
	var err error
	if k.Source {
		return e.restoreCounters(rs, i, rec, m, xs)
	}
	if k.Moved {
		abs, err = e.putBackMoved(rs, i, rec, k, m)
	} else {
		var g afr.GFID
		if g, err = brick.ParseGFID(rec.GFID); err == nil {
			abs, err = b.AbsOfGFID(g)
		}
		if err == nil && k.Path != "" {
			// The restored content is not what a resume mark on this copy
			// describes.
			e.step("forget resume " + m.Path)
			if err = forgetResume(b, abs, m.Path); err == nil {
				e.step("restore content " + m.Path)
				err = b.CopyInto(k.Path, abs)
			}
		}
	}
	if err != nil {
		return err
	}
	if err := restoreAttrs(b, abs, m, xs); err != nil {
		return err
	}
	return e.reindex(rs, i, abs, m, k.Moved)
}

// putBackMoved renames a moved copy back to its name, first removing what
// heal put there (a replica of the winner, which its source still has).
func (e *Engine) putBackMoved(rs *ReplicaSet, i int, rec Record, k Kept, m keptMeta) (string, error) {
	b := rs.Open[i]
	abs, err := b.Abs(m.Path)
	if err != nil {
		return "", err
	}
	if cur, err := b.GFIDAt(abs); err == nil {
		if rec.Kind != "gfid" || cur.String() != rec.GFID {
			return "", fmt.Errorf("%s holds gfid %s now; move it aside before undoing", m.Path, cur)
		}
		e.step("remove winner's replica " + m.Path)
		if err := b.RemoveAll(abs); err != nil {
			return "", err
		}
		if err := b.RemoveHandle(cur, 0); err != nil {
			return "", err
		}
	} else if exists, serr := b.Exists(abs); exists || serr != nil {
		return "", fmt.Errorf("%s exists without a gfid; move it aside before undoing", m.Path)
	}
	e.step("put back " + m.Path)
	if err := b.Rename(k.Path, abs, true); err != nil {
		return "", err
	}
	return abs, relinkHandles(b, abs)
}

// checkPutBacks finds what would stop putting rec's moved copies back:
// their name taken by something other than the winner's replica (which
// undo removes first), or a gfid of theirs in the volume again under
// another inode (the heal that followed recreated it), which would make
// two files of one gfid.
func (e *Engine) checkPutBacks(rec Record) error {
	var errs []error
	for _, k := range rec.Kept {
		if !k.Moved || k.Source {
			continue
		}
		rs, i, err := e.brickOf(k)
		if err != nil {
			return err
		}
		b := rs.Open[i]
		var m keptMeta
		raw, err := b.ReadFile(k.Meta)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %w", k.Meta, err)
		}
		abs, err := b.Abs(m.Path)
		if err != nil {
			return err
		}
		winner := afr.GFID{}
		if cur, err := b.GFIDAt(abs); err == nil {
			if rec.Kind != "gfid" || cur.String() != rec.GFID {
				errs = append(errs, fmt.Errorf("%s: %s holds gfid %s now; move it aside before undoing", k.Brick, m.Path, cur))
				continue
			}
			winner = cur
		} else if exists, serr := b.Exists(abs); exists || serr != nil {
			errs = append(errs, fmt.Errorf("%s: %s exists without a gfid; move it aside before undoing", k.Brick, m.Path))
			continue
		}
		err = walkGFIDs(b, k.Path, func(p string, _ *syscall.Stat_t, g afr.GFID) error {
			if g == winner {
				return nil
			}
			if held, _, err := b.HasGFID(g); err != nil || !held {
				return err
			}
			if same, err := b.SameFile(p, b.HandlePath(g)); err != nil || !same {
				where := "another file"
				if pp, err := b.PathOf(g); err == nil {
					where = pp
				}
				errs = append(errs, fmt.Errorf("%s: gfid %s of the kept %s is in the volume again, at %s; undo would make two files of one gfid: move one aside first", k.Brick, g, m.Path, where))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// relinkHandles recreates the handles of a tree put back into the volume.
func relinkHandles(b *brick.Brick, root string) error {
	return walkGFIDs(b, root, func(p string, st *syscall.Stat_t, g afr.GFID) error {
		if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			return b.LinkFileHandle(p, g)
		}
		pg, err := b.GFIDAt(filepath.Dir(p))
		if err != nil {
			return err
		}
		return b.SymlinkDirHandle(g, pg, filepath.Base(p))
	})
}

// restoreAttrs gives the copy at abs the kept mode, owner, xattrs and
// times.
func restoreAttrs(b *brick.Brick, abs string, m keptMeta, xs map[string][]byte) error {
	if err := b.Lchown(abs, int(m.UID), int(m.GID)); err != nil {
		return err
	}
	if m.Type != afr.TypeSymlink.String() {
		if err := b.Chmod(abs, modeBits(m.Mode)); err != nil {
			return err
		}
	}
	cur, err := b.RawXattrs(abs, m.Path)
	if err != nil {
		return err
	}
	// The gfid and the names it is recorded under are the entry's
	// identity, which undoing its content or metadata does not change (a
	// copy kept before it was given a gfid has none to put back).
	identity := b.Key(brick.KeyGFID)
	for key := range cur {
		if _, ok := xs[key]; !ok && !strings.HasPrefix(key, "security.") && !strings.HasPrefix(key, identity) {
			if err := b.RemoveRawXattr(abs, m.Path, key); err != nil {
				return err
			}
		}
	}
	for key, v := range xs {
		if string(cur[key]) == string(v) || key == b.Key(brick.KeyHealResume) {
			// A resume mark kept with the copy describes a heal of the
			// past, not the content put back.
			continue
		}
		if err := b.SetRawXattr(abs, m.Path, key, v); err != nil {
			return err
		}
	}
	return b.Utimes(abs, m.Atime, m.Mtime)
}

// reindex lists the restored copy in its brick's index where its counters
// are set, and marks its directory dirty for entries so the disagreement
// shows in heal info again.
func (e *Engine) reindex(rs *ReplicaSet, i int, abs string, m keptMeta, moved bool) error {
	b := rs.Open[i]
	g, err := b.GFIDAt(abs)
	if errors.Is(err, brick.ErrNoGFID) {
		// A copy made on its brick with no gfid has no counters to index;
		// its directory's dirty mark below brings it back.
		return e.markParentDirty(rs, i, m, moved)
	}
	if err != nil {
		return err
	}
	r, err := b.ReplyAt(abs, m.Path, rs.Keys)
	if err != nil {
		return err
	}
	for _, c := range r.Pending {
		if !c.IsZero() {
			if err := rs.addIndex(i, index.Xattrop, g); err != nil {
				return err
			}
			break
		}
	}
	if !r.Dirty.IsZero() {
		if err := rs.addIndex(i, index.Dirty, g); err != nil {
			return err
		}
	}
	return e.markParentDirty(rs, i, m, moved)
}

// markParentDirty marks, for a copy moved back (moved), its directory
// dirty for entries so that the next heal merges the name back, and
// makes the undo durable.
func (e *Engine) markParentDirty(rs *ReplicaSet, i int, m keptMeta, moved bool) error {
	b := rs.Open[i]
	if !moved {
		return b.Syncfs()
	}
	parent, _ := brick.SplitPath(m.Path)
	pabs, err := b.Abs(parent)
	if err != nil {
		return err
	}
	if _, err := b.AddChangelog(pabs, parent, brick.KeyDirty, afr.Changelog{0, 0, 1}); err != nil {
		return err
	}
	pg, err := b.GFIDAt(pabs)
	if err != nil {
		return err
	}
	if err := rs.addIndex(i, index.Dirty, pg); err != nil {
		return err
	}
	return b.Syncfs()
}

// restoreCounters gives the winner of a resolution back the AFR counters
// it had, leaving its content and metadata as they are now.
func (e *Engine) restoreCounters(rs *ReplicaSet, i int, rec Record, m keptMeta, xs map[string][]byte) error {
	b := rs.Open[i]
	g, err := brick.ParseGFID(rec.GFID)
	if err != nil {
		return err
	}
	abs, err := b.AbsOfGFID(g)
	if err != nil {
		return err
	}
	for _, key := range append(append([]string{}, rs.Keys...), brick.KeyDirty) {
		full := b.Key(key)
		v, ok := xs[full]
		if !ok {
			continue
		}
		e.step("restore " + full + " " + m.Path)
		if err := b.SetRawXattr(abs, m.Path, full, v); err != nil {
			return err
		}
	}
	return e.reindex(rs, i, abs, m, false)
}
