package main

import (
	"bufio"
	"fmt"
	"html"
	"io"

	"github.com/spf13/cobra"

	"github.com/afrkit/afrkit/afr"
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
}

const healLong = `Show what the bricks of a volume need healed, read straight from the bricks.

  afrkit heal VOL info                 every entry a brick's heal index lists
  afrkit heal VOL info split-brain     only the entries in split-brain
  afrkit heal VOL info summary         counts per brick

The output has GlusterFS's layout (and with --xml GlusterFS's XML), so scripts
written for 'gluster volume heal VOL info' keep working. Unlike GlusterFS,
afrkit takes no locks and needs no running glusterd or brick process: it reads
each brick's index (.glusterfs/indices/xattrop and dirty) and the AFR xattrs
of every copy. An entry is printed as its path when any brick can resolve
it, as <gfid:UUID> otherwise. A brick that cannot be read is reported as
"Transport endpoint is not connected", and the others are still reported.

Healing itself (afrkit heal VOL) is not implemented yet.`

// NewCmdHeal builds `afrkit heal VOL info [split-brain|summary]`.
func NewCmdHeal(f *Factory, runF func(*HealInfoOptions) error) *cobra.Command {
	opts := &HealInfoOptions{F: f}
	cmd := &cobra.Command{
		Use:   "heal VOL info [split-brain|summary]",
		Short: "Show (and, later, heal) what a volume's replicas disagree on",
		Long:  healLong,
		Example: `  afrkit heal myvol info
  afrkit heal myvol info summary --xml`,
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
	return cmd
}

// brickResult is one brick's part of the report.
type brickResult struct {
	brick       volume.Brick
	connected   bool
	status      string
	total       int
	splitBrain  int
	healPending int
}

func healInfoRun(opts *HealInfoOptions) error {
	v, err := opts.F.Catalog().Lookup(opts.Volume)
	if err != nil {
		return err
	}
	quorum := afr.QuorumCount(v.Replica, v.QuorumType(), v.QuorumCount())
	w := bufio.NewWriter(opts.F.IO.Out)
	defer w.Flush()
	p := newInfoPrinter(w, opts)
	p.begin()
	for _, rs := range heal.ReplicaSets(v) {
		for i, b := range rs.Bricks {
			res := brickResult{brick: b, connected: rs.Open[i] != nil, status: "Connected"}
			p.beginBrick(res)
			if res.connected {
				err := rs.Info(i, quorum, func(e heal.InfoEntry) error {
					res.total++
					if e.Status.IsSplitBrain() {
						res.splitBrain++
					} else {
						res.healPending++
					}
					p.entry(rs, e)
					return nil
				}, nil)
				if err != nil {
					res.status = fmt.Sprintf("Failed to process entries completely. (%v)", err)
				}
			} else {
				res.status = "Transport endpoint is not connected"
			}
			p.endBrick(res)
		}
	}
	p.end()
	return nil
}

// infoPrinter streams the report, so a million entries are never held in
// memory.
type infoPrinter struct {
	w    io.Writer
	opts *HealInfoOptions
}

func newInfoPrinter(w io.Writer, opts *HealInfoOptions) *infoPrinter {
	return &infoPrinter{w: w, opts: opts}
}

func (p *infoPrinter) begin() {
	if p.opts.XML {
		fmt.Fprint(p.w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n")
	}
}

func (p *infoPrinter) beginBrick(b brickResult) {
	if p.opts.XML {
		uuid := b.brick.PeerUUID
		if uuid == "" || !b.connected {
			uuid = "-"
		}
		fmt.Fprintf(p.w, "      <brick hostUuid=\"%s\">\n        <name>%s</name>\n", html.EscapeString(uuid), html.EscapeString(b.brick.String()))
		return
	}
	fmt.Fprintf(p.w, "Brick %s\n", b.brick)
}

// entry prints one listed entry, with GlusterFS's suffixes: a trailing
// space for heal, " - Is in split-brain" for split-brain.
func (p *infoPrinter) entry(rs *heal.ReplicaSet, e heal.InfoEntry) {
	if p.opts.Mode == infoSummary || (p.opts.Mode == infoSplitBrain && !e.Status.IsSplitBrain()) {
		return
	}
	name := rs.PathOf(e.GFID)
	if name == "" {
		name = "<gfid:" + e.GFID.String() + ">"
	}
	if p.opts.XML {
		fmt.Fprintf(p.w, "        <file gfid=\"%s\">%s</file>\n", e.GFID, html.EscapeString(name))
		return
	}
	suffix := " "
	if p.opts.Mode == infoSplitBrain {
		suffix = ""
	} else if e.Status.IsSplitBrain() {
		suffix = " - Is in split-brain"
	}
	fmt.Fprintf(p.w, "%s%s\n", name, suffix)
}

func (p *infoPrinter) endBrick(b brickResult) {
	n := func(v int) string {
		if !b.connected {
			return "-"
		}
		return fmt.Sprint(v)
	}
	count := b.total
	if p.opts.Mode == infoSplitBrain {
		count = b.splitBrain
	}
	if p.opts.XML {
		fmt.Fprintf(p.w, "        <status>%s</status>\n", html.EscapeString(b.status))
		if p.opts.Mode == infoSummary {
			fmt.Fprintf(p.w, "        <totalNumberOfEntries>%s</totalNumberOfEntries>\n", n(b.total))
			fmt.Fprintf(p.w, "        <numberOfEntriesInHealPending>%s</numberOfEntriesInHealPending>\n", n(b.healPending))
			fmt.Fprintf(p.w, "        <numberOfEntriesInSplitBrain>%s</numberOfEntriesInSplitBrain>\n", n(b.splitBrain))
			fmt.Fprintf(p.w, "        <numberOfEntriesPossiblyHealing>%s</numberOfEntriesPossiblyHealing>\n", n(0))
		} else {
			fmt.Fprintf(p.w, "        <numberOfEntries>%s</numberOfEntries>\n", n(count))
		}
		fmt.Fprint(p.w, "      </brick>\n")
		return
	}
	fmt.Fprintf(p.w, "Status: %s\n", b.status)
	switch p.opts.Mode {
	case infoSummary:
		fmt.Fprintf(p.w, "Total Number of entries: %s\nNumber of entries in heal pending: %s\nNumber of entries in split-brain: %s\nNumber of entries possibly healing: %s\n",
			n(b.total), n(b.healPending), n(b.splitBrain), n(0))
	case infoSplitBrain:
		fmt.Fprintf(p.w, "Number of entries in split-brain: %s\n", n(count))
	default:
		fmt.Fprintf(p.w, "Number of entries: %s\n", n(count))
	}
	fmt.Fprintln(p.w)
}

func (p *infoPrinter) end() {
	if p.opts.XML {
		fmt.Fprint(p.w, "    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>\n")
	}
}
