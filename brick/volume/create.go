package volume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// CreateOptions are the inputs of Create.
type CreateOptions struct {
	Name    string
	Replica int
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
	if o.Replica < 2 {
		return nil, fmt.Errorf("volume %s: replica count must be at least 2, got %d", o.Name, o.Replica)
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
		for j := range abs {
			if i != j && (abs[i] == abs[j] || strings.HasPrefix(abs[j], abs[i]+string(filepath.Separator))) {
				return nil, fmt.Errorf("volume %s: brick %s overlaps brick %s", o.Name, abs[i], abs[j])
			}
		}
	}
	for _, a := range abs {
		if err := checkNewBrick(a, o.XattrNS, o.Force); err != nil {
			return nil, err
		}
	}
	id := brick.NewGFID()
	v := &Volume{
		Name:    o.Name,
		ID:      id.String(),
		Replica: o.Replica,
		Type:    typeName(len(abs)/o.Replica, o.Replica, false),
		Status:  "Created",
		Source:  SourceAfrkit,
		XattrNS: o.XattrNS,
		Options: map[string]string{},
	}
	for i, a := range abs {
		if err := os.MkdirAll(a, 0o755); err != nil {
			return nil, fmt.Errorf("brick %s: %w", a, err)
		}
		b, err := brick.Open(a, o.XattrNS)
		if err != nil {
			return nil, err
		}
		if err := b.Init(id); err != nil {
			return nil, err
		}
		if err := index.Open(a).Init(); err != nil {
			return nil, err
		}
		v.Bricks = append(v.Bricks, Brick{Host: o.Host, Path: a, ID: fmt.Sprintf("%s-client-%d", o.Name, i), Local: true})
	}
	if err := r.Save(v); err != nil {
		return nil, err
	}
	return v, nil
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
