package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// ErrBrickInUse is returned for a directory that is a working brick of
// the volume already: it holds files, so a heal, not a put-in, serves it.
var ErrBrickInUse = errors.New("brick in use")

// PutInOptions are the inputs of PutIn: `volume reset-brick VOL BRICK`
// (New empty: the same directory, a new empty disk mounted on it) and
// `volume replace-brick VOL OLD NEW`.
type PutInOptions struct {
	Volume string
	// Old names the brick whose place is taken: host:/path, path or id.
	Old string
	// New is the directory put in; empty for reset-brick.
	New string
	// Force accepts a new directory that holds files: they are not
	// adopted, and stay invisible until a heal or fsck meets them.
	Force bool
	// ProcDir is where running brick processes are looked for.
	ProcDir string
	// Step, when set, is called before each change (crash tests).
	Step func(string)
}

// PutInResult says what PutIn did.
type PutInResult struct {
	Volume *Volume
	// Slot is the brick's position: its id, and so the changelog key
	// that blames it, stay those of the brick it replaces.
	Slot     int
	Old, New Brick
	// Sources are the other bricks of the replica set whose roots now
	// blame the new brick, so that a heal fills it from them.
	Sources []Brick
	// Resumed: the directory already carried this volume's stamp (a
	// run that stopped before its end is being finished).
	Resumed bool
}

