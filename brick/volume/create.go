package volume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// CreateOptions are the inputs of Create.
type CreateOptions struct {
	Name    string
	Replica int
	// Arbiter is 1 for replica 3 arbiter 1 (the third brick of each set
	// holds names and metadata but no data), as GlusterFS's; else 0.
	Arbiter int
	Dirs    []string
	// Force allows bricks that are not empty (their files are not adopted:
	// they stay invisible until healed or fsck'd).
	Force bool
	// XattrNS is "trusted" or "user".
	XattrNS string
	// Host is recorded as each brick's host (for host:/path display).
	Host string
}

// Create makes a new afrkit volume: it checks every directory, stamps the
// volume-id, root gfid, .glusterfs tree and index directories on each, and
// saves the definition. It refuses a directory that already belongs to a
// volume, one that is not empty (unless Force), one given twice, and one
// nested in another brick, before it writes anything.
func (r *Registry) Create(o CreateOptions, cat *Catalog) (*Volume, error) {
	if err := ValidName(o.Name); err != nil {
		return nil, err
	}
	if _, err := cat.Lookup(o.Name); err == nil {
		return nil, fmt.Errorf("volume %s already exists", o.Name)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err := (&Volume{Name: o.Name, XattrNS: o.XattrNS}).CheckPrivileges(os.Geteuid()); err != nil {
		return nil, fmt.Errorf("%w; an ordinary user's volume uses --xattr-ns user", err)
	}
	if o.Replica < 2 {
		return nil, fmt.Errorf("volume %s: replica count must be at least 2, got %d", o.Name, o.Replica)
	}
	if o.Arbiter != 0 && (o.Arbiter != 1 || o.Replica != 3) {
		return nil, fmt.Errorf("volume %s: arbiter %d with replica %d: an arbiter volume is replica 3 arbiter 1, as GlusterFS's", o.Name, o.Arbiter, o.Replica)
	}
	if len(o.Dirs) == 0 || len(o.Dirs)%o.Replica != 0 {
		return nil, fmt.Errorf("volume %s: %d brick directories do not make replica sets of %d", o.Name, len(o.Dirs), o.Replica)
	}
	abs := make([]string, len(o.Dirs))
	for i, d := range o.Dirs {
		a, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("brick %s: %w", d, err)
		}
		abs[i] = a
	}
	for i := range abs {
		for j := range abs[:i] {
			if Overlap(abs[i], abs[j]) {
				return nil, fmt.Errorf("volume %s: brick %s overlaps brick %s", o.Name, abs[i], abs[j])
			}
		}
	}
	for _, a := range abs {
		if err := checkNewBrick(a, o.XattrNS, o.Force); err != nil {
			return nil, err
		}
	}
	if err := checkOtherVolumes(o.Name, abs, cat); err != nil {
		return nil, err
	}
	id := brick.NewGFID()
	v := &Volume{
		Name:    o.Name,
		ID:      id.String(),
		Replica: o.Replica,
		Arbiter: o.Arbiter,
		Type:    typeName(len(abs)/o.Replica, o.Replica, false),
		Status:  "Created",
		Source:  SourceAfrkit,
		XattrNS: o.XattrNS,
		Options: map[string]string{},
	}
	// A create that fails half-way takes back what it stamped: a brick
	// left with the volume-id of a volume that exists nowhere would be
	// refused by every later create.
	var made []stamped
	fail := func(err error) (*Volume, error) {
		for i := len(made) - 1; i >= 0; i-- {
			if rerr := made[i].undo(o.XattrNS); rerr != nil {
				err = fmt.Errorf("%w (and taking back brick %s failed: %v)", err, made[i].dir, rerr)
			}
		}
		return nil, err
	}
	for i, a := range abs {
		st, err := stamp(a, o.XattrNS, id)
		if st.dir != "" {
			made = append(made, st)
		}
		if err != nil {
			return fail(err)
		}
		v.Bricks = append(v.Bricks, Brick{Host: o.Host, Path: a, ID: fmt.Sprintf("%s-client-%d", o.Name, i), Local: true})
	}
	if err := r.Save(v); err != nil {
		return fail(err)
	}
	return v, nil
}

