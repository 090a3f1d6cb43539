package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/heald"
)

// Heal info modes, as `gluster volume heal VOL info [MODE]` names them.
const (
	infoAll        = ""
	infoSplitBrain = "split-brain"
	infoSummary    = "summary"
)

// HealInfoOptions are the inputs of `heal VOL info`.
type HealInfoOptions struct {
	F      *Factory
	Volume string
	Mode   string
	XML    bool
	JSON   bool
	// Unexplained crawls the volume for differences no counter explains
	// (no index lists them), with --json.
	Unexplained bool
}

const healLong = `Heal a volume, resolve its split-brains, and show what needs healing.

  afrkit heal VOL                      heal every entry the bricks' indexes list
  afrkit heal VOL full                 heal every entry of the volume (crawl)
  afrkit heal VOL split-brain bigger-file FILE
  afrkit heal VOL split-brain latest-mtime FILE
  afrkit heal VOL split-brain source-brick BRICK [FILE]
  afrkit heal VOL split-brain majority [FILE]
                                       resolve a split-brain; without FILE, every
                                       split-brain entry of BRICK's index;
                                       --kind data or metadata resolves that
                                       kind alone, the other left for its own
                                       choice (GlusterFS resolves both at once)
  afrkit heal VOL history              every resolution: what won, where the
                                       losing copies are kept
  afrkit heal VOL undo ID [--force]    put a resolution's losing copies back
  afrkit heal VOL info                 every entry a brick's heal index lists
  afrkit heal VOL info split-brain     only the entries in split-brain
  afrkit heal VOL info summary         counts per brick
  afrkit heal VOL explain FILE         why FILE is or is not healed
  afrkit heal VOL status [--json]      where the heal stands: entries left per
                                       brick, split-brains, rate, ETA
  afrkit heal VOL wait [--timeout D]   wait with a progress bar until nothing
                                       healable is left

FILE is a path from the volume's root (/dir/file) or gfid:UUID. BRICK is
host:/path as heal info prints it, the bare path, or VOL-client-N.

Healing follows GlusterFS's AFR: the changelog xattrs say which copy is the
source; data, metadata (owner, mode, xattrs, times) and directory entries
are copied from it, and the counters are cleared only after the sinks are
durable, so a crash at any point is healed by the next run in the same
direction. Data heal writes in place, block by block (--algorithm diff
compares blake3 hashes of 1 MiB blocks and writes only those that differ),
and keeps holes. A split-brain is resolved only by a command or by the
volume's cluster.favorite-child-policy; the losing copies are kept on their
bricks under .glusterfs/afrkit/kept, outside the volume, and recorded in the
history. --dry-run prints the plan and changes nothing.

A started GlusterFS volume's bricks are GlusterFS's: afrkit changes them only
through GlusterFS. afrkit heal VOL [full] has glusterd start GlusterFS's own
self-heal daemons on every server (as gluster volume heal VOL [full] does,
through the gluster command and --glusterd-sock), then waits until nothing
healable is left (as heal VOL wait, with its --timeout and --interval); a
full heal is a crawl the indexes do not show, so afrkit starts it and
returns. Refused while the volume's cluster.self-heal-daemon is off. The
split-brains the volume's cluster.favorite-child-policy (or
metadata-splitbrain-forced-heal) decides, which the daemon resolves
without keeping the copies it replaces, afrkit resolves first, as the
daemon would, keeping the others; one it cannot keep refuses the heal.
split-brain resolves through the volume's client graph (libgfapi), keeping
the other copies in the state directory: FILE, or without it every
split-brain the indexes list; a regular file's gfid split-brain through
GlusterFS's glfsheal (source-brick, the brick afrkit chose). undo, --kind
and a directory's gfid split-brain need the volume stopped.

With a heal daemon running (afrkit heald), afrkit heal VOL asks it to heal the
volume, as gluster volume heal asks GlusterFS's, waits for its round and
prints what it did; --no-daemon heals in this process instead.

heal info and explain take no locks and need no running glusterd or brick
process; their output has GlusterFS's layout (and with --xml GlusterFS's
XML). --json prints afrkit's own schema (docs/heal-info-json.md).

heal status and heal wait read the bricks' indexes, lock-free, as heal info
does, on afrkit's volumes and GlusterFS's, started or not: what GlusterFS's
own daemon heals shows as a falling count, a rate and an ETA. A listing of
each index is all a look costs; each entry's status (pending or split-brain)
is classified once, about a second's worth per look, and kept in the state
directory (status/VOL.*), so a backlog of millions is answered at once and
known a little better with every look. The rate is measured over the last
minute of looks; heal status keeps its looks between runs, so run it again
for a rate. heal wait looks every --interval and exits 0 when nothing is
left, 1 when only split-brains are (they wait for a person), 124 when the
--timeout passes. Bricks that cannot be read (down, or on another host of a
stopped volume) are not counted.

EXIT STATUS: 0 when everything is healed (or the command succeeded), 1 when
entries are left or a resolution failed, 2 for a usage mistake.`

