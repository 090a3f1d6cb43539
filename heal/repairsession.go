package heal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/lock"
)

// RepairSession says how RunRepair repairs a volume with fsck.
type RepairSession struct {
	// StateDir holds the volume's history; ProcDir is where brick
	// processes are looked for (/proc).
	StateDir, ProcDir string
	Check             fsck.Options
	// Repair says which findings are fixed; its ID, when empty, is
	// stamped with the time.
	Repair fsck.RepairOptions
	// How is the command recorded in the history ("fsck --repair").
	How string
	// Brick checks this brick of the volume alone (fsck --brick DIR).
	Brick string
}

// RepairRun is what RunRepair found and did: the first check, the fixes
// (planned, in a dry run), and the check after them.
type RepairRun struct {
	ID          string
	First, Last *fsck.Report
	Done        []fsck.Repaired
}

// RunRepair checks v and repairs what s.Repair asks for until a check
// finds nothing more to fix (fsck.Converge). Unless it is a dry run, it
// first checks that no brick process serves v and takes the heal lock and
// the mount lock, and after, records the repair in the volume's history,
// so that `heal VOL undo ID` puts back what it moved and renamed. When
// ctx ends it stops between two fixes and returns what it did, with ctx's
// error.
//
// While an afrkit mount serves v, the fixes that take the mount's AFR
// locks (a named entry's handle, gfid2path or rename, the heal index's
// entries) run, each under its locks on every brick, beside the mount's
// fops; the others are refused, in the plan too (fsck.ErrMountedRepair),
// and change nothing.
func RunRepair(ctx context.Context, v *volume.Volume, s RepairSession) (RepairRun, error) {
	if s.Repair.ID == "" {
		s.Repair.ID = time.Now().UTC().Format("20060102-150405")
	}
	run := RepairRun{ID: s.Repair.ID}
	if s.Repair.DryRun {
		mounted, err := v.Mounted()
		if err != nil {
			return run, err
		}
		s.Repair.Mounted = mounted
	} else {
		release, err := LockForWriting(v, s.ProcDir, true)
		if errors.Is(err, volume.ErrInUse) {
			if mounted, merr := v.Mounted(); merr == nil && mounted {
				// Beside the mount, under its locks: the heal lock
				// alone keeps other healers and repairs out.
				release, err = LockForWriting(v, s.ProcDir, false)
				s.Repair.Mounted = true
			}
		}
		if err != nil {
			return run, err
		}
		defer release()
		if s.Repair.Mounted {
			lockFn, closeLocks, err := brickLocks(v)
			if err != nil {
				return run, err
			}
			defer closeLocks()
			s.Repair.Lock = lockFn
		}
	}
	check := func() (*fsck.Report, error) {
		if s.Brick != "" {
			return fsck.CheckBrick(ctx, s.Brick, v, s.Check)
		}
		return fsck.CheckVolume(ctx, v, s.Check)
	}
	var err error
	run.First, run.Done, run.Last, err = fsck.Converge(ctx, check, s.Repair)
	if err != nil || s.Repair.DryRun || len(run.Done) == 0 {
		return run, err
	}
	return run, recordRepair(v, s, run)
}

// brickLocks are the lock tables of v's local bricks. The function
// returned takes keys on each, brick after brick in the volume's order as
// the mount's transactions take them, so that neither waits for the other
// in a circle.
func brickLocks(v *volume.Volume) (func(context.Context, []lock.Key) (func(), error), func(), error) {
	var tables []*lock.Table
	closeAll := func() {
		for _, t := range tables {
			t.Close()
		}
	}
	for _, vb := range v.Bricks {
		if !vb.Local {
			continue
		}
		b, err := OpenBrick(v, vb)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		t, err := lock.OnBrick(b)
		b.Close()
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		tables = append(tables, t)
	}
	lockFn := func(ctx context.Context, keys []lock.Key) (func(), error) {
		var owners []*lock.Owner
		release := func() {
			for _, o := range owners {
				o.Release()
			}
		}
		for _, t := range tables {
			o := t.Owner()
			if err := o.Lock(ctx, keys...); err != nil {
				release()
				return nil, err
			}
			owners = append(owners, o)
		}
		return release, nil
	}
	return lockFn, closeAll, nil
}

// recordRepair appends the history record of the repair: what it moved
// and renamed (from the manifests on the bricks) and what it changed in
// place, so that history lists it beside heal's resolutions and undo puts
// it back.
func recordRepair(v *volume.Volume, s RepairSession, run RepairRun) error {
	var repairs []string
	for _, r := range run.Done {
		if r.Err == "" {
			repairs = append(repairs, fmt.Sprintf("%s %s %s: %s", r.Finding.Class, r.Finding.Brick, r.Finding.Path, r.Finding.Repair))
		}
	}
	rec, err := RepairRecord(v, run.ID, s.How, repairs, time.Now())
	if err != nil {
		return fmt.Errorf("fsck %s: the repair's history record: %w", v.Name, err)
	}
	if len(rec.Repairs) == 0 && len(rec.Kept) == 0 && len(rec.Renamed) == 0 {
		return nil // every repair failed: nothing changed
	}
	if err := (&History{Path: HistoryPath(s.StateDir, v.Name)}).Append(rec); err != nil {
		return fmt.Errorf("fsck %s: %w", v.Name, err)
	}
	return nil
}