// stamped is a brick directory Create stamped, and what was there before.
type stamped struct {
	dir string
	// created: Create made the directory, so all of it is Create's.
	created bool
	// glusterfs: Create made its .glusterfs; gfid: it set the root gfid.
	glusterfs, gfid bool
}

// stamp makes dir a brick of volume id. What it returns says what to take
// back, also when it fails part-way (dir is empty when nothing was done).
func stamp(dir, ns string, id afr.GFID) (stamped, error) {
	st := stamped{dir: dir}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		st.created = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return stamped{}, fmt.Errorf("brick %s: %w", dir, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, brick.GlusterDir)); errors.Is(err, fs.ErrNotExist) {
		st.glusterfs = true
	}
	b, err := brick.Open(dir, ns)
	if err != nil {
		return st, err
	}
	if _, err := b.GFIDOf("/"); err != nil {
		st.gfid = true
	}
	if err := b.Init(id); err != nil {
		return st, err
	}
	return st, index.OpenNS(dir, ns).Init()
}

// undo takes back what stamp did.
func (st stamped) undo(ns string) error {
	if st.created {
		return os.RemoveAll(st.dir)
	}
	b, err := brick.Open(st.dir, ns)
	if err != nil {
		return err
	}
	var errs []error
	if st.glusterfs {
		errs = append(errs, b.RemoveAll(b.GlusterPath()))
	}
	errs = append(errs, b.RemoveRawXattr(b.Root, "/", b.Key(brick.KeyVolumeID)))
	if st.gfid {
		errs = append(errs, b.RemoveRawXattr(b.Root, "/", b.Key(brick.KeyGFID)))
	}
	return errors.Join(errs...)
}

// checkOtherVolumes refuses brick directories that are, hold or sit
// inside a local brick of another volume the catalog knows.
func checkOtherVolumes(name string, dirs []string, cat *Catalog) error {
	ents, err := cat.List()
	if err != nil {
		return err
	}
	for _, e := range ents {
		v, err := cat.Lookup(e.Name)
		if errors.Is(err, fs.ErrPermission) && e.Source == SourceGlusterd {
			return fmt.Errorf("volume %s: cannot check that its bricks stay clear of GlusterFS volume %s's: %w (glusterd's definitions are readable by root only: run as root, or give --glusterd-dir a directory you can read)", name, e.Name, err)
		}
		if err != nil {
			return fmt.Errorf("volume %s: cannot check that its bricks stay clear of volume %s's: %w", name, e.Name, err)
		}
		for _, b := range v.Bricks {
			if !b.Local {
				continue
			}
			for _, d := range dirs {
				if Overlap(d, b.Path) {
					return fmt.Errorf("volume %s: brick %s overlaps brick %s of volume %s", name, d, b.Path, v.Name)
				}
			}
		}
	}
	return nil
}

// checkNewBrick refuses a directory that belongs to a volume already or,
// without force, holds anything.
func checkNewBrick(dir, ns string, force bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("brick %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("brick %s: not a directory", dir)
	}
	b, err := brick.Open(dir, ns)
	if err != nil {
		return err
	}
	if id, err := b.VolumeID(); err == nil {
		return fmt.Errorf("brick %s already belongs to volume %s: %w", dir, id, brick.ErrForeignBrick)
	} else if !errors.Is(err, brick.ErrNoVolumeID) {
		return err
	}
	if force {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("brick %s: %w", dir, err)
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != io.EOF {
		if err != nil {
			return fmt.Errorf("brick %s: %w", dir, err)
		}
		return fmt.Errorf("brick %s is not empty (use --force to create the volume anyway)", dir)
	}
	return nil
}