// PutIn puts an empty directory in as a brick of an afrkit volume, as
// GlusterFS's reset-brick and replace-brick commit force do: it checks
// everything first and refuses without writing; then it stamps the
// directory (volume-id, root gfid, .glusterfs, index), records it in the
// definition, and blames it on the root of every other readable brick of
// its replica set (afr.EmptyBrickMarks), so that the next heal — index or
// full — copies every name onto it. The brick it replaces is left as it
// is, files and all.
//
// Each step is safe to repeat, in this order, so a run killed at any point
// is finished by running the same command again: the new directory then
// carries this volume's stamp and nothing else, which PutIn accepts; once
// the definition names it, the old name is no longer in the volume and
// the new one is taken as the brick to finish.
func (r *Registry) PutIn(o PutInOptions, cat *Catalog) (*PutInResult, error) {
	step := o.Step
	if step == nil {
		step = func(string) {}
	}
	v, err := r.Load(o.Volume)
	if errors.Is(err, ErrNotFound) {
		if gv, gerr := cat.Lookup(o.Volume); gerr == nil && gv.Source == SourceGlusterd {
			return nil, fmt.Errorf("volume %s is a GlusterFS volume: put a brick in with 'gluster volume reset-brick' or 'gluster volume replace-brick ... commit force', then 'gluster volume heal %s full'", o.Volume, o.Volume)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := v.CheckPrivileges(os.Geteuid()); err != nil {
		return nil, err
	}
	if err := v.CheckOffline(o.ProcDir); err != nil {
		return nil, err
	}
	slot, err := v.BrickIndex(o.Old)
	if err != nil && o.New != "" {
		// A replace that stopped after saving the definition: the old
		// brick is gone from it, and the new one is to be finished.
		if n, nerr := v.BrickIndex(absOr(o.New)); nerr == nil {
			slot, err = n, nil
		}
	}
	if err != nil {
		return nil, err
	}
	res := &PutInResult{Volume: v, Slot: slot, Old: v.Bricks[slot], New: v.Bricks[slot]}
	if o.New != "" {
		abs, err := filepath.Abs(o.New)
		if err != nil {
			return nil, fmt.Errorf("brick %s: %w", o.New, err)
		}
		res.New.Path = abs
	}
	if res.New.Path != res.Old.Path {
		for _, b := range v.Bricks {
			if Overlap(res.New.Path, b.Path) {
				return nil, fmt.Errorf("volume %s: brick %s overlaps brick %s of the same volume", v.Name, res.New.Path, b.Path)
			}
		}
		if err := checkOtherVolumes(v.Name, []string{res.New.Path}, cat); err != nil {
			return nil, err
		}
	}
	id, err := brick.ParseGFID(v.ID)
	if err != nil {
		return nil, fmt.Errorf("volume %s: id %q: %w", v.Name, v.ID, err)
	}
	if res.Resumed, err = checkPutIn(v, res.New.Path, id, o.Force); err != nil {
		return nil, err
	}
	var sources []*brick.Brick
	for _, b := range v.ReplicaSets()[slot/v.Replica] {
		if b.ID == res.Old.ID {
			continue
		}
		bb, err := brick.Open(b.Path, v.XattrNS)
		if err == nil {
			err = bb.CheckVolumeID(id)
		}
		if err != nil {
			continue // a brick that cannot be read is healed later, not a source now
		}
		sources = append(sources, bb)
		res.Sources = append(res.Sources, b)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("volume %s: no other brick of %s's replica set can be read, so nothing could fill the new brick", v.Name, res.Old.ID)
	}
	release, err := v.lockUnmounted(res.Sources)
	if err != nil {
		return nil, err
	}
	defer release()

	step("stamp")
	st, err := stamp(res.New.Path, v.XattrNS, id)
	if err != nil {
		if st.dir != "" && !res.Resumed {
			if rerr := st.undo(v.XattrNS); rerr != nil {
				err = fmt.Errorf("%w (and taking back brick %s failed: %v)", err, st.dir, rerr)
			}
		}
		return nil, err
	}
	if res.New.Path != res.Old.Path {
		step("save")
		v.Bricks[slot] = res.New
		if err := r.Save(v); err != nil {
			return nil, err
		}
	}
	// The new root's entry is marked unsure, as GlusterFS marks it, so
	// that it is never the root's entry source. A resumed run leaves the
	// mark as it finds it: a heal may have cleared it already, and the
	// other bricks' blame is what makes the heal fill the brick.
	if !res.Resumed {
		step("dirty")
		nb, err := brick.Open(res.New.Path, v.XattrNS)
		if err == nil {
			_, err = nb.AddChangelog(nb.Root, "/", brick.KeyDirty, afr.NewBrickDirty())
		}
		if err != nil {
			return nil, fmt.Errorf("volume %s: mark the new brick's root: %w", v.Name, err)
		}
	}
	delta := afr.EmptyBrickMarks(v.Option("cluster.granular-entry-heal", "on") == "on")
	key := brick.PendingKey(res.New.ID)
	for i, bb := range sources {
		step("mark")
		if _, err := bb.AddChangelog(bb.Root, "/", key, delta); err != nil {
			return nil, fmt.Errorf("volume %s: blame the new brick on %s: %w", v.Name, res.Sources[i], err)
		}
		if err := index.OpenNS(bb.Root, bb.NS).Add(index.Xattrop, brick.RootGFID); err != nil {
			return nil, fmt.Errorf("volume %s: index the root on %s: %w", v.Name, res.Sources[i], err)
		}
	}
	return res, nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// checkPutIn refuses a directory that cannot be put in as a brick of v:
// one that is not a directory, belongs to another volume, or holds
// files (unless force). One that carries v's own stamp and nothing
// besides .glusterfs is a put-in that stopped half-way (resumed); one that
// carries v's stamp and files is a working brick, which a heal serves.
func checkPutIn(v *Volume, dir string, id afr.GFID, force bool) (resumed bool, err error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("brick %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("brick %s: not a directory", dir)
	}
	names, err := dirNames(dir)
	if err != nil {
		return false, err
	}
	b, err := brick.Open(dir, v.XattrNS)
	if err != nil {
		return false, err
	}
	got, err := b.VolumeID()
	switch {
	case err == nil && got != id:
		return false, fmt.Errorf("brick %s belongs to volume %s, not %s: %w", dir, got, v.Name, brick.ErrForeignBrick)
	case err == nil && (len(names) > 1 || len(names) == 1 && names[0] != brick.GlusterDir):
		return false, fmt.Errorf("brick %s is a working brick of volume %s and holds files (%w): only an empty directory is put in, and a heal fills this one: run 'afrkit heal %s full'", dir, v.Name, ErrBrickInUse, v.Name)
	case err == nil:
		return true, nil
	case !errors.Is(err, brick.ErrNoVolumeID):
		return false, err
	case len(names) > 0 && !force:
		return false, fmt.Errorf("brick %s is not empty: the disk put in must be (use --force to put it in anyway; its files are not adopted)", dir)
	}
	return false, nil
}

func dirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("brick %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("brick %s: %w", dir, err)
	}
	return names, nil
}
