package fsck

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/lock"
	"github.com/afrkit/afrkit/rsynctemp"
)

// checkStaleTemp reports name in directory p (of the replica set s) when
// it is an rsync temp file: whether its final name exists beside it, and
// whether it holds the same content. A brick where the final name exists
// with the temp file's gfid had its rename done already (a repair that was
// cut short); it counts as absent.
func (c *checker) checkStaleTemp(s *setState, p, name string, names []string, dirs, copies []*copyInfo) {
	final, ok := rsynctemp.Final(name)
	if !ok || !rsynctemp.RandomSuffix(name[len(final)+2:]) {
		return
	}
	var tmp *copyInfo
	for _, ci := range copies {
		// An arbiter's copy holds no content to compare.
		if ci != nil && ci.typ() == afr.TypeRegular && !ci.bs.arbiter {
			tmp = ci
			break
		}
	}
	if tmp == nil {
		return
	}
	tp, fp := brick.Join(p, name), brick.Join(p, final)
	f := Finding{Class: ClassStaleTemp, Brick: labels(s), Path: tp, GFID: gfidOf(tmp)}
	// Every way out below reports f, as a candidate when the suffix reads
	// as a word: only a person who names it has it renamed or quarantined.
	defer func() {
		if suffix := name[len(final)+2:]; f.fix != nil && rsynctemp.SuffixReadsAsWord(suffix) {
			f.Candidate = true
			f.Detail = strings.Replace(f.Detail, "an rsync temp file of", "named like an rsync temp file of", 1) +
				fmt.Sprintf("; but its suffix %q reads as a word, so it may be an ordinary dotfile", suffix)
			f.Manual = fmt.Sprintf("if it is an rsync leftover, name it: --rename-stale-path %s would %s", tp, f.Repair)
		}
		c.add(f)
	}()
	var other string // the final name's copy that is not the temp file's
	var otherBrick *brick.Brick
	if _, found := slices.BinarySearch(names, final); found {
		// A data brick's copy of the final name first: the arbiter's
		// is empty, and stands for it only where no data brick has it.
		isArbiter := func(d *copyInfo) bool { return d != nil && d.bs.arbiter }
		byData := append(slices.DeleteFunc(slices.Clone(dirs), isArbiter), slices.DeleteFunc(slices.Clone(dirs), func(d *copyInfo) bool { return !isArbiter(d) })...)
		for _, d := range byData {
			if d == nil {
				continue
			}
			fa := filepath.Join(d.abs, final)
			if exists, _ := d.bs.b.Exists(fa); !exists {
				continue
			}
			if g, err := d.bs.b.GFIDAt(fa); err == nil && tmp.gfidOK && g == tmp.gfid {
				continue // renamed on this brick already
			}
			other, otherBrick = fa, d.bs.b
			break
		}
	}
	// The mount's locks on the two names in their directory and on the
	// inodes a fix moves: with them a fix runs beside the mount's fops.
	var pg afr.GFID
	for _, d := range dirs {
		if d != nil && d.gfidOK {
			pg = d.gfid
			break
		}
	}
	f.inUse = func(now time.Time) bool { return written(dirs, name, now) }
	if !pg.IsZero() && tmp.gfidOK {
		f.locks = []lock.Key{lock.Name(lock.Data, pg, name), lock.Name(lock.Data, pg, final), lock.Whole(lock.Data, tmp.gfid)}
		if other != "" {
			if g, err := otherBrick.GFIDAt(other); err == nil {
				f.locks = append(f.locks, lock.Whole(lock.Data, g))
			}
		}
	}
	if other == "" {
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which does not exist", fp)
		f.Repair = fmt.Sprintf("rename it to %s on every brick of the replica set (gfid kept, gfid2path updated)", fp)
		f.fix = func(q *quarantine) error { return renameStale(q, stillThere(dirs), name, final, p) }
		return
	}
	tv, terr := version(tmp.bs.b, tmp.abs, tp)
	fv, ferr := version(otherBrick, other, fp)
	switch {
	case terr != nil || ferr != nil:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists; their content could not be compared: %v", fp, errors.Join(terr, ferr))
		f.Manual = "compare the two by hand"
	case tv.Blake3 == fv.Blake3 && tv.Size == fv.Size:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists with the same content", fp)
		f.Repair = "move the temp file to quarantine on every brick of the replica set"
		f.fix = func(q *quarantine) error { return quarantineStale(q, stillThere(dirs), name, p, f) }
	default:
		f.Detail = fmt.Sprintf("an rsync temp file of %s, which exists with other content", fp)
		f.Manual = fmt.Sprintf("choose the version that keeps the name %s: --rename-stale-path %s with --clash-keeps temp or final; the other is moved to the quarantine (--rename-stale leaves both)", fp, tp)
		f.Versions = []Version{tv, fv}
		var tmpGFID afr.GFID
		if tmp.gfidOK {
			tmpGFID = tmp.gfid
		}
		f.clash = func(q *quarantine, keep ClashKeep) error {
			dirs := stillThere(dirs)
			switch keep {
			case ClashKeepTemp:
				// The final name's content goes first: the rename
				// never replaces a name. Killed in between, the next
				// run finds the final name free, or still taken on
				// some brick, and goes on the same way.
				if err := quarantineFinal(q, dirs, name, final, p, tmpGFID, f); err != nil {
					return err
				}
				return renameStale(q, dirs, name, final, p)
			case ClashKeepFinal:
				if renamedSomewhere(dirs, final, tmpGFID) {
					// A run keeping the temp file's version was cut
					// short: the other choice now would leave the
					// name two files, one a brick.
					return fmt.Errorf("%s: a rename keeping the temp file's version was cut short on some brick: finish it with --clash-keeps temp", tp)
				}
				return quarantineStale(q, dirs, name, p, f)
			}
			return fmt.Errorf("%s: no version chosen to keep the name %s", tp, fp)
		}
	}
}

