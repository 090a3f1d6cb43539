package volume

import (
	"errors"
	"fmt"
)

// Catalog finds volumes by name: afrkit's own registry first, then glusterd.
type Catalog struct {
	Registry *Registry
	Glusterd *Glusterd
}

// Lookup resolves a volume name.
func (c *Catalog) Lookup(name string) (*Volume, error) {
	v, err := c.Registry.Load(name)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return v, err
	}
	v, err = c.Glusterd.Load(name)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("volume %s: %w (looked in %s and %s/vols)", name, ErrNotFound, c.Registry.Dir, c.Glusterd.Dir)
	}
	return v, err
}

// Entry is one line of a volume listing.
type Entry struct {
	Name   string `json:"name"`
	Source Source `json:"source"`
}

// List lists every volume both sources know. A name in both is listed from
// the registry, which Lookup also prefers.
func (c *Catalog) List() ([]Entry, error) {
	own, err := c.Registry.List()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Entry
	for _, n := range own {
		seen[n] = true
		out = append(out, Entry{Name: n, Source: SourceAfrkit})
	}
	gl, err := c.Glusterd.List()
	if err != nil {
		return out, err
	}
	for _, n := range gl {
		if !seen[n] {
			out = append(out, Entry{Name: n, Source: SourceGlusterd})
		}
	}
	return out, nil
}
