package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/live"
)

// fsckLiveRename is `afrkit fsck VOL --rename-stale-path PATH...` on a
// started GlusterFS volume: each named stale rsync temp file is renamed
// through GlusterFS (a client's link and unlink, never replacing), or
// removed where its final name holds the same content. Every plan is made
// first; one that fails changes nothing.
func fsckLiveRename(opts *FsckOptions, v *volume.Volume) error {
	if opts.Repair || opts.RenameStale || opts.ClashKeeps != "" {
		return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: GlusterFS serves %s: afrkit changes it only through GlusterFS, which it does for each stale temp file named with --rename-stale-path (fsck %s lists them); --repair, --rename-stale and --clash-keeps need the volume stopped", v.Name, v.Name, v.Name)}
	}
	lib, err := loadGfapi()
	if err != nil {
		return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: GlusterFS serves %s, which afrkit changes through libgfapi: %w", v.Name, v.Name, err)}
	}
	lv, err := live.Open(lib, v, opts.F.GlusterdSocket, live.ForChanges)
	if err != nil {
		return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: %w", v.Name, err)}
	}
	defer lv.Close()
	var plans []live.StalePlan
	for _, p := range opts.RenamePaths {
		plan, err := lv.PlanStale(p)
		if errors.Is(err, live.ErrClash) {
			return exitStatus{ExitFsckProblems, fmt.Errorf("fsck %s: %s: %w; nothing was changed: stop the volume to choose with --clash-keeps, or move one aside through a mount", v.Name, p, err)}
		}
		if err != nil {
			return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: %s: %w; nothing was changed", v.Name, p, err)}
		}
		plans = append(plans, plan)
	}
	out := opts.F.IO.Out
	if opts.DryRun {
		fmt.Fprintf(out, "Dry run: nothing was changed. GlusterFS serves %s; through it, afrkit would:\n", v.Name)
		for _, p := range plans {
			fmt.Fprintf(out, "  %s\n", esc(p.String()))
		}
		return nil
	}
	h := &heal.History{Path: heal.HistoryPath(opts.F.StateDir, v.Name)}
	for _, p := range plans {
		if err := lv.DoStale(p); err != nil {
			return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: %w", v.Name, err)}
		}
		now := time.Now()
		rec := heal.Record{
			ID: heal.NewRecordID(now), Time: heal.RecordTime(now),
			Volume: v.Name, Path: p.Temp, Kind: heal.KindRepair, How: "rename-stale-path through GlusterFS",
			Repairs: []string{"stale-temp " + p.String()}, Live: true,
		}
		if p.Action == live.RenameStale {
			rec.Renamed = []heal.Renamed{{From: p.Temp, To: p.Final}}
		}
		if err := h.Append(rec); err != nil {
			return exitStatus{ExitFsckOperational, fmt.Errorf("fsck %s: done (%s) but not recorded: %w", v.Name, p, err)}
		}
		fmt.Fprintf(out, "%s through GlusterFS (afrkit heal %s history: %s)\n", esc(capitalize(p.String())), v.Name, rec.ID)
	}
	return exitStatus{ExitFsckRepaired, nil}
}

// capitalize upper-cases the first letter of an ASCII sentence.
func capitalize(s string) string {
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
