package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/heal"
)

// The --json documents of heal, split-brain and history: afrkit's own
// schema (docs/heal-json.md), for scripts. The text forms are for people
// and may change; these keep their field names.

// healRunJSON is `heal VOL [full] --json`.
type healRunJSON struct {
	Volume string `json:"volume"`
	Full   bool   `json:"full"`
	DryRun bool   `json:"dry_run"`
	// Interrupted: SIGINT or SIGTERM stopped it; what it reports is
	// committed.
	Interrupted bool           `json:"interrupted"`
	Passes      int            `json:"passes"`
	Healed      map[string]int `json:"healed"`
	Bytes       int64          `json:"bytes_written"`
	// Actions are the changes made, or for a dry run the plan.
	Actions  []actionJSON  `json:"actions"`
	Resolved []heal.Record `json:"resolved"`
	Left     []leftJSON    `json:"left"`
}

type actionJSON struct {
	ReplicaSet int      `json:"replica_set"`
	Path       string   `json:"path"`
	GFID       string   `json:"gfid"`
	What       string   `json:"what"`
	Source     string   `json:"source,omitempty"`
	Sinks      []string `json:"sinks,omitempty"`
	Target     string   `json:"target_gfid,omitempty"`
	Bytes      int64    `json:"bytes,omitempty"`
	Detail     string   `json:"detail,omitempty"`
}

type leftJSON struct {
	ReplicaSet int    `json:"replica_set"`
	Path       string `json:"path"`
	GFID       string `json:"gfid"`
	SplitBrain bool   `json:"split_brain"`
	Reason     string `json:"reason"`
	// Blockers are the names to give a split-brain command instead of
	// the directory.
	Blockers []blockerJSON `json:"blockers,omitempty"`
}

type blockerJSON struct {
	Path         string `json:"path"`
	TypeMismatch bool   `json:"type_mismatch"`
}

func newHealRunJSON(opts *HealRunOptions, res *heal.Result, interrupted bool) healRunJSON {
	out := healRunJSON{Volume: opts.Volume, Full: opts.Full, DryRun: opts.DryRun, Interrupted: interrupted,
		Healed: map[string]int{"data": 0, "metadata": 0, "entry": 0}, Actions: []actionJSON{}, Resolved: []heal.Record{}, Left: []leftJSON{}}
	if res == nil {
		return out
	}
	out.Passes, out.Bytes = res.Passes, res.Bytes
	for k, n := range res.Healed {
		out.Healed[k] = n
	}
	out.Actions = actionsJSON(res.Actions)
	out.Resolved = append(out.Resolved, res.Resolved...)
	left := res.Left
	if opts.DryRun {
		left = notPlanned(left, res.Actions)
	}
	for _, l := range left {
		lj := leftJSON{ReplicaSet: l.Set, Path: l.Path, GFID: gfidString(l.GFID), SplitBrain: l.SplitBrain, Reason: l.Reason}
		for _, b := range l.Blockers {
			lj.Blockers = append(lj.Blockers, blockerJSON{Path: b.Path, TypeMismatch: b.TypeMismatch})
		}
		out.Left = append(out.Left, lj)
	}
	return out
}

func actionsJSON(actions []heal.Action) []actionJSON {
	out := []actionJSON{}
	for _, a := range actions {
		aj := actionJSON{ReplicaSet: a.Set, Path: a.Path, GFID: gfidString(a.GFID), What: a.What,
			Source: a.Source, Sinks: a.Sinks, Target: gfidString(a.Target), Bytes: a.Bytes, Detail: a.Detail}
		out = append(out, aj)
	}
	return out
}

// gfidString is g as JSON gives it: "" (and so omitted where the field
// allows) for no gfid.
func gfidString(g afr.GFID) string {
	if g.IsZero() {
		return ""
	}
	return g.String()
}

// splitBrainJSON is `heal VOL split-brain ... --json`.
type splitBrainJSON struct {
	Volume string `json:"volume"`
	// Command is the policy: bigger-file, latest-mtime, source-brick or
	// majority; Brick its source brick, File its file ("" for every
	// entry of the index).
	Command     string `json:"command"`
	Brick       string `json:"brick,omitempty"`
	File        string `json:"file,omitempty"`
	DryRun      bool   `json:"dry_run"`
	Interrupted bool   `json:"interrupted"`
	// Outcomes are GlusterFS's words per entry; Healed counts the
	// entries healed (or that a dry run would heal).
	Outcomes []outcomeJSON `json:"outcomes"`
	Healed   int           `json:"healed_entries"`
	// Actions are, for a command on one file, its changes (a dry run's
	// plan); a command over a whole index lists outcomes only.
	Actions []actionJSON `json:"actions,omitempty"`
}

type outcomeJSON struct {
	File   string   `json:"file"`
	Healed bool     `json:"healed"`
	Lines  []string `json:"lines"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// historyJSON is `heal VOL history --json`.
type historyJSON struct {
	Volume string `json:"volume"`
	Path   string `json:"path"`
	// Records are every record, oldest first; UndoneBy maps a record's
	// id to the undo that restored it.
	Records  []heal.Record     `json:"records"`
	UndoneBy map[string]string `json:"undone_by"`
	// TornLines are the line numbers that held no record.
	TornLines []int `json:"torn_lines"`
}
