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

// keptMeta is the metadata file written beside every kept copy: enough to
// put the copy back exactly as it was.
type keptMeta struct {
	Record string            `json:"record"`
	Volume string            `json:"volume"`
	Brick  string            `json:"brick"`
	Path   string            `json:"path"`
	GFID   string            `json:"gfid"`
	Type   string            `json:"type"`
	Mode   uint32            `json:"mode"`
	UID    uint32            `json:"uid"`
	GID    uint32            `json:"gid"`
	Size   int64             `json:"size"`
	Atime  int64             `json:"atime_ns"`
	Mtime  int64             `json:"mtime_ns"`
	Xattrs map[string]string `json:"xattrs_hex"`
}

// newRecord starts a history record for this entry.
func (h *entryHeal) newRecord(kind, how string, src int, sinks []int) Record {
	now := h.e.opts.Now()
	r := Record{
		ID:     NewRecordID(now),
		Time:   RecordTime(now),
		Volume: h.e.Vol.Name, Set: h.rs.Index, Path: h.path, GFID: h.gfid.String(),
		Kind: kind, How: how,
	}
	if src >= 0 {
		r.Source = h.label(src)
	}
	for _, i := range sinks {
		r.Sinks = append(r.Sinks, h.label(i))
	}
	return r
}

// keptPath is where brick i keeps a copy of gfid g for record id.
func (h *entryHeal) keptPath(i int, id string, g afr.GFID) string {
	return filepath.Join(h.rs.Open[i].KeptDir(), id, g.String())
}

// writeMeta records the copy at abs (before it changes) next to kept.
func (h *entryHeal) writeMeta(i int, rec Record, p, abs, kept string) (keptMeta, error) {
	return writeKeptMeta(h.rs.Open[i], h.label(i), rec, p, abs, kept)
}

// writeKeptMeta records the copy at abs on brick b (labelled label) before
// it changes, in kept's .json: mode, owner, times and every xattr.
func writeKeptMeta(b *brick.Brick, label string, rec Record, p, abs, kept string) (keptMeta, error) {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return keptMeta{}, fmt.Errorf("%s: stat %s: %w", label, p, err)
	}
	xs, err := b.RawXattrs(abs, p)
	if err != nil {
		return keptMeta{}, err
	}
	m := keptMeta{
		Record: rec.ID, Volume: rec.Volume, Brick: label, Path: p,
		Type: typeName(st.Mode), Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid, Size: st.Size,
		Atime: st.Atim.Nano(), Mtime: st.Mtim.Nano(), Xattrs: map[string]string{},
	}
	if g, err := brick.DecodeGFID(xs[b.Key(brick.KeyGFID)]); err == nil {
		m.GFID = g.String()
	}
	for k, v := range xs {
		m.Xattrs[k] = hex.EncodeToString(v)
	}
	if err := b.MkdirAll(filepath.Dir(kept), 0o700); err != nil {
		return m, fmt.Errorf("%s: %w", label, err)
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := b.WriteFileDurable(kept+".json", data); err != nil {
		return m, fmt.Errorf("%s: %w", label, err)
	}
	return m, nil
}

func typeName(mode uint32) string { return brick.FileType(mode).String() }

// keepCopy copies brick i's copy (its content for data, only its metadata
// file for metadata) into the brick's kept directory, durably, before the
// resolution overwrites it.
func (h *entryHeal) keepCopy(i int, rec Record, kind afr.Kind) (Kept, error) {
	b := h.rs.Open[i]
	kept := filepath.Join(b.KeptDir(), rec.ID, keptName(h.label(i), h.gfid.String()))
	if kind != afr.Data {
		m, err := h.writeMeta(i, rec, h.path, h.abs[i], kept)
		if err != nil {
			return Kept{}, err
		}
		return Kept{Brick: h.label(i), BrickRoot: b.Root, Meta: kept + ".json", Type: m.Type, Size: m.Size}, nil
	}
	k, err := keepFile(b, h.label(i), rec, h.path, h.abs[i], kept)
	if err != nil {
		return k, err
	}
	k.Blake3, err = b.HashFile(kept)
	return k, err
}

// keptName names a brick's kept copy of gfid g in a record's directory.
// Labels may be host:/path when brick directories share a base name.
func keptName(label, g string) string {
	return strings.NewReplacer("/", "_", ":", "_").Replace(label) + "-" + g
}

// keepFile copies the regular file at abs (path p) on brick b, labelled
// label, to kept with its metadata file, durably, for record rec. A copy
// that fails takes its metadata file back, so nothing is left that no
// history record mentions.
func keepFile(b *brick.Brick, label string, rec Record, p, abs, kept string) (Kept, error) {
	m, err := writeKeptMeta(b, label, rec, p, abs, kept)
	if err != nil {
		return Kept{}, err
	}
	if err := b.CopyFile(abs, kept); err != nil {
		_ = b.Remove(kept + ".json")
		return Kept{}, fmt.Errorf("%s: keep %s: %w", label, p, err)
	}
	return Kept{Brick: label, BrickRoot: b.Root, Path: kept, Meta: kept + ".json", Type: m.Type, Size: m.Size}, nil
}