// NewCmdHeal builds `afrkit heal VOL ...`.
func NewCmdHeal(f *Factory, runF func(*HealInfoOptions) error) *cobra.Command {
	opts := &HealInfoOptions{F: f}
	run := &HealRunOptions{F: f}
	status := &HealStatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "heal VOL [full | split-brain ... | history | undo ID | info ... | explain FILE | status | wait]",
		Short: "Heal a volume, resolve split-brains, show what needs healing",
		Long:  healLong,
		Example: `  afrkit heal myvol --dry-run
  afrkit heal myvol
  afrkit heal myvol split-brain latest-mtime /dir/file.txt
  afrkit heal myvol split-brain source-brick host:/bricks/b1
  afrkit heal myvol info summary --xml
  afrkit heal myvol explain /dir/file.txt
  afrkit heal myvol status
  afrkit heal myvol wait --timeout 1h`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageError{fmt.Errorf("usage: afrkit heal VOL [full|split-brain|history|undo|info|explain|status|wait]")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if run.Jobs < 0 {
				return usageError{fmt.Errorf("--jobs %d: want 0 (one per CPU) or more", run.Jobs)}
			}
			opts.Volume, run.Volume = args[0], args[0]
			sub := ""
			if len(args) > 1 {
				sub = args[1]
			}
			if opts.XML && sub != "info" {
				return usageError{fmt.Errorf("--xml is for heal %s info", args[0])}
			}
			if opts.JSON && sub == "undo" {
				return usageError{fmt.Errorf("--json is for heal, heal full, split-brain, history, info and explain")}
			}
			run.JSON = opts.JSON
			if run.Kind != "" && sub != "split-brain" {
				return usageError{fmt.Errorf("--kind is for heal %s split-brain", args[0])}
			}
			if opts.Unexplained && (sub != "info" || !opts.JSON) {
				return usageError{fmt.Errorf("--unexplained is for heal %s info --json", args[0])}
			}
			switch sub {
			case "", "full":
				if len(args) > 2 {
					return usageError{fmt.Errorf("usage: afrkit heal VOL [full]")}
				}
				run.Full = sub == "full"
				status.Volume, run.Wait = args[0], status
				return healRun(run)
			case "split-brain":
				return healSplitBrainRun(run, args[2:])
			case "history":
				return healHistoryRun(f, args[0], opts.JSON)
			case "undo":
				if len(args) != 3 {
					return usageError{fmt.Errorf("usage: afrkit heal VOL undo ID")}
				}
				return healUndoRun(run, args[2])
			case "explain":
				if len(args) != 3 {
					return usageError{fmt.Errorf("usage: afrkit heal VOL explain /PATH|gfid:UUID")}
				}
				return healExplainRun(opts.F, args[0], args[2], opts.JSON)
			case "status", "wait":
				if len(args) != 2 {
					return usageError{fmt.Errorf("usage: afrkit heal VOL %s", sub)}
				}
				if sub == "wait" && opts.JSON {
					return usageError{fmt.Errorf("--json is for heal %s status", args[0])}
				}
				if status.Interval <= 0 || status.Timeout < 0 {
					return usageError{fmt.Errorf("--interval %s, --timeout %s: want a positive interval and a timeout of 0 (none) or more", status.Interval, status.Timeout)}
				}
				status.Volume, status.JSON, status.DaemonSocket = args[0], opts.JSON, run.DaemonSocket
				if sub == "status" {
					return healStatusRun(status)
				}
				return healWaitRun(status)
			case "info":
			default:
				return usageError{fmt.Errorf("afrkit heal %s %s: unknown subcommand", args[0], sub)}
			}
			switch {
			case len(args) == 2:
				opts.Mode = infoAll
			case len(args) == 3 && (args[2] == infoSplitBrain || args[2] == infoSummary):
				opts.Mode = args[2]
			default:
				return usageError{fmt.Errorf("usage: afrkit heal VOL info [split-brain|summary]")}
			}
			if runF != nil {
				return runF(opts)
			}
			return healInfoRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.XML, "xml", false, "heal info: print GlusterFS's XML")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print afrkit's JSON instead of text: heal info (docs/heal-info-json.md), heal, split-brain, history and explain (docs/heal-json.md)")
	cmd.MarkFlagsMutuallyExclusive("xml", "json")
	cmd.Flags().BoolVar(&opts.Unexplained, "unexplained", false, "heal info --json: also crawl the volume, reading every file, for copies that differ with no counter to say why (no index lists them)")
	cmd.Flags().BoolVar(&run.DryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().IntVar(&run.Jobs, "jobs", 0, "entries healed at once (default: the number of CPUs)")
	cmd.Flags().BoolVar(&run.Force, "force", false, "undo: put the kept copies back even over content that changed since the resolution, keeping that content first")
	cmd.Flags().BoolVar(&run.NoDaemon, "no-daemon", false, "heal in this process even when a heal daemon (afrkit heald) runs")
	cmd.Flags().StringVar(&run.DaemonSocket, "heald-socket", heald.SocketPath(), "the heal daemon's control socket")
	_ = cmd.Flags().MarkHidden("heald-socket")
	cmd.Flags().DurationVar(&status.Timeout, "timeout", 0, "wait, and heal of a started GlusterFS volume: give up after this long (exit 124); 0 waits for ever")
	cmd.Flags().DurationVar(&status.Interval, "interval", 2*time.Second, "wait, and heal of a started GlusterFS volume: time between two looks at the indexes")
	cmd.Flags().StringVar(&run.Kind, "kind", "", "split-brain: resolve the data or the metadata split-brain alone, leaving the other for its own choice")
	cmd.Flags().StringVar(&run.Algorithm, "algorithm", "", "data heal algorithm: full or diff (default: the volume's cluster.data-self-heal-algorithm, else diff when there is data)")
	return cmd
}

// brickResult is one brick's part of the report.
type brickResult struct {
	brick volume.Brick
	// set is the brick's replica set.
	set       int
	connected bool
	status    string
	// failure is why the brick could not be listed, or listed whole
	// (strerror's words, as GlusterFS prints them); "" when it was.
	failure     string
	total       int
	splitBrain  int
	healPending int
	// stale counts index entries with nothing behind them; GlusterFS
	// counts them nowhere.
	stale int
}

// strerror is how GlusterFS words a failure in heal info's status: the C
// library's message for its errno ("Transport endpoint is not
// connected"), where there is one; afrkit's own message otherwise.
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	return capitalize(errno.Error())
}

