package main

import (
	"bufio"
	"fmt"
	"html"
	"io"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
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
}

const healLong = `Show what the bricks of a volume need healed, read straight from the bricks.

  afrkit heal VOL info                 every entry a brick's heal index lists
  afrkit heal VOL info split-brain     only the entries in split-brain
  afrkit heal VOL info summary         counts per brick
  afrkit heal VOL explain FILE         why FILE (/path or gfid:UUID) is or is not
                                       healed: every brick's copy, the decoded
                                       changelogs, afr's choice of source, or the
                                       split-brain commands that would resolve it

The output has GlusterFS's layout (and with --xml GlusterFS's XML), so scripts
written for 'gluster volume heal VOL info' keep working. Unlike GlusterFS,
afrkit takes no locks and needs no running glusterd or brick process: it reads
each brick's index (.glusterfs/indices/xattrop and dirty) and the AFR xattrs
of every copy. An entry is printed as its path when any brick can resolve
it, as <gfid:UUID> otherwise. A brick that cannot be read is reported as
"Transport endpoint is not connected", and the others are still reported.
--json prints afrkit's own schema (docs/heal-info-json.md): per entry the
kinds pending and in split-brain, who blames whom, and stale index entries.

Healing itself (afrkit heal VOL) is not implemented yet.`

// NewCmdHeal builds `afrkit heal VOL info [split-brain|summary]`.
func NewCmdHeal(f *Factory, runF func(*HealInfoOptions) error) *cobra.Command {
	opts := &HealInfoOptions{F: f}
	cmd := &cobra.Command{
		Use:   "heal VOL info [split-brain|summary] | heal VOL explain FILE",
		Short: "Show (and, later, heal) what a volume's replicas disagree on",
		Long:  healLong,
		Example: `  afrkit heal myvol info
  afrkit heal myvol info summary --xml
  afrkit heal myvol info --json | jq '.bricks[].entries[] | select(.split_brain != [])'
  afrkit heal myvol explain /dir/file.txt`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageError{fmt.Errorf("usage: afrkit heal VOL info [split-brain|summary]")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Volume = args[0]
			switch {
			case len(args) == 1:
				return fmt.Errorf("afrkit heal %s: healing: %w (try 'afrkit heal %s info')", args[0], errNotImplemented, args[0])
			case args[1] == "explain":
				if len(args) != 3 {
					return usageError{fmt.Errorf("usage: afrkit heal VOL explain /PATH|gfid:UUID")}
				}
				if opts.XML || opts.JSON {
					return usageError{fmt.Errorf("heal %s explain prints text only", args[0])}
				}
				return healExplainRun(opts.F, args[0], args[2])
			case args[1] != "info":
				return fmt.Errorf("afrkit heal %s %s: %w", args[0], args[1], errNotImplemented)
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
	cmd.Flags().BoolVar(&opts.XML, "xml", false, "print GlusterFS's XML")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print afrkit's JSON (see docs/heal-info-json.md)")
	cmd.MarkFlagsMutuallyExclusive("xml", "json")
	return cmd
}

// brickResult is one brick's part of the report.
type brickResult struct {
	brick volume.Brick
	// set is the brick's replica set.
	set         int
	connected   bool
	status      string
	total       int
	splitBrain  int
	healPending int
	// stale counts index entries with nothing behind them; GlusterFS
	// counts them nowhere.
	stale int
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
	v, err := opts.F.Catalog().Lookup(opts.Volume)
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
		rep = &jsonReport{w: w, mode: opts.Mode, opts: afrOpts}
	case opts.XML:
		rep = &xmlReport{w: w, mode: opts.Mode}
	default:
		rep = &textReport{w: w, mode: opts.Mode}
	}
	rep.begin(v)
	for _, rs := range heal.ReplicaSets(v) {
		for i, b := range rs.Bricks {
			res := brickResult{brick: b, set: rs.Index, connected: rs.Open[i] != nil, status: "Connected"}
			rep.beginBrick(res)
			if res.connected {
				err := rs.Info(i, heal.InfoOptions{QuorumCount: quorum, Paths: opts.Mode != infoSummary, Full: opts.JSON}, func(e heal.InfoEntry) error {
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
					res.status = fmt.Sprintf("Failed to process entries completely. (%v)", err)
				}
			} else {
				res.status = "Transport endpoint is not connected"
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
	fmt.Fprintf(p.w, "%s%s\n", entryName(e), suffix)
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
	fmt.Fprintf(p.w, "        <file gfid=\"%s\">%s</file>\n", e.GFID, html.EscapeString(entryName(e)))
}

func (p *xmlReport) stale(heal.Skipped) {}

func (p *xmlReport) endBrick(b brickResult) {
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
