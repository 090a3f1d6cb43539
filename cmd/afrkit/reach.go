package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/afrkit/afrkit/brick/remote"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/gfapi"
	"github.com/afrkit/afrkit/heal"
)

// reach says how the commands that read read the bricks of v that are not
// on this host: over GlusterFS's protocol through libgfapi (package
// brick/remote), when v is a started GlusterFS volume, whose brick
// processes serve them. A stopped volume's other bricks cannot be read
// from here. The bricks on this host are read from their directories.
func (f *Factory) reach(v *volume.Volume) heal.OpenOptions {
	if v.Source != volume.SourceGlusterd || v.Status != "Started" {
		return heal.OpenOptions{}
	}
	return heal.OpenOptions{Remote: func(v *volume.Volume, i int) (heal.RemoteBrick, error) {
		// Loaded per brick: dlopen hands back the library already loaded,
		// and a command that reads no other host never loads it.
		// AFRKIT_LIBGFAPI names a libgfapi the dynamic linker would not
		// find.
		load := gfapi.Load
		if path := os.Getenv("AFRKIT_LIBGFAPI"); path != "" {
			load = func() (*gfapi.Lib, error) { return gfapi.LoadFrom(path) }
		}
		lib, err := load()
		if err != nil {
			return nil, fmt.Errorf("brick %s is %w, which afrkit reads through libgfapi: %w", v.Bricks[i], heal.ErrOnAnotherHost, err)
		}
		b, err := remote.Open(lib, remote.Config{GlusterdDir: f.GlusterdDir, Volume: v, Brick: i})
		if err != nil {
			return nil, err
		}
		return b, nil
	}}
}

// noteUnreachable tells the user, once, that bricks on other hosts could
// not be read because libgfapi is missing: the report shows them as not
// connected, which alone would not say what to install.
func noteUnreachable(w io.Writer, sets []*heal.ReplicaSet) {
	for _, rs := range sets {
		for _, err := range rs.Err {
			if errors.Is(err, gfapi.ErrNotInstalled) {
				fmt.Fprintf(w, "afrkit: %v\n", err)
				return
			}
		}
	}
}