// count prints a counter as GlusterFS does: "-" for a brick it could not
// reach.
func (b brickResult) count(n int) string {
	if !b.connected {
		return "-"
	}
	return fmt.Sprint(n)
}

func healInfoRun(opts *HealInfoOptions) error {
	v, err := opts.F.lookupBricks(opts.Volume)
	if err != nil {
		return err
	}
	afrOpts, err := heal.Options(v)
	if err != nil {
		return err
	}
	quorum := afrOpts.QuorumCount
	w := bufio.NewWriter(opts.F.IO.Out)
	var rep infoReport
	switch {
	case opts.JSON:
		jr := &jsonReport{w: w, mode: opts.Mode, opts: afrOpts}
		if opts.Unexplained {
			// Crawled first, so that a crawl that fails has written
			// nothing: the output is a whole document or none.
			if jr.unexplained, err = unexplainedDifferences(v); err != nil {
				return fmt.Errorf("heal %s info --unexplained: %w", opts.Volume, err)
			}
		}
		rep = jr
	case opts.XML:
		rep = &xmlReport{w: w, mode: opts.Mode}
	default:
		rep = &textReport{w: w, mode: opts.Mode}
	}
	sets := heal.OpenReplicaSets(v, opts.F.reach(v))
	noteUnreachable(opts.F.IO.ErrOut, setErrs(sets))
	rep.begin(v)
	for _, rs := range sets {
		// Each gfid is gathered once per set, not once per brick that
		// lists it (a gfid of one set is no other's, DHT's link files
		// aside).
		memo := heal.NewInfoMemo()
		for i, b := range rs.Bricks {
			res := brickResult{brick: b, set: rs.Index, connected: rs.Read[i] != nil, status: "Connected"}
			rep.beginBrick(res)
			if res.connected {
				err := rs.Info(i, heal.InfoOptions{QuorumCount: quorum, Paths: opts.Mode != infoSummary, Full: opts.JSON, Memo: memo}, func(e heal.InfoEntry) error {
					res.total++
					if e.Status.IsSplitBrain() {
						res.splitBrain++
					} else {
						res.healPending++
					}
					if opts.Mode == infoAll || (opts.Mode == infoSplitBrain && e.Status.IsSplitBrain()) {
						rep.entry(rs, e)
					}
					return nil
				}, func(s heal.Skipped) error {
					if s.Stale {
						res.stale++
						if opts.Mode == infoAll {
							rep.stale(s)
						}
					}
					return nil
				})
				if err != nil {
					res.failure = strerror(err)
					res.status = fmt.Sprintf("Failed to process entries completely. (%s)", res.failure)
				}
			} else {
				res.failure = "Transport endpoint is not connected"
				res.status = res.failure
			}
			rep.endBrick(res)
		}
	}
	rep.end()
	if err := w.Flush(); err != nil {
		return fmt.Errorf("heal %s info: writing the report: %w", opts.Volume, err)
	}
	return nil
}