// ClashKeep is which version of a stale temp file whose final name holds
// other content keeps the final name; the other is moved to the
// quarantine, never deleted.
type ClashKeep int

const (
	// ClashUnchosen: no person chose; such a temp file is left alone.
	ClashUnchosen ClashKeep = iota
	// ClashKeepTemp: the temp file's version is renamed over the final
	// name, whose content is moved to the quarantine first.
	ClashKeepTemp
	// ClashKeepFinal: the final name keeps its content, and the temp
	// file is moved to the quarantine.
	ClashKeepFinal
)

// ParseClashKeep reads "temp" or "final".
func ParseClashKeep(s string) (ClashKeep, error) {
	switch s {
	case "temp":
		return ClashKeepTemp, nil
	case "final":
		return ClashKeepFinal, nil
	}
	return ClashUnchosen, fmt.Errorf("%q: want temp (the temp file's version takes the name) or final (the name keeps its content)", s)
}

// repair says what keeping k does to the stale temp file of f.
func (k ClashKeep) repair(f Finding) string {
	final := f.Versions[1].Path
	switch k {
	case ClashKeepTemp:
		return fmt.Sprintf("move %s (other content) to quarantine, then rename the temp file to %s, on every brick of the replica set", final, final)
	case ClashKeepFinal:
		return fmt.Sprintf("move the temp file to quarantine on every brick of the replica set; %s keeps its content", final)
	}
	return ""
}

// quarantineFinal moves the final name of a stale temp file to quarantine
// on every brick where the temp file is, to be renamed over it: not where
// the final name is the temp file's own inode (tmpGFID), renamed there
// already by a run cut short, nor where no temp file would take its place
// (the name would go from that brick alone).
func quarantineFinal(q *quarantine, dirs []*copyInfo, name, final, p string, tmpGFID afr.GFID, f Finding) error {
	var others []*copyInfo
	for _, d := range dirs {
		if d == nil {
			others = append(others, nil)
			continue
		}
		if g, err := d.bs.b.GFIDAt(filepath.Join(d.abs, final)); err == nil && !tmpGFID.IsZero() && g == tmpGFID {
			others = append(others, nil)
			continue
		}
		if exists, _ := d.bs.b.Exists(filepath.Join(d.abs, name)); !exists {
			others = append(others, nil)
			continue
		}
		others = append(others, d)
	}
	return quarantineStale(q, others, final, p, f)
}

// renamedSomewhere reports whether on some brick the final name is the
// temp file's own inode: a rename over it was made there.
func renamedSomewhere(dirs []*copyInfo, final string, tmpGFID afr.GFID) bool {
	if tmpGFID.IsZero() {
		return false
	}
	for _, d := range dirs {
		if d == nil {
			continue
		}
		if g, err := d.bs.b.GFIDAt(filepath.Join(d.abs, final)); err == nil && g == tmpGFID {
			return true
		}
	}
	return false
}

