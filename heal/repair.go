package heal

import (
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
)

// KindRepair is the kind of the history record of an fsck repair: what it
// moved into the bricks' keep directories (as heal keeps what it
// replaces), what it renamed, and what it changed in place. One history
// lists both, and one undo puts both back.
const KindRepair = "fsck"

// RepairRecord builds the history record of fsck repair id on v from the
// manifests the repair wrote on each brick: every move becomes a Kept
// (Moved), every rename a Renamed. repairs are what it changed in place.
func RepairRecord(v *volume.Volume, id, how string, repairs []string, now time.Time) (Record, error) {
	rec := Record{ID: id, Time: now.UTC().Format("2006-01-02T15:04:05.000Z"), Volume: v.Name, Kind: KindRepair, How: how, Repairs: repairs}
	labels := v.BrickLabels()
	for i, vb := range v.Bricks {
		if !vb.Local {
			continue
		}
		b, err := brick.Open(vb.Path, v.XattrNS)
		if err != nil {
			return rec, err
		}
		lines, err := fsck.Manifest(b, id)
		if err != nil {
			return rec, err
		}
		for _, m := range lines {
			if m.Rename {
				rec.Renamed = append(rec.Renamed, Renamed{Brick: labels[i], BrickRoot: b.Root, From: m.From, To: m.To})
				continue
			}
			k := Kept{Brick: labels[i], BrickRoot: b.Root, Path: filepath.Join(b.Root, m.To), Moved: true}
			var st syscall.Stat_t
			if err := b.Lstat(k.Path, &st); err == nil {
				k.Type, k.Size = brick.FileType(st.Mode).String(), st.Size
			}
			rec.Kept = append(rec.Kept, k)
		}
	}
	return rec, nil
}

// UndoRepair undoes fsck repair id on v (fsck.Restore over its local
// bricks) and records the undo in h. It works without the repair's record
// too: a repair killed before it wrote one left its manifests, which are
// what it undoes. With dryRun it says what it would do and changes
// nothing.
func UndoRepair(h *History, v *volume.Volume, id string, dryRun bool, now time.Time) ([]string, error) {
	recs, err := h.Read()
	if err != nil {
		return nil, err
	}
	var rec *Record
	for i := range recs {
		if recs[i].ID == id && recs[i].Kind == KindRepair {
			rec = &recs[i]
		}
		if recs[i].Kind == "undo" && recs[i].Undoes == id {
			return nil, fmt.Errorf("undo %s: already undone by %s", id, recs[i].ID)
		}
	}
	var roots []string
	for _, b := range v.Bricks {
		if b.Local {
			roots = append(roots, b.Path)
		}
	}
	lines, err := fsck.Restore(roots, v.XattrNS, id, dryRun)
	if err != nil || dryRun {
		return lines, err
	}
	u := Record{ID: id + "-undo", Time: now.UTC().Format("2006-01-02T15:04:05.000Z"), Volume: v.Name, Kind: "undo", How: "undo", Undoes: id}
	if rec == nil {
		u.How = "undo of a repair with no record (killed before it wrote one)"
	}
	return lines, h.Append(u)
}

// hasRepair reports whether a local brick of v has fsck repair id's
// manifest: what its record would list.
func hasRepair(v *volume.Volume, id string) bool {
	rec, err := RepairRecord(v, id, "", nil, time.Time{})
	return err == nil && (len(rec.Kept) > 0 || len(rec.Renamed) > 0)
}