// unexplainedDifferences crawls v, reading every copy's content, for the
// names whose copies differ with no counter to say which is right: a hand
// edit on one brick, two files made under one name without a gfid. heal
// full follows GlusterFS's choice for them and keeps the copy it replaces.
func unexplainedDifferences(v *volume.Volume) ([]unexplainedJSON, error) {
	rep, err := fsck.CheckVolume(context.Background(), v, fsck.Options{Deep: true})
	if err != nil {
		return nil, err
	}
	out := []unexplainedJSON{}
	for _, f := range rep.Findings {
		if f.Class == fsck.ClassSilentDifference {
			out = append(out, unexplainedJSON{Path: f.Path, GFID: f.GFID, Bricks: f.Brick, Detail: f.Detail, Next: f.Manual})
		}
	}
	return out, nil
}

// infoReport streams the report, so a million entries are never held in
// memory. healInfoRun calls entry only for the entries the mode lists and
// stale only in the full listing.
type infoReport interface {
	begin(v *volume.Volume)
	beginBrick(b brickResult)
	entry(rs *heal.ReplicaSet, e heal.InfoEntry)
	stale(s heal.Skipped)
	endBrick(b brickResult)
	end()
}

// entryName is how GlusterFS names an entry: its path when some brick can
// resolve it, <gfid:UUID> otherwise.
func entryName(e heal.InfoEntry) string {
	if e.Path != "" {
		return e.Path
	}
	return "<gfid:" + e.GFID.String() + ">"
}

// textReport is GlusterFS's CLI text.
type textReport struct {
	w    io.Writer
	mode string
}

func (p *textReport) begin(*volume.Volume) {}

func (p *textReport) beginBrick(b brickResult) { fmt.Fprintf(p.w, "Brick %s\n", b.brick) }

// entry prints one listed entry, with GlusterFS's suffixes: a trailing
// space for heal, " - Is in split-brain" for split-brain, nothing in the
// split-brain listing.
func (p *textReport) entry(rs *heal.ReplicaSet, e heal.InfoEntry) {
	suffix := " "
	if p.mode == infoSplitBrain {
		suffix = ""
	} else if e.Status.IsSplitBrain() {
		suffix = " - Is in split-brain"
	}
	// Escaped as ls -b does: a name is a client's choice, and a newline in
	// it must not print a line of the report.
	fmt.Fprintf(p.w, "%s%s\n", brick.EscapeName(entryName(e)), suffix)
}

