package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/compare"
	"github.com/afrkit/afrkit/progress"
)

// CompareOptions are the inputs of `afrkit compare`.
type CompareOptions struct {
	F             *Factory
	Master, Slave string
	JSON          bool
	Jobs          int
	// FixNames renames the slave's temp names that hold the master's
	// content to their final names; with DryRun it says what it would.
	FixNames, DryRun bool
}

const compareLong = `Compare two trees by name and content: a geo-replicated volume and its
slave, or any two volumes or directories. Each of MASTER and SLAVE is a
volume afrkit knows (its own, or GlusterFS's from glusterd's directory,
whose bricks on other servers are read over the network when it is
started) or a directory (an argument holding a '/').

It reports the names one side has and the other lacks, the files whose
content differs (compared by size, then blake3), and the files the slave
holds only under the temp name rsync wrote them as (".player.json.AbvgGY"
where "player.json" should be) with the master's content: a transfer cut
short between its write and its rename, which one rename fixes. A temp
name whose content is not the master's is reported as the slave's own.

Directories are read in parallel (--jobs), and only files of equal size
are read. Nothing is written, but with --fix-names: each temp name that
holds the master's content is renamed to its final name on the slave. On a
volume that is what afrkit fsck SLAVE --rename-stale-path TEMP does (each
recorded in the volume's history, for afrkit heal SLAVE undo; through
GlusterFS when it serves the volume, never on its bricks); in a directory,
a rename that never replaces a name that appeared meanwhile, after the
content is compared again. --dry-run says what --fix-names would do.

Exit status: 0 when the trees agree (with --fix-names: once the renames
are done and nothing else differs), 1 when they differ or a name could not
be read.`

// NewCmdCompare builds `afrkit compare MASTER SLAVE`.
func NewCmdCompare(f *Factory, runF func(*CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{F: f}
	cmd := &cobra.Command{
		Use:     "compare MASTER SLAVE",
		Short:   "Compare two volumes or directories by name and content",
		Long:    compareLong,
		Example: "  afrkit compare media media-slave\n  afrkit compare media /mnt/backup/media --json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Master, opts.Slave = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return compareRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the findings as JSON")
	cmd.Flags().IntVar(&opts.Jobs, "jobs", 4, "directories and files read at once")
	cmd.Flags().BoolVar(&opts.FixNames, "fix-names", false, "rename the slave's temp names that hold the master's content to their final names")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "with --fix-names: say what would be renamed, and rename nothing")
	return cmd
}

// compareTree opens one side: a directory, or a volume.
func compareTree(f *Factory, arg string) (compare.Tree, func(), error) {
	if strings.ContainsRune(arg, '/') {
		t, err := compare.OpenDir(arg)
		if err != nil {
			return nil, nil, err
		}
		return t, t.Close, nil
	}
	v, err := f.lookupBricks(arg)
	if err != nil {
		return nil, nil, err
	}
	t := compare.OpenVolume(v, f.reach(v))
	return t, t.Close, nil
}

func compareRun(opts *CompareOptions) error {
	if opts.Jobs < 1 {
		return usageError{fmt.Errorf("--jobs %d: want at least 1", opts.Jobs)}
	}
	if opts.DryRun && !opts.FixNames {
		return usageError{fmt.Errorf("--dry-run goes with --fix-names: compare alone writes nothing")}
	}
	if opts.FixNames && opts.JSON {
		return usageError{fmt.Errorf("--fix-names prints what it renames as text; compare --json lists the renames it would make")}
	}
	master, closeMaster, err := compareTree(opts.F, opts.Master)
	if err != nil {
		return fmt.Errorf("compare: master %s: %w", opts.Master, err)
	}
	defer closeMaster()
	slave, closeSlave, err := compareTree(opts.F, opts.Slave)
	if err != nil {
		return fmt.Errorf("compare: slave %s: %w", opts.Slave, err)
	}
	defer closeSlave()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stats := &compare.Stats{}
	stopProgress := func() {}
	if opts.F.IO.StderrTTY && !opts.JSON {
		stopProgress = showCompareProgress(ctx, opts.F.IO.ErrOut, stats, master)
	}
	rep, err := compare.Compare(ctx, master, slave, compare.Options{Jobs: opts.Jobs, Stats: stats})
	stopProgress()
	if err != nil {
		if ctx.Err() != nil {
			return exitStatus{ExitInterrupted, fmt.Errorf("compare: interrupted after %d directories and %d files", stats.Dirs.Load(), stats.Files.Load())}
		}
		return fmt.Errorf("compare %s %s: %w", opts.Master, opts.Slave, err)
	}
	if opts.JSON {
		if err := writeJSON(opts.F.IO.Out, compareDoc(opts, rep)); err != nil {
			return err
		}
	} else {
		printCompare(opts.F.IO.Out, opts, rep)
	}
	renames := rep.Renames()
	if opts.FixNames && len(renames) > 0 {
		if err := fixNames(opts, master, slave, renames); err != nil {
			return err
		}
		if !opts.DryRun && len(renames) == len(rep.Findings) {
			return nil
		}
	}
	if len(rep.Findings) > 0 {
		return errReported
	}
	return nil
}