// stillThere are the directory copies dirs with nil for those whose path
// no longer holds the directory the check read (its gfid): beside a
// mount, a rename may have moved it since, and a fix must not then change
// the directory that took its place.
func stillThere(dirs []*copyInfo) []*copyInfo {
	out := make([]*copyInfo, len(dirs))
	for i, d := range dirs {
		if d == nil {
			continue
		}
		if d.gfidOK {
			if g, err := d.bs.b.GFIDAt(d.abs); err != nil || g != d.gfid {
				continue
			}
		}
		out[i] = d
	}
	return out
}

// transferAge is how recently a temp file may have been written for a
// repair beside a mount to leave it: rsync may still be writing it.
const transferAge = time.Hour

// written reports whether the temp file name was modified, on some brick,
// within transferAge of now.
func written(dirs []*copyInfo, name string, now time.Time) bool {
	for _, d := range dirs {
		if d == nil {
			continue
		}
		var st syscall.Stat_t
		if err := d.bs.b.Lstat(filepath.Join(d.abs, name), &st); err != nil {
			continue
		}
		if now.Sub(time.Unix(st.Mtim.Sec, st.Mtim.Nsec)) < transferAge {
			return true
		}
	}
	return false
}

// renameStale renames the temp file to its final name on every brick that
// has it, never over an existing name, and moves its gfid2path record from
// the old name to the new one. The handle is a hard link to the same inode
// and needs no change; GlusterFS's rsync-hash-regex makes DHT hash the
// temp name like the final one, so no link file is needed either.
func renameStale(q *quarantine, dirs []*copyInfo, name, final, p string) error {
	for _, d := range dirs {
		if d == nil {
			continue
		}
		b := d.bs.b
		from, to := filepath.Join(d.abs, name), filepath.Join(d.abs, final)
		if exists, _ := b.Exists(from); !exists {
			continue
		}
		pg, err := b.GFIDAt(d.abs)
		if err != nil {
			return err
		}
		// Recorded first, so that a restore can rename it back (and
		// knows the file by its gfid, when it has one).
		line := ManifestLine{Class: ClassStaleTemp, From: b.RelToRoot(from), To: b.RelToRoot(to), Rename: true}
		if g, err := b.GFIDAt(from); err == nil {
			line.GFID = g.String()
		}
		if err := q.record(b, line); err != nil {
			return fmt.Errorf("%s: rename %s: manifest: %w", d.bs.label, brick.Join(p, name), err)
		}
		q.before("rename " + brick.Join(p, name))
		if err := b.Rename(from, to, true); err != nil {
			return fmt.Errorf("%s: rename %s to %s: %w", d.bs.label, brick.Join(p, name), final, err)
		}
		q.before("gfid2path " + brick.Join(p, final))
		if err := b.AddGfid2path(to, pg, final); err != nil {
			return err
		}
		if err := b.RemoveGfid2path(to, pg, name); err != nil {
			return err
		}
	}
	return nil
}

// quarantineStale moves name (a temp file whose final name holds the
// same content, or a version a person chose against) to quarantine on
// every brick of dirs, with its handle when the quarantined name is its
// only other link.
func quarantineStale(q *quarantine, dirs []*copyInfo, name, p string, f Finding) error {
	for _, d := range dirs {
		if d == nil {
			continue
		}
		b := d.bs.b
		from := filepath.Join(d.abs, name)
		if exists, _ := b.Exists(from); !exists {
			continue
		}
		g, err := b.GFIDAt(from)
		if err != nil {
			return err
		}
		moved := f
		moved.GFID = g.String() // the final name's, when it is what moves
		if err := q.move(b, from, moved); err != nil {
			return err
		}
		q.before("drop handle " + brick.Join(p, name))
		if err := b.RemoveHandle(g, 1); err != nil {
			return err
		}
	}
	return nil
}

// version describes the file at abs for a person to choose. Only a
// regular file is read: whatever else a client put at the name (a FIFO, a
// device, a symlink out of the brick) is described by its type.
func version(b *brick.Brick, abs, p string) (Version, error) {
	var st syscall.Stat_t
	if err := b.Lstat(abs, &st); err != nil {
		return Version{}, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return Version{}, fmt.Errorf("%s is a %s, not a regular file", p, brick.FileType(st.Mode))
	}
	h, err := b.HashFile(abs)
	if err != nil {
		return Version{}, err
	}
	return Version{Path: p, Size: st.Size, Blake3: h,
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC().Format(time.RFC3339Nano)}, nil
}