func (p *textReport) stale(heal.Skipped) {}

func (p *textReport) endBrick(b brickResult) {
	fmt.Fprintf(p.w, "Status: %s\n", b.status)
	switch p.mode {
	case infoSummary:
		fmt.Fprintf(p.w, "Total Number of entries: %s\nNumber of entries in heal pending: %s\nNumber of entries in split-brain: %s\nNumber of entries possibly healing: %s\n",
			b.count(b.total), b.count(b.healPending), b.count(b.splitBrain), b.count(0))
	case infoSplitBrain:
		fmt.Fprintf(p.w, "Number of entries in split-brain: %s\n", b.count(b.splitBrain))
	default:
		fmt.Fprintf(p.w, "Number of entries: %s\n", b.count(b.total))
	}
	fmt.Fprintln(p.w)
}

func (p *textReport) end() {}

// xmlReport is GlusterFS's --xml output.
type xmlReport struct {
	w    io.Writer
	mode string
}

func (p *xmlReport) begin(*volume.Volume) {
	fmt.Fprint(p.w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n")
}

func (p *xmlReport) beginBrick(b brickResult) {
	uuid := b.brick.PeerUUID
	if uuid == "" || !b.connected {
		uuid = "-"
	}
	fmt.Fprintf(p.w, "      <brick hostUuid=\"%s\">\n        <name>%s</name>\n", html.EscapeString(uuid), html.EscapeString(b.brick.String()))
}

func (p *xmlReport) entry(rs *heal.ReplicaSet, e heal.InfoEntry) {
	fmt.Fprintf(p.w, "        <file gfid=\"%s\">%s</file>\n", e.GFID, xmlText(entryName(e)))
}

func (p *xmlReport) stale(heal.Skipped) {}

func (p *xmlReport) endBrick(b brickResult) {
	if p.mode == infoSummary && b.failure != "" {
		// glfsheal's XML summary of a brick it could not list whole
		// (glfsh_print_xml_heal_op_summary) tests the pointer to its counts
		// against 0 where the text form tests the count, so it never prints
		// the "-" counts of a brick that is down: it prints one status that
		// runs the failure and the total together, and no counts. afrkit
		// writes what GlusterFS writes.
		fmt.Fprintf(p.w, "        <status>Failed to process entries completely. (%s)totalNumberOfEntries%d</status>\n      </brick>\n", html.EscapeString(b.failure), b.total)
		return
	}
	fmt.Fprintf(p.w, "        <status>%s</status>\n", html.EscapeString(b.status))
	switch p.mode {
	case infoSummary:
		fmt.Fprintf(p.w, "        <totalNumberOfEntries>%s</totalNumberOfEntries>\n", b.count(b.total))
		fmt.Fprintf(p.w, "        <numberOfEntriesInHealPending>%s</numberOfEntriesInHealPending>\n", b.count(b.healPending))
		fmt.Fprintf(p.w, "        <numberOfEntriesInSplitBrain>%s</numberOfEntriesInSplitBrain>\n", b.count(b.splitBrain))
		fmt.Fprintf(p.w, "        <numberOfEntriesPossiblyHealing>%s</numberOfEntriesPossiblyHealing>\n", b.count(0))
	case infoSplitBrain:
		fmt.Fprintf(p.w, "        <numberOfEntries>%s</numberOfEntries>\n", b.count(b.splitBrain))
	default:
		fmt.Fprintf(p.w, "        <numberOfEntries>%s</numberOfEntries>\n", b.count(b.total))
	}
	fmt.Fprint(p.w, "      </brick>\n")
}

func (p *xmlReport) end() {
	fmt.Fprint(p.w, "    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>\n")
}

// xmlText escapes s as XML character data: markup characters as entities,
// newlines as &#xA;, and the characters XML cannot hold at all (other
// control characters, bytes that are not UTF-8) as U+FFFD, so that any name
// a client chose keeps the document well-formed.
func xmlText(s string) string {
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s)) // a strings.Builder never fails
	return sb.String()
}
