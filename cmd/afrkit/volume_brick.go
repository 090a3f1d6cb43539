package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick/volume"
)

// PutInCmdOptions are the inputs of `volume reset-brick` and
// `volume replace-brick`.
type PutInCmdOptions struct {
	F      *Factory
	PutIn  volume.PutInOptions
	NoHeal bool
	Jobs   int
}

// NewCmdVolumeResetBrick builds `afrkit volume reset-brick VOL BRICK`.
func NewCmdVolumeResetBrick(f *Factory) *cobra.Command {
	opts := &PutInCmdOptions{F: f}
	cmd := &cobra.Command{
		Use:   "reset-brick VOL BRICK",
		Short: "Put a new empty disk in at a brick's path, and heal it full",
		Long: `Put a new, empty disk in where a brick of an afrkit volume was: mount it at
the brick's path first. The directory is stamped as the brick (volume-id, root
gfid, .glusterfs, heal index), the other bricks of its replica set blame it on
the volume's root as GlusterFS's reset-brick does, and a full heal fills it.

A brick directory with neither its volume-id nor .glusterfs is refused by every
other command, because that is what a disk that is not mounted looks like:
filling its mount point would fill the filesystem beneath it. This command is
how a person says the empty directory is meant.

It refuses, changing nothing, a directory that holds files (unless --force;
they are not adopted), one that belongs to another volume, and a working brick
of this volume. Killed at any point, running it again finishes it.`,
		Example: "  afrkit volume reset-brick media /disk2/media",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.PutIn.Volume, opts.PutIn.Old = args[0], args[1]
			return putInRun(opts, "reset-brick")
		},
	}
	addPutInFlags(cmd, opts)
	return cmd
}

// NewCmdVolumeReplaceBrick builds `afrkit volume replace-brick VOL OLD NEW`.
func NewCmdVolumeReplaceBrick(f *Factory) *cobra.Command {
	opts := &PutInCmdOptions{F: f}
	cmd := &cobra.Command{
		Use:   "replace-brick VOL OLD NEW",
		Short: "Put an empty directory in place of a brick, and heal it full",
		Long: `Put the empty directory NEW in place of the brick OLD of an afrkit volume, as
GlusterFS's 'replace-brick ... commit force' does: NEW takes OLD's place and id
(so the changelog keys that blame it stay the same), is stamped as a brick, is
blamed on the volume's root by the other bricks of its replica set, and a full
heal fills it. OLD need not be readable, and is left exactly as it is: its
files stay where they are.

It refuses, changing nothing, a NEW that holds files (unless --force; they are
not adopted), belongs to another volume, or overlaps a brick of any volume.
Killed at any point, running it again finishes it.`,
		Example: "  afrkit volume replace-brick media /disk2/media /disk4/media",
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.PutIn.Volume, opts.PutIn.Old, opts.PutIn.New = args[0], args[1], args[2]
			return putInRun(opts, "replace-brick")
		},
	}
	addPutInFlags(cmd, opts)
	return cmd
}

func addPutInFlags(cmd *cobra.Command, opts *PutInCmdOptions) {
	cmd.Flags().BoolVar(&opts.PutIn.Force, "force", false, "accept a directory that is not empty (its files are not adopted)")
	cmd.Flags().BoolVar(&opts.NoHeal, "no-heal", false, "only put the brick in; the next 'afrkit heal VOL' fills it")
	cmd.Flags().IntVar(&opts.Jobs, "jobs", 0, "entries healed at once (default: the number of CPUs)")
}

func putInRun(opts *PutInCmdOptions, verb string) error {
	if opts.Jobs < 0 {
		return usageError{fmt.Errorf("--jobs %d: want 0 (one per CPU) or more", opts.Jobs)}
	}
	f := opts.F
	opts.PutIn.ProcDir = procDir
	cat := f.Catalog()
	res, err := cat.Registry.PutIn(opts.PutIn, cat)
	if err != nil {
		return err
	}
	out := f.IO.Out
	labels := res.Volume.BrickLabels()
	if res.New.Path == res.Old.Path {
		fmt.Fprintf(out, "volume %s: %s: success: %s is %s again\n", verb, res.Volume.Name, res.New, res.New.ID)
	} else {
		fmt.Fprintf(out, "volume %s: %s: success: %s is %s in place of %s, which is left as it is\n", verb, res.Volume.Name, res.New, res.New.ID, res.Old)
	}
	if res.Resumed {
		fmt.Fprintf(out, "(it carried this volume's stamp already: a run that stopped is finished)\n")
	}
	for _, s := range res.Sources {
		i, _ := res.Volume.BrickIndex(s.ID)
		fmt.Fprintf(out, "  %s blames it on / (metadata and entry), so a heal fills it\n", labels[i])
	}
	if opts.NoHeal {
		fmt.Fprintf(out, "Not healed (--no-heal): run 'afrkit heal %s' to fill it.\n", res.Volume.Name)
		return nil
	}
	fmt.Fprintf(out, "\nafrkit heal %s full\n", res.Volume.Name)
	return healRun(&HealRunOptions{F: f, Volume: res.Volume.Name, Full: true, Jobs: opts.Jobs})
}
