package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
)

// NewCmdVolume groups the volume verbs.
func NewCmdVolume(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume",
		Short: "Create, list, describe and delete volumes",
		// A verb it does not know is a mistake (exit 2), not a request
		// for help: scripts see it fail.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdVolumeCreate(f, nil), NewCmdVolumeInfo(f, nil), NewCmdVolumeList(f, nil), NewCmdVolumeSet(f), NewCmdVolumeDelete(f),
		NewCmdVolumeResetBrick(f), NewCmdVolumeReplaceBrick(f))
	return cmd
}

// VolumeCreateOptions are the inputs of `volume create`.
type VolumeCreateOptions struct {
	F       *Factory
	Name    string
	Replica int
	// Arbiter is 1 for replica 3 arbiter 1.
	Arbiter int
	Dirs    []string
	Force   bool
}

// NewCmdVolumeCreate builds `afrkit volume create VOL replica N DIR...`.
func NewCmdVolumeCreate(f *Factory, runF func(*VolumeCreateOptions) error) *cobra.Command {
	opts := &VolumeCreateOptions{F: f}
	cmd := &cobra.Command{
		Use:   "create VOL replica N [arbiter 1] DIR...",
		Short: "Create an afrkit volume on local directories",
		Long: `Create an afrkit volume whose bricks are local directories.

Each directory is stamped with the volume's id, the root gfid, the .glusterfs
handle tree and the heal index, exactly as GlusterFS lays out a brick. A
directory that already belongs to a volume is refused; so is one that is not
empty, unless --force is given. With several replica sets' worth of
directories the volume is distributed-replicate.

replica 3 arbiter 1 makes the third brick of each set an arbiter, as
GlusterFS's: it holds every name and its metadata but no file data (its
copies stay empty), so two disks hold the data and the third, which can be
small, breaks ties: a write that would leave the arbiter the only good copy
fails rather than make a split-brain.`,
		Example: "  afrkit volume create media replica 3 /disk1/media /disk2/media /disk3/media\n" +
			"  afrkit volume create media replica 3 arbiter 1 /disk1/media /disk2/media /small/media",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 4 || args[1] != "replica" {
				return usageError{fmt.Errorf("usage: afrkit volume create VOL replica N [arbiter 1] DIR...")}
			}
			n, err := strconv.Atoi(args[2])
			if err != nil || n < 2 {
				return usageError{fmt.Errorf("replica count %q: want a number of at least 2", args[2])}
			}
			if args[3] == "arbiter" && (len(args) < 6 || args[4] != "1" || n != 3) {
				return usageError{fmt.Errorf("usage: afrkit volume create VOL replica 3 arbiter 1 DIR DIR DIR...")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Replica, _ = strconv.Atoi(args[2])
			opts.Dirs = args[3:]
			if args[3] == "arbiter" {
				opts.Arbiter, opts.Dirs = 1, args[5:]
			}
			if runF != nil {
				return runF(opts)
			}
			return volumeCreateRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "accept brick directories that are not empty")
	return cmd
}

func volumeCreateRun(opts *VolumeCreateOptions) error {
	f := opts.F
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	cat := f.Catalog()
	v, err := cat.Registry.Create(volume.CreateOptions{
		Name: opts.Name, Replica: opts.Replica, Arbiter: opts.Arbiter, Dirs: opts.Dirs, Force: opts.Force,
		XattrNS: f.XattrNS, Host: host,
	}, cat)
	if err != nil {
		return err
	}
	layout := fmt.Sprintf("replica %d", v.Replica)
	if v.Arbiter > 0 {
		layout += fmt.Sprintf(" arbiter %d", v.Arbiter)
	}
	fmt.Fprintf(f.IO.Out, "volume create: %s: success: %d bricks, %s (%s)\n", v.Name, len(v.Bricks), layout, v.Type)
	return nil
}

// NewCmdVolumeDelete builds `afrkit volume delete VOL`.
func NewCmdVolumeDelete(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "delete VOL",
		Short: "Forget an afrkit volume, leaving its bricks as they are",
		Long: `Forget one of afrkit's own volumes: its definition is removed from the
registry. Its bricks keep their files, handles and volume-id stamp, so that
no data goes with the definition; the command says how to reuse them.
GlusterFS volumes are deleted with 'gluster volume delete'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return volumeDeleteRun(f, args[0])
		},
	}
}

func volumeDeleteRun(f *Factory, name string) error {
	reg := f.Catalog().Registry
	v, err := reg.Load(name)
	if errors.Is(err, volume.ErrNotFound) {
		if gv, gerr := f.Catalog().Lookup(name); gerr == nil && gv.Source == volume.SourceGlusterd {
			return fmt.Errorf("volume %s is a GlusterFS volume: delete it with 'gluster volume delete %s'", name, name)
		}
		return err
	}
	if err != nil && !errors.Is(err, volume.ErrBadDefinition) {
		return err
	}
	if err := reg.Delete(name); err != nil {
		return err
	}
	out := f.IO.Out
	fmt.Fprintf(out, "volume delete: %s: success\n", name)
	if v == nil {
		return nil // a definition that could not be read names no bricks
	}
	fmt.Fprintf(out, "Its bricks keep their files, handles and volume-id %s:\n", v.ID)
	var dirs []string
	for _, b := range v.Bricks {
		fmt.Fprintf(out, "  %s\n", b.Path)
		dirs = append(dirs, b.Path)
	}
	key := v.XattrNS + "." + brick.KeyVolumeID
	fmt.Fprintf(out, "To make a new volume of them, remove the stamp on each (setfattr -x %s DIR),\nthen: afrkit volume create NEW replica %d --force %s\n", key, v.Replica, strings.Join(dirs, " "))
	return nil
}

// VolumeInfoOptions are the inputs of `volume info`.
type VolumeInfoOptions struct {
	F    *Factory
	Name string
	JSON bool
}

// NewCmdVolumeInfo builds `afrkit volume info [VOL] [--json]`.
func NewCmdVolumeInfo(f *Factory, runF func(*VolumeInfoOptions) error) *cobra.Command {
	opts := &VolumeInfoOptions{F: f}
	cmd := &cobra.Command{
		Use:   "info [VOL]",
		Short: "Describe one volume, or every volume",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return volumeInfoRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func volumeInfoRun(opts *VolumeInfoOptions) error {
	cat := opts.F.Catalog()
	names := []string{opts.Name}
	if opts.Name == "" {
		ents, err := cat.List()
		if err != nil {
			return err
		}
		names = names[:0]
		for _, e := range ents {
			names = append(names, e.Name)
		}
	}
	vols := []*volume.Volume{}
	var bad int
	for _, n := range names {
		v, err := cat.Lookup(n)
		if err != nil && opts.Name != "" {
			return err
		}
		if err != nil {
			// One bad definition must not hide the others.
			fmt.Fprintf(opts.F.IO.ErrOut, "afrkit: %v\n", err)
			bad++
			continue
		}
		vols = append(vols, v)
	}
	if err := writeVolumeInfo(opts, vols); err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(opts.F.IO.ErrOut, "afrkit: %d volume definition(s) could not be read\n", bad)
		return errReported
	}
	return nil
}

func writeVolumeInfo(opts *VolumeInfoOptions, vols []*volume.Volume) error {
	out := opts.F.IO.Out
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if opts.Name != "" {
			return enc.Encode(vols[0])
		}
		return enc.Encode(vols)
	}
	if len(vols) == 0 {
		fmt.Fprintln(out, "No volumes present")
		return nil
	}
	for i, v := range vols {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printVolumeInfo(out, v)
	}
	return nil
}

// printVolumeInfo prints a volume in the layout of `gluster volume info`,
// which operators already read fluently.
func printVolumeInfo(w io.Writer, v *volume.Volume) {
	sets := len(v.ReplicaSets())
	fmt.Fprintf(w, "Volume Name: %s\n", v.Name)
	fmt.Fprintf(w, "Type: %s\n", v.Type)
	fmt.Fprintf(w, "Volume ID: %s\n", v.ID)
	fmt.Fprintf(w, "Status: %s\n", v.Status)
	fmt.Fprintf(w, "Source: %s\n", v.Source)
	// An arbiter volume's set reads "(2 + 1)", as GlusterFS prints it.
	perSet := fmt.Sprint(v.Replica)
	arbiter := v.ArbiterPosition()
	if arbiter >= 0 {
		perSet = fmt.Sprintf("(%d + 1)", v.Replica-1)
	}
	fmt.Fprintf(w, "Number of Bricks: %d x %s = %d\n", max(sets, 1), perSet, len(v.Bricks))
	fmt.Fprintf(w, "Xattr namespace: %s\n", v.XattrNS)
	fmt.Fprintln(w, "Bricks:")
	for i, b := range v.Bricks {
		role := ""
		if arbiter >= 0 && i%v.Replica == arbiter {
			role = ", arbiter"
		}
		fmt.Fprintf(w, "Brick%d: %s (%s%s)\n", i+1, b, b.ID, role)
	}
	if len(v.Options) > 0 {
		fmt.Fprintln(w, "Options Reconfigured:")
		keys := make([]string, 0, len(v.Options))
		for k := range v.Options {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %s\n", k, v.Options[k])
		}
	}
}

// VolumeListOptions are the inputs of `volume list`.
type VolumeListOptions struct {
	F    *Factory
	JSON bool
}

// NewCmdVolumeList builds `afrkit volume list`.
func NewCmdVolumeList(f *Factory, runF func(*VolumeListOptions) error) *cobra.Command {
	opts := &VolumeListOptions{F: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List afrkit's and glusterd's volumes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return volumeListRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func volumeListRun(opts *VolumeListOptions) error {
	ents, err := opts.F.Catalog().List()
	if err != nil {
		return err
	}
	out := opts.F.IO.Out
	if opts.JSON {
		if ents == nil {
			ents = []volume.Entry{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(ents)
	}
	if len(ents) == 0 {
		fmt.Fprintln(out, "No volumes present")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE")
	for _, e := range ents {
		fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Source)
	}
	return tw.Flush()
}