// keepMoved moves brick i's copy at abs (path p, gfid g) out of the volume
// into the kept directory, and drops the handles that pointed into it.
func (h *entryHeal) keepMoved(i int, rec Record, p, abs string, g afr.GFID) (Kept, error) {
	b := h.rs.Open[i]
	id := g
	if id.IsZero() {
		id = brick.NewGFID()
	}
	kept := h.keptPath(i, rec.ID, id)
	m, err := h.writeMeta(i, rec, p, abs, kept)
	if err != nil {
		return Kept{}, err
	}
	k := Kept{Brick: h.label(i), BrickRoot: b.Root, Path: kept, Meta: kept + ".json", Type: m.Type, Size: m.Size, Moved: true}
	if m.Type == afr.TypeRegular.String() {
		if sum, err := b.HashFile(abs); err == nil {
			k.Blake3 = sum
		}
	}
	h.e.step("move " + p + " to kept")
	if err := b.Rename(abs, kept, true); err != nil {
		return k, fmt.Errorf("%s: keep %s: %w", h.label(i), p, err)
	}
	if err := b.SyncDir(filepath.Dir(kept)); err != nil {
		return k, err
	}
	return k, dropHandles(h.rs, i, kept)
}

// dropHandles removes the handles of everything under a tree moved out of
// brick i of rs, and the index entries of those gfids on the bricks that
// no longer hold them (a hard link elsewhere keeps its gfid, and its
// entries): a
// gfid that is no longer the volume's needs no heal. Left behind, they
// cost the next heal a pass, which no dry run plans, and a removed
// directory's granular entry-changes stayed for good (GlusterFS removes
// them with the directory).
func dropHandles(rs *ReplicaSet, i int, root string) error {
	b := rs.Open[i]
	return walkGFIDs(b, root, func(_ string, _ *syscall.Stat_t, g afr.GFID) error {
		// The kept name itself is one link outside the volume.
		if err := b.RemoveHandle(g, 1); err != nil {
			return err
		}
		// Every brick that holds g no more drops its entries: its copy's
		// counters went with it (the source of a removal indexed the gfid
		// before the file was removed there).
		for j, bj := range rs.Open {
			if bj == nil || rs.Indexes[j] == nil {
				continue
			}
			if held, _, err := bj.HasGFID(g); err != nil || held {
				if err != nil {
					return err
				}
				continue
			}
			ix := rs.Indexes[j]
			for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
				if err := ix.Remove(sub, g); err != nil {
					return err
				}
			}
			if err := ix.RemoveEntryChanges(g); err != nil {
				return err
			}
		}
		return nil
	})
}

// walkGFIDs calls fn for every entry under root (root included) that
// carries a gfid.
func walkGFIDs(b *brick.Brick, root string, fn func(p string, st *syscall.Stat_t, g afr.GFID) error) error {
	return b.Walk(root, func(p string, st *syscall.Stat_t) error {
		g, err := b.GFIDAt(p)
		if errors.Is(err, brick.ErrNoGFID) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(p, st, g)
	})
}

// keepRemoved moves a name the source no longer has out of sink i into
// the kept directory, recording it first.
func (h *entryHeal) keepRemoved(i, src int, p, abs string, c afr.Reply) error {
	return h.keepGone(i, src, p, abs, c, "remove", fmt.Sprintf("%s no longer has this %s", h.label(src), c.Type))
}

// keepReplaced moves sink i's copy of a name out of the volume into the
// kept directory, recording it first, because the source has the name
// as another file (deleted and made again while the sink was down): the
// directory's entry heal then makes the name anew from the source, as
// GlusterFS's entry heal expunges a name whose gfid differs on a sink.
func (h *entryHeal) keepReplaced(i, src int, p, abs string, c, want afr.Reply) error {
	return h.keepGone(i, src, p, abs, c, "replace", fmt.Sprintf("%s has this name as another %s (gfid %s, not %s)", h.label(src), want.Type, want.GFID, c.GFID))
}

// keepGone moves sink i's copy of p into the kept directory under a
// "removed" record, for the action what, saying why.
func (h *entryHeal) keepGone(i, src int, p, abs string, c afr.Reply, what, why string) error {
	h.e.plan(h.rs, i, planGone, c.GFID)
	rec := h.newRecord("removed", "entry heal from "+h.label(src), src, []int{i})
	rec.Path, rec.GFID = p, c.GFID.String()
	a := Action{What: what, Path: p, Source: h.label(src), Sinks: []string{h.label(i)},
		Detail: fmt.Sprintf("%s; %s's copy is moved to %s", why, h.label(i), filepath.Join(h.rs.Open[i].KeptDir(), rec.ID))}
	return h.act(a, func() error {
		k, err := h.keepMoved(i, rec, p, abs, c.GFID)
		rec.Kept = append(rec.Kept, k)
		if err != nil {
			return err
		}
		if err := h.e.opts.History.Append(rec); err != nil {
			return err
		}
		h.e.resolved(rec)
		return nil
	})
}
