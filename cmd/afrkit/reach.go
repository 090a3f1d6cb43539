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
	if !v.StartedGlusterFS() {
		return heal.OpenOptions{}
	}
	return heal.OpenOptions{Remote: f.remoteBrick}
}

// remoteBrick opens brick i of v over the network.
func (f *Factory) remoteBrick(v *volume.Volume, i int) (heal.RemoteBrick, error) {
	// Loaded per brick: dlopen hands back the library already loaded,
	// and a command that reads no other host never loads it.
	lib, err := loadGfapi()
	if err != nil {
		return nil, fmt.Errorf("brick %s is %w, which afrkit reads through libgfapi: %w", v.Bricks[i], heal.ErrOnAnotherHost, err)
	}
	b, err := remote.Open(lib, remote.Config{GlusterdDir: f.GlusterdDir, Volume: v, Brick: i})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// loadGfapi loads libgfapi: the one the dynamic linker finds, or the one
// AFRKIT_LIBGFAPI names.
func loadGfapi() (*gfapi.Lib, error) {
	if path := os.Getenv("AFRKIT_LIBGFAPI"); path != "" {
		return gfapi.LoadFrom(path)
	}
	return gfapi.Load()
}

// servedByGlusterFS reports whether afrkit changes v only through
// GlusterFS (volume.Volume.ServedByGlusterFS).
func servedByGlusterFS(v *volume.Volume) (bool, error) { return v.ServedByGlusterFS(procDir) }

// noteUnreachable tells the user, once, that bricks on other hosts could
// not be read because libgfapi is missing: the report shows them as not
// connected, which alone would not say what to install. errs are why each
// brick could not be read (nil for one that could).
func noteUnreachable(w io.Writer, errs []error) {
	for _, err := range errs {
		if errors.Is(err, gfapi.ErrNotInstalled) {
			fmt.Fprintf(w, "afrkit: %v\n", err)
			return
		}
	}
}

// setErrs are why each brick of sets could not be opened.
func setErrs(sets []*heal.ReplicaSet) []error {
	var errs []error
	for _, rs := range sets {
		errs = append(errs, rs.Err...)
	}
	return errs
}
