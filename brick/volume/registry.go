package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Registry is afrkit's own volume registry: one JSON file per volume under
// Dir/volumes.
type Registry struct {
	Dir string
}

func (r *Registry) path(name string) string {
	return filepath.Join(r.Dir, "volumes", name+".json")
}

// Load reads the named volume, or returns ErrNotFound.
func (r *Registry) Load(name string) (*Volume, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(r.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("volume %s in %s: %w", name, r.Dir, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	var v *Volume
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("volume %s: corrupt definition %s: %w", name, r.path(name), err)
	}
	if v == nil { // the file says null
		return nil, fmt.Errorf("volume %s: definition %s: %w: it is empty (null)", name, r.path(name), ErrBadDefinition)
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("volume %s: definition %s: %w", name, r.path(name), err)
	}
	if v.Name != name {
		return nil, fmt.Errorf("volume %s: definition %s: %w: name: %q, but the file is named for %q", name, r.path(name), ErrBadDefinition, v.Name, name)
	}
	v.Source = SourceAfrkit
	return v, nil
}

// List returns the names of the registry's volumes, sorted.
func (r *Registry) List() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(r.Dir, "volumes"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("volume registry %s: %w", r.Dir, err)
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() && ValidName(n) == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Save writes v atomically (temp file, fsync, rename), so a crash never
// leaves a half-written definition.
func (r *Registry) Save(v *Volume) error {
	if err := v.Validate(); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	dir := filepath.Dir(r.path(v.Name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("volume registry: %w", err)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	tmp, err := os.CreateTemp(dir, "."+v.Name+".json.*")
	if err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("volume %s: write %s: %w", v.Name, tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("volume %s: fsync %s: %w", v.Name, tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := os.Rename(tmp.Name(), r.path(v.Name)); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	return nil
}

// Delete removes the named volume's definition. Its bricks are left as
// they are, files, handles and stamp.
func (r *Registry) Delete(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := os.Remove(r.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("volume %s in %s: %w", name, r.Dir, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	return nil
}

// ValidName checks a volume name against GlusterFS's rules: letters, digits,
// '-' and '_', at most 64 characters, so a name is always a safe file name.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("volume name %q: must be 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("volume name %q: only letters, digits, '-' and '_' are allowed", name)
		}
	}
	return nil
}
