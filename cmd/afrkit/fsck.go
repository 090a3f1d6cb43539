package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
)

// fsck's exit codes follow e2fsck's.
const (
	ExitFsckClean       ExitCode = 0
	ExitFsckRepaired    ExitCode = 1
	ExitFsckProblems    ExitCode = 4
	ExitFsckOperational ExitCode = 8
)

// exitStatus ends a command with a given code. With a nil err the
// command has said everything already; otherwise Main prints err.
type exitStatus struct {
	code ExitCode
	err  error
}

func (e exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e exitStatus) Unwrap() error { return e.err }

// FsckOptions are the inputs of `afrkit fsck`.
type FsckOptions struct {
	F      *Factory
	Volume string
	// Brick checks one brick directory alone (Volume, if set, is the
	// volume it belongs to).
	Brick       string
	Deep        bool
	JSON        bool
	Repair      bool
	DryRun      bool
	RenameStale bool
}

const fsckLong = `Check the bricks of a volume offline, without glusterd and without locks.

fsck reads every brick of VOL (afrkit's own volume or a GlusterFS volume from
glusterd's directory) and compares the bricks of each replica set. It reports,
by class: the brick root (volume-id, root gfid, the .glusterfs tree); every
entry's gfid, handle and gfid2path; orphan, dangling and mismatched handles;
stale and missing heal index entries; malformed, foreign and self-accusing
changelog xattrs; gfid and type mismatches and differences that no counter
accounts for (content too with --deep); stale DHT link files; and rsync temp
files left behind (.NAME.XXXXXX), with whether NAME exists and holds the same
content. Each finding says what a repair would do, or why a person must choose.

With --brick DIR it checks that brick alone (with --volume VOL, against that
volume's id and changelog keys).

Reading is safe while GlusterFS serves the bricks; the report is then a
snapshot of a moving volume.

EXIT STATUS (as e2fsck)
  0  no problem found
  1  problems were found and all repaired
  4  problems are left
  8  an operational error (a brick could not be read)
  2  a mistake in the command line`

// NewCmdFsck builds `afrkit fsck`.
func NewCmdFsck(f *Factory, runF func(*FsckOptions) error) *cobra.Command {
	opts := &FsckOptions{F: f}
	cmd := &cobra.Command{
		Use:   "fsck {VOL | --brick DIR [--volume VOL]}",
		Short: "Check the bricks of a volume offline",
		Long:  fsckLong,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if opts.Volume != "" {
					return usageError{errors.New("fsck: give the volume as VOL or as --volume, not both")}
				}
				opts.Volume = args[0]
			}
			if opts.Volume == "" && opts.Brick == "" {
				return usageError{errors.New("fsck: name a volume, or a brick with --brick DIR")}
			}
			if opts.DryRun && !opts.Repair && !opts.RenameStale {
				return usageError{errors.New("fsck: --dry-run goes with --repair or --rename-stale")}
			}
			if runF != nil {
				return runF(opts)
			}
			return fsckRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Brick, "brick", "", "check this brick directory alone")
	fl.StringVar(&opts.Volume, "volume", "", "with --brick: the volume the brick belongs to")
	fl.BoolVar(&opts.Deep, "deep", false, "compare the content of every file's copies by blake3")
	fl.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fl.BoolVar(&opts.Repair, "repair", false, "repair what has one right answer (not yet implemented)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "with --repair or --rename-stale: print the plan, change nothing")
	fl.BoolVar(&opts.RenameStale, "rename-stale", false, "rename stale rsync temp files to their final names (not yet implemented)")
	return cmd
}

func fsckRun(opts *FsckOptions) error {
	if opts.Repair || opts.RenameStale {
		return fmt.Errorf("fsck --repair and --rename-stale: %w (fsck without them reports what they will do)", errNotImplemented)
	}
	var v *volume.Volume
	if opts.Volume != "" {
		var err error
		if v, err = opts.F.Catalog().Lookup(opts.Volume); err != nil {
			return exitStatus{ExitFsckOperational, err}
		}
	}
	ctx := context.Background()
	fo := fsck.Options{Deep: opts.Deep}
	var rep *fsck.Report
	var err error
	if opts.Brick != "" {
		rep, err = fsck.CheckBrick(ctx, opts.Brick, v, fo)
	} else {
		rep, err = fsck.CheckVolume(ctx, v, fo)
	}
	if err != nil {
		return exitStatus{ExitFsckOperational, err}
	}
	w := opts.F.IO.Out
	if opts.JSON {
		if err := writeFsckJSON(w, rep); err != nil {
			return exitStatus{ExitFsckOperational, err}
		}
	} else {
		writeFsckText(w, rep)
	}
	if len(rep.Findings) > 0 {
		return exitStatus{code: ExitFsckProblems}
	}
	return nil
}

// fsckJSON is the --json form of a report.
type fsckJSON struct {
	*fsck.Report
	Counts []fsck.Count `json:"counts"`
}

func writeFsckJSON(w io.Writer, rep *fsck.Report) error {
	if rep.Findings == nil {
		rep.Findings = []fsck.Finding{}
	}
	counts := rep.Counts()
	if counts == nil {
		counts = []fsck.Count{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(fsckJSON{Report: rep, Counts: counts})
}

func writeFsckText(w io.Writer, rep *fsck.Report) {
	what := "brick " + strings.Join(rep.Bricks, ", ")
	if rep.Volume != "" {
		what = fmt.Sprintf("volume %s (%s)", rep.Volume, strings.Join(rep.Bricks, ", "))
	}
	fmt.Fprintf(w, "Checked %s: %d entries, %d handles, %d index entries.\n", what, rep.Entries, rep.Handles, rep.Indexed)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "No problems found.")
		return
	}
	repairable, manual := 0, 0
	for _, c := range rep.Counts() {
		fmt.Fprintf(w, "\n%s (%d)\n", c.Class, c.N)
		for _, f := range rep.Findings {
			if f.Class != c.Class {
				continue
			}
			fmt.Fprintf(w, "  %s  %s", f.Brick, f.Path)
			if f.GFID != "" {
				fmt.Fprintf(w, "  gfid %s", f.GFID)
			}
			fmt.Fprintf(w, "\n      %s\n", f.Detail)
			for _, v := range f.Versions {
				fmt.Fprintf(w, "      version %s: %d bytes, mtime %s, blake3 %s\n", v.Path, v.Size, v.Mtime, v.Blake3)
			}
			if f.Repairable() {
				repairable++
				fmt.Fprintf(w, "      repair: %s\n", f.Repair)
			} else {
				manual++
				fmt.Fprintf(w, "      by hand: %s\n", f.Manual)
			}
		}
	}
	fmt.Fprintf(w, "\n%d problem(s): %d with one right answer (repair), %d for a person to decide (by hand).\n", len(rep.Findings), repairable, manual)
}