// fixNames renames each of the slave's temp names to its final name: on
// a volume through fsck's --rename-stale-path (history, undo, GlusterFS),
// in a directory by itself.
func fixNames(opts *CompareOptions, master, slave compare.Tree, renames []compare.Finding) error {
	out := opts.F.IO.Out
	if dir, ok := slave.(*compare.DirTree); ok {
		fmt.Fprintln(out)
		for _, f := range renames {
			if opts.DryRun {
				fmt.Fprintf(out, "would rename %s to %s\n", esc(f.Temp), esc(f.Path))
				continue
			}
			if err := dir.RenameTemp(master, f); err != nil {
				return fmt.Errorf("compare --fix-names: %w", err)
			}
			fmt.Fprintf(out, "renamed %s to %s\n", esc(f.Temp), esc(f.Path))
		}
		return nil
	}
	paths := make([]string, len(renames))
	for i, f := range renames {
		paths[i] = f.Temp
	}
	fmt.Fprintf(out, "\nRenaming on %s, as afrkit fsck %s --rename-stale-path does for each temp name:\n", esc(opts.Slave), esc(opts.Slave))
	err := fsckRun(&FsckOptions{F: opts.F, Volume: opts.Slave, RenamePaths: paths, DryRun: opts.DryRun, Jobs: opts.Jobs})
	// fsck's own exit status says what it found besides the renames;
	// only an operational failure fails the command.
	var es exitStatus
	if errors.As(err, &es) && es.err == nil && es.code != ExitFsckOperational {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compare --fix-names: %w", err)
	}
	return nil
}

// compareLabels are the words each kind of finding is printed with.
var compareLabels = map[compare.Kind]string{
	compare.OnlyOnMaster: "only on the master",
	compare.OnlyOnSlave:  "only on the slave",
	compare.Differs:      "differs",
	compare.TempName:     "temp name",
	compare.Unreadable:   "unreadable",
}

func printCompare(w io.Writer, opts *CompareOptions, rep compare.Report) {
	fmt.Fprintf(w, "Compared %s with %s: %d directories, %d files.\n", esc(opts.Master), esc(opts.Slave), rep.Dirs, rep.Files)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "They agree.")
		return
	}
	fmt.Fprintln(w)
	for _, f := range rep.Findings {
		line := fmt.Sprintf("%-19s %s", compareLabels[f.Kind]+":", esc(f.Path))
		switch {
		case f.Kind == compare.TempName:
			line += fmt.Sprintf(": the slave holds its content as %s", esc(f.Temp))
		case f.Type == afr.TypeDirectory && f.Kind != compare.Unreadable:
			line += " (a directory, and everything in it)"
		}
		if f.Detail != "" {
			line += ": " + esc(f.Detail)
		}
		fmt.Fprintln(w, line)
	}
	counts := map[compare.Kind]int{}
	for _, f := range rep.Findings {
		counts[f.Kind]++
	}
	fmt.Fprintf(w, "\n%d differences: %d only on the master, %d only on the slave, %d with other content, %d under a temp name, %d unreadable.\n",
		len(rep.Findings), counts[compare.OnlyOnMaster], counts[compare.OnlyOnSlave], counts[compare.Differs], counts[compare.TempName], counts[compare.Unreadable])
	if n := counts[compare.TempName]; n > 0 {
		fmt.Fprintf(w, "Renaming each temp name to its final name fixes %d of them.\n", n)
	}
}

// compareJSON is `afrkit compare --json`.
type compareJSON struct {
	Master   string               `json:"master"`
	Slave    string               `json:"slave"`
	Dirs     int64                `json:"directories"`
	Files    int64                `json:"files"`
	Agree    bool                 `json:"agree"`
	Findings []compareFindingJSON `json:"findings"`
	Renames  []compareRenameJSON  `json:"renames"`
}

type compareFindingJSON struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Type   string `json:"type"`
	Temp   string `json:"temp,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type compareRenameJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func compareDoc(opts *CompareOptions, rep compare.Report) compareJSON {
	doc := compareJSON{Master: opts.Master, Slave: opts.Slave, Dirs: rep.Dirs, Files: rep.Files, Agree: len(rep.Findings) == 0,
		Findings: []compareFindingJSON{}, Renames: []compareRenameJSON{}}
	for _, f := range rep.Findings {
		doc.Findings = append(doc.Findings, compareFindingJSON{Kind: f.Kind.String(), Path: f.Path, Type: f.Type.String(), Temp: f.Temp, Detail: f.Detail})
	}
	for _, f := range rep.Renames() {
		doc.Renames = append(doc.Renames, compareRenameJSON{From: f.Temp, To: f.Path})
	}
	return doc
}

// showCompareProgress rewrites one line on the terminal w with what the
// comparison has done, twice a second, until the func it returns is
// called (which clears the line). When the master can count its files
// (compare.Counter), it does so meanwhile, and the line gives the files
// left and an ETA at the rate of the last minute.
func showCompareProgress(ctx context.Context, w io.Writer, stats *compare.Stats, master compare.Tree) func() {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	var total atomic.Int64 // 0 until counted
	if c, ok := master.(compare.Counter); ok {
		go func() {
			if n, err := c.Count(ctx); err == nil {
				total.Store(n)
			}
		}()
	}
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		var series progress.Series
		for {
			select {
			case <-ctx.Done():
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				files := stats.Files.Load()
				mib := float64(stats.Bytes.Load()) / (1 << 20)
				line := fmt.Sprintf("comparing: %d files, %.0f MiB read (%.0f MiB/s)", files, mib, mib/now.Sub(start).Seconds())
				if n := total.Load(); n > 0 {
					left := max(n-files, 0)
					series.Add(progress.Sample{At: now, Remaining: left})
					line = fmt.Sprintf("comparing: %d of about %d files, %.0f MiB read", files, n, mib)
					if est := series.Estimate(); est.Known {
						line += fmt.Sprintf(", ETA %s", est.ETA.Round(time.Second))
					}
				}
				fmt.Fprint(w, "\r\033[K"+line)
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}
