package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
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
	Jobs        int
	JSON        bool
	Repair      bool
	DryRun      bool
	RenameStale bool
	// RenamePaths are stale temp files to rename by name, those whose
	// suffix reads as a word included.
	RenamePaths []string
	// ClashKeeps is "temp" or "final": for those of RenamePaths whose
	// final name holds other content, the version that keeps the name.
	ClashKeeps string
	// Restore is a repair's quarantine id to put back.
	Restore string
}

const fsckLong = `Check the bricks of a volume offline, without glusterd and without locks.

fsck reads every brick of VOL (afrkit's own volume or a GlusterFS volume from
glusterd's directory) and compares the bricks of each replica set. It reports,
by class: the brick root (volume-id, root gfid, the .glusterfs tree); every
entry's gfid, handle and gfid2path; orphan, dangling and mismatched handles;
stale and missing heal index entries; malformed, foreign and self-accusing
changelog xattrs; gfid and type mismatches, split-brains (copies that blame
each other: what heal info split-brain lists), and differences that no
counter accounts for (content too with --deep); stale DHT link files; and rsync temp
files left behind (.NAME.XXXXXX), with whether NAME exists and holds the same
content. Each finding says what a repair would do, or why a person must choose.

With --brick DIR it checks that brick alone (with --volume VOL, against that
volume's id and changelog keys).

--repair fixes what has one right answer: handles, gfid2path, index entries,
missing gfids (the same on every copy of the replica set), the brick root.
What it takes away (orphan handles, dangling handles, stale link files, extra
index base files) is moved to the brick's keep directory, beside what heal
keeps: <brick>/.glusterfs/afrkit/kept/<ID>/, with a manifest.jsonl saying
where each came from and every rename. The repair is recorded in the volume's
history ('afrkit heal VOL history'), and 'afrkit heal VOL undo ID' puts
back what it moved and renames back what it renamed (--restore ID is the same
undo). --rename-stale renames each
stale rsync temp file to its final name on every brick where that name is free,
or quarantines it where the final name holds the same content. A name whose
suffix reads as a word (.env.sample, .config.backup) may be an ordinary
dotfile: it is only shown, and renamed when named with --rename-stale-path
PATH. Where the final name holds other content, a person chooses the version
that keeps the name: --rename-stale-path PATH --clash-keeps temp renames the
temp file over it, --clash-keeps final keeps it; the other version is moved to
the quarantine. It then checks again until nothing is left to repair. --dry-run prints the plan. Writing is
refused while GlusterFS serves a brick of the volume. While afrkit mounts it,
the repairs of a named entry (stale temp renames, its handle, its gfid2path)
and of the heal index run, each under the mount's locks on the names and
files it changes, beside the mount's writes; the others (orphan and dangling
handles, missing gfids, link files, the brick root, which no lock of the
mount covers) are refused, in the plan too, until it is unmounted.

Reading is safe while GlusterFS serves the bricks; the report is then a
snapshot of a moving volume. On a started GlusterFS volume the bricks of
other servers are read over the network (libgfapi, as heal info reads them)
and compared with the other copies of their replica sets: types, gfids,
counters and split-brains, sizes, owners and modes, and content with --deep.
Their handle trees, indexes and roots are checked by fsck on their own
servers. A brick that cannot be read is named in the report.

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
			if opts.Jobs < 0 {
				return usageError{fmt.Errorf("fsck: --jobs %d: want 0 (4 per CPU) or more", opts.Jobs)}
			}
			if opts.Volume == "" && opts.Brick == "" {
				return usageError{errors.New("fsck: name a volume, or a brick with --brick DIR")}
			}
			if opts.Restore != "" && (opts.Repair || opts.renaming() || opts.Brick != "") {
				return usageError{errors.New("fsck: --restore goes alone with a volume (and --dry-run)")}
			}
			for i, p := range opts.RenamePaths {
				c, err := brick.CleanPath(p)
				if err != nil {
					return usageError{fmt.Errorf("fsck: --rename-stale-path: %w", err)}
				}
				opts.RenamePaths[i] = c
			}
			if opts.ClashKeeps != "" {
				if len(opts.RenamePaths) == 0 {
					return usageError{errors.New("fsck: --clash-keeps goes with --rename-stale-path PATH: a person chooses for the files named")}
				}
				if _, err := fsck.ParseClashKeep(opts.ClashKeeps); err != nil {
					return usageError{fmt.Errorf("fsck: --clash-keeps %w", err)}
				}
			}
			if opts.DryRun && !opts.Repair && !opts.renaming() && opts.Restore == "" {
				return usageError{errors.New("fsck: --dry-run goes with --repair, --rename-stale or --restore")}
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
	fl.IntVar(&opts.Jobs, "jobs", 0, "directories read at once (default 4 per CPU)")
	fl.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fl.BoolVar(&opts.Repair, "repair", false, "repair what has one right answer, moving what it removes to the brick's quarantine")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "with --repair, --rename-stale or --restore: print the plan, change nothing")
	fl.BoolVar(&opts.RenameStale, "rename-stale", false, "rename stale rsync temp files to their final names (where free or identical)")
	fl.StringArrayVar(&opts.RenamePaths, "rename-stale-path", nil, "rename (or quarantine) this stale rsync temp file, named by its path in the volume, even when its suffix reads as a word (repeatable)")
	fl.StringVar(&opts.ClashKeeps, "clash-keeps", "", "for a --rename-stale-path file whose final name holds other content: which version keeps the name, temp or final (the other is moved to the quarantine)")
	fl.StringVar(&opts.Restore, "restore", "", "undo the repair with this id: put back what it moved away, rename back what it renamed (as 'heal VOL undo ID')")
	return cmd
}

// renaming reports whether stale temp files are to be renamed: all of
// them, or those named.
func (o *FsckOptions) renaming() bool { return o.RenameStale || len(o.RenamePaths) > 0 }

func fsckRun(opts *FsckOptions) error {
	var v *volume.Volume
	if opts.Volume != "" {
		var err error
		if v, err = opts.F.lookupBricks(opts.Volume); err != nil {
			return exitStatus{ExitFsckOperational, err}
		}
	}
	writes := (opts.Repair || opts.renaming() || opts.Restore != "") && !opts.DryRun
	if (opts.Repair || opts.renaming()) && v == nil {
		return usageError{errors.New("fsck: --repair and --rename-stale on a brick need its volume (--volume VOL), to know its replica set and that GlusterFS does not serve it")}
	}
	if opts.renaming() && v != nil {
		if served, err := servedByGlusterFS(v); err != nil {
			return exitStatus{ExitFsckOperational, err}
		} else if served && len(opts.RenamePaths) > 0 {
			return fsckLiveRename(opts, v)
		}
	}
	if opts.Restore != "" {
		if writes {
			// An undo takes none of AFR's locks: not while mounted.
			release, err := heal.LockForWriting(v, procDir, true)
			if err != nil {
				return exitStatus{ExitFsckOperational, err}
			}
			defer release()
		}
		return fsckRestore(opts, v)
	}
	// SIGINT and SIGTERM stop a check, and a repair between two fixes:
	// each fix leaves the brick whole, so running it again finishes.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fo := fsck.Options{Deep: opts.Deep, Jobs: opts.Jobs}
	var rep, after *fsck.Report
	var done []fsck.Repaired
	var id string
	var err error
	if opts.Repair || opts.renaming() {
		var run heal.RepairRun
		keep, _ := fsck.ParseClashKeep(opts.ClashKeeps) // checked with the flags
		run, err = heal.RunRepair(ctx, v, heal.RepairSession{StateDir: opts.F.StateDir, ProcDir: procDir, Check: fo, Brick: opts.Brick, How: opts.how(),
			Repair: fsck.RepairOptions{Repair: opts.Repair, RenameStale: opts.RenameStale, RenamePaths: opts.RenamePaths, ClashKeeps: keep, DryRun: opts.DryRun}})
		rep, done, after, id = run.First, run.Done, run.Last, run.ID
	} else if opts.Brick != "" {
		rep, err = fsck.CheckBrick(ctx, opts.Brick, v, fo)
	} else {
		// Only a check reads other hosts' bricks: a repair writes the
		// bricks of this host, of a volume GlusterFS does not serve.
		if reach := opts.F.reach(v); reach.Remote != nil {
			fo.Remote = func(i int) (fsck.RemoteBrick, error) { return reach.Remote(v, i) }
		}
		rep, err = fsck.CheckVolume(ctx, v, fo)
	}
	if err != nil && ctx.Err() != nil {
		what := opts.Brick
		if v != nil {
			what = v.Name
		}
		if len(done) > 0 && !opts.JSON {
			fmt.Fprintf(opts.F.IO.Out, "Repaired before the interruption (%d):\n", len(done))
			for _, r := range done {
				fmt.Fprintf(opts.F.IO.Out, "  %s  %s  %s: %s\n", r.Finding.Class, r.Finding.Brick, esc(r.Finding.Path), esc(r.Finding.Repair))
			}
			writeQuarantine(opts.F.IO.Out, v, id)
		}
		return exitStatus{ExitInterrupted, fmt.Errorf("fsck %s: interrupted; what was repaired is kept, and running it again finishes it", what)}
	}
	if err != nil {
		return exitStatus{ExitFsckOperational, err}
	}
	w := opts.F.IO.Out
	if opts.JSON {
		if err := writeFsckJSON(w, rep, done, after, writes); err != nil {
			return exitStatus{ExitFsckOperational, err}
		}
	} else {
		writeFsckText(w, rep)
		if opts.Repair || opts.renaming() {
			writeFsckRepairs(w, done, after, opts.DryRun)
			if writes {
				writeQuarantine(w, v, id)
			}
		}
	}
	switch {
	case len(rep.Findings) == 0:
		return nil
	case writes && len(after.Findings) == 0:
		return exitStatus{code: ExitFsckRepaired}
	}
	return exitStatus{code: ExitFsckProblems}
}

// writeQuarantine says where the repair put what it took away, if it took
// anything, and how to put it back.
func writeQuarantine(w io.Writer, v *volume.Volume, id string) {
	var dirs []string
	for _, b := range v.Bricks {
		if !b.Local {
			continue
		}
		bb, err := brick.Open(b.Path, v.XattrNS)
		if err != nil {
			continue
		}
		if d := fsck.QuarantineDir(bb, id); isDir(d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nRepair %s is recorded; manifest.jsonl in each of these lists what it moved away (kept there) and renamed:\n", id)
	for _, d := range dirs {
		fmt.Fprintf(w, "  %s\n", d)
	}
	fmt.Fprintf(w, "'afrkit heal %s undo %s' (or 'afrkit fsck %s --restore %s') undoes it; 'afrkit heal %s history' lists it.\n", v.Name, id, v.Name, id, v.Name)
}

// how is the command line a repair is recorded under in the history.
func (o *FsckOptions) how() string {
	how := []string{"fsck"}
	if o.Repair {
		how = append(how, "--repair")
	}
	if o.RenameStale {
		how = append(how, "--rename-stale")
	}
	for _, p := range o.RenamePaths {
		how = append(how, "--rename-stale-path", p)
	}
	if o.ClashKeeps != "" {
		how = append(how, "--clash-keeps", o.ClashKeeps)
	}
	return strings.Join(how, " ")
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// fsckRestore puts back what a repair moved away or renamed: the same
// undo as 'heal VOL undo ID', which it records in the history.
func fsckRestore(opts *FsckOptions, v *volume.Volume) error {
	h := &heal.History{Path: heal.HistoryPath(opts.F.StateDir, v.Name)}
	lines, err := heal.UndoRepair(h, v, opts.Restore, opts.DryRun, time.Now())
	for _, l := range lines {
		fmt.Fprintln(opts.F.IO.Out, l)
	}
	if err != nil {
		return exitStatus{ExitFsckOperational, err}
	}
	return nil
}

// writeFsckRepairs prints what the repair did (or, in a dry run, would
// do), and what a check afterwards still finds.
func writeFsckRepairs(w io.Writer, done []fsck.Repaired, after *fsck.Report, dryRun bool) {
	// Refused while mounted: listed, not counted as repairs.
	refused := 0
	for _, r := range done {
		if fsck.Refused(r) {
			refused++
		}
	}
	if dryRun {
		fmt.Fprintf(w, "\nDry run: %d repair(s) planned; nothing was changed. What these repairs leave to finish on the same entries (the handle or index of a file given a gfid) is planned by the next check.\n", len(done)-refused)
	} else {
		fmt.Fprintf(w, "\nRepaired (%d):\n", len(done)-refused)
	}
	failed := 0
	for _, r := range done {
		f := r.Finding
		fmt.Fprintf(w, "  %s  %s  %s: %s\n", f.Class, f.Brick, esc(f.Path), esc(f.Repair))
		switch {
		case fsck.Refused(r):
			fmt.Fprintf(w, "      %s\n", r.Err)
		case r.Err != "":
			failed++
			fmt.Fprintf(w, "      failed: %s\n", r.Err)
		}
	}
	if refused > 0 {
		fmt.Fprintf(w, "%d repair(s) refused while the volume is mounted.\n", refused)
	}
	if dryRun {
		return
	}
	if failed > 0 {
		fmt.Fprintf(w, "%d repair(s) failed.\n", failed)
	}
	if len(after.Findings) == 0 {
		fmt.Fprintln(w, "\nChecked again: no problems left.")
		return
	}
	fmt.Fprintf(w, "\nChecked again: %d problem(s) left:\n", len(after.Findings))
	for _, f := range after.Findings {
		fmt.Fprintf(w, "  %s  %s  %s\n", f.Class, f.Brick, esc(f.Path))
	}
}

// fsckJSON is the --json form of a report: the first check, and with
// --repair what was repaired (or planned) and the check after it.
type fsckJSON struct {
	*fsck.Report
	Counts  []fsck.Count    `json:"counts"`
	Repairs []fsck.Repaired `json:"repairs,omitempty"`
	After   *fsck.Report    `json:"after,omitempty"`
}

func writeFsckJSON(w io.Writer, rep *fsck.Report, done []fsck.Repaired, after *fsck.Report, wrote bool) error {
	if rep.Findings == nil {
		rep.Findings = []fsck.Finding{}
	}
	counts := rep.Counts()
	if counts == nil {
		counts = []fsck.Count{}
	}
	out := fsckJSON{Report: rep, Counts: counts, Repairs: done}
	if wrote {
		out.After = after
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeFsckText(w io.Writer, rep *fsck.Report) {
	what := "brick " + strings.Join(rep.Bricks, ", ")
	if rep.Volume != "" {
		what = fmt.Sprintf("volume %s (%s)", rep.Volume, strings.Join(rep.Bricks, ", "))
	}
	fmt.Fprintf(w, "Checked %s: %d entries, %d handles, %d index entries.\n", what, rep.Entries, rep.Handles, rep.Indexed)
	if len(rep.Remote) > 0 {
		fmt.Fprintf(w, "Read over the network, and compared with the other copies of their replica sets (fsck on their own servers checks them within): %s.\n", strings.Join(rep.Remote, ", "))
	}
	for _, u := range rep.Unreached {
		fmt.Fprintf(w, "Not read: %s: %s.\n", u.Brick, esc(u.Err))
	}
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
			fmt.Fprintf(w, "  %s  %s", f.Brick, esc(f.Path))
			if f.GFID != "" {
				fmt.Fprintf(w, "  gfid %s", f.GFID)
			}
			fmt.Fprintf(w, "\n      %s\n", esc(f.Detail))
			for _, v := range f.Versions {
				fmt.Fprintf(w, "      version %s: %d bytes, mtime %s, blake3 %s\n", esc(v.Path), v.Size, v.Mtime, v.Blake3)
			}
			if f.Repairable() {
				repairable++
				fmt.Fprintf(w, "      repair: %s\n", esc(f.Repair))
			} else {
				manual++
				fmt.Fprintf(w, "      by hand: %s\n", f.Manual)
			}
		}
	}
	fmt.Fprintf(w, "\n%d problem(s): %d with one right answer (repair), %d for a person to decide (by hand).\n", len(rep.Findings), repairable, manual)
}
