package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// Source is where the TUI finds volumes and reads them. It reads the
// bricks as heal info does, without locks, and writes nothing.
type Source struct {
	Catalog *volume.Catalog
	// Open loads a volume whose bricks this process can read (the CLI
	// checks its privileges there).
	Open func(name string) (*volume.Volume, error)
	// ProcDir is where brick processes are looked for (/proc): a started
	// GlusterFS volume is shown read-only.
	ProcDir string
	// StateDir is afrkit's state directory: resolutions are recorded in
	// the volume's history there.
	StateDir string
	// LookBudget bounds the time a volume's counts may take in the picker;
	// what it leaves is counted as unclassified.
	LookBudget time.Duration
	// Reach, when not nil, says how to read the bricks of v that live on
	// other hosts (heal.OpenOptions.Remote); without it they are down.
	Reach func(v *volume.Volume) heal.OpenOptions
	// Refresh is how often the entry list is read again, so that it
	// follows the indexes; 0 never (r does it by hand). A list that takes
	// long to read is read again less often (refreshShare).
	Refresh time.Duration
}

// reach is s.Reach(v), or no reach at all.
func (s Source) reach(v *volume.Volume) heal.OpenOptions {
	if s.Reach == nil {
		return heal.OpenOptions{}
	}
	return s.Reach(v)
}

// refreshShare bounds the time the TUI spends reading a list again on its
// own: after a listing that took d, the next waits at least
// refreshShare*d, so that a list of a million entries, which takes
// minutes to read, is not read without end.
const refreshShare = 4

// VolumeRow is one volume of the picker.
type VolumeRow struct {
	Name   string
	Source volume.Source
	Bricks int
	// Replica is how many bricks a replica set has.
	Replica int
	// Started: a GlusterFS brick process serves its bricks.
	Started bool
	// BrickNames are its bricks, HOST:PATH, in the volume's order.
	BrickNames []string
	// Entries, SplitBrain and Unclassified are heal status's counts,
	// summed over bricks; Down the bricks that could not be read.
	Entries, SplitBrain, Unclassified, Down int
	// Err says why the volume could not be looked at.
	Err error
}

// volumes lists every volume with its counts.
func (s Source) volumes(ctx context.Context) ([]VolumeRow, error) {
	list, err := s.Catalog.List()
	if err != nil && len(list) == 0 {
		return nil, err
	}
	rows := make([]VolumeRow, 0, len(list))
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		row := VolumeRow{Name: e.Name, Source: e.Source}
		v, err := s.Open(e.Name)
		if err != nil {
			row.Err = err
			rows = append(rows, row)
			continue
		}
		row.Bricks = len(v.Bricks)
		row.Started = s.started(v)
		b, err := heal.ScanVolume(ctx, v, heal.NewStatusCache(), heal.BacklogOptions{QuorumCount: v.QuorumCount(), Budget: s.LookBudget, Open: s.reach(v)})
		if err != nil {
			row.Err = err
		} else {
			pending, sb, unclassified := b.Sum()
			row.Entries, row.SplitBrain, row.Unclassified, row.Down = pending+sb+unclassified, sb, unclassified, b.Down()
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// started reports whether a GlusterFS brick process serves v's bricks.
func (s Source) started(v *volume.Volume) bool {
	if v.Source != volume.SourceGlusterd {
		return false
	}
	procs, err := v.BrickProcesses(s.ProcDir)
	return err == nil && len(procs) > 0
}

// Entry is one entry of a volume's list: what heal info lists, once per
// replica set however many bricks' indexes list it.
type Entry struct {
	Set    int
	GFID   afr.GFID
	Path   string
	Status afr.HealStatus
	// Found is what fsck found of an entry no index lists: an rsync
	// temp file left behind, or copies that differ with no counter to
	// say why.
	Found *fsck.Finding
}

// stale is fsck's finding of a stale rsync temp file, or nil.
func (e Entry) stale() *fsck.Finding {
	if e.Found != nil && e.Found.Class == fsck.ClassStaleTemp {
		return e.Found
	}
	return nil
}

// entryKey tells entries apart across lists read again.
type entryKey struct {
	set  int
	gfid afr.GFID
	path string
}

func (e Entry) key() entryKey { return entryKey{e.Set, e.GFID, e.Path} }

// Group is the heading an entry is listed under.
type Group int

const (
	GroupSplitBrain Group = iota
	GroupPending
	GroupHealing
	// The groups from fsck's crawl, held in memory (fsck holds them
	// anyway): those before are listed from the indexes, and kept in
	// files (entryList).
	GroupUnexplained
	GroupStaleTemp
	groups
)

func (g Group) String() string {
	switch g {
	case GroupSplitBrain:
		return "split-brain"
	case GroupPending:
		return "pending"
	case GroupHealing:
		return "possibly healing"
	case GroupUnexplained:
		return "unexplained"
	case GroupStaleTemp:
		return "stale temp"
	}
	return "all"
}

// group is the heading of an entry e.
func group(e Entry) Group {
	st := e.Status
	switch {
	case e.stale() != nil:
		return GroupStaleTemp
	case e.Found != nil:
		return GroupUnexplained
	case st.IsSplitBrain():
		return GroupSplitBrain
	case st == afr.PossiblyHealing || st == afr.PossiblyHealingPending:
		return GroupHealing
	}
	return GroupPending
}

// entryBatch is how many entries travel to the screen at once.
const entryBatch = 512

// entries lists v's entries as heal info does, brick after brick, and
// hands them to emit a batch at a time, each gfid once per replica set.
// emit runs in the caller's goroutine; an error from it stops the walk.
func (s Source) entries(ctx context.Context, v *volume.Volume, emit func([]Entry) error) error {
	opts := heal.InfoOptions{QuorumCount: v.QuorumCount(), Paths: true}
	sets := heal.OpenReplicaSets(v, s.reach(v))
	defer func() {
		for _, rs := range sets {
			rs.Close()
		}
	}()
	var batch []Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(batch)
		batch = nil
		return err
	}
	for _, rs := range sets {
		for i := range rs.Bricks {
			if rs.Read[i] == nil {
				continue
			}
			err := rs.Info(i, opts, func(e heal.InfoEntry) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				if listedBefore(rs, i, e.GFID, e.Status) {
					return nil
				}
				batch = append(batch, Entry{Set: rs.Index, GFID: e.GFID, Path: e.Path, Status: e.Status})
				if len(batch) == entryBatch {
					return flush()
				}
				return nil
			}, nil)
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("%s: %w", rs.Bricks[i], err)
			}
			if err != nil {
				return err
			}
		}
	}
	return flush()
}

// listedBefore reports whether a brick of rs before brick i listed g (of
// status st) with its own entries: its index holds g where heal info
// lists it from (xattrop, or dirty for an entry xattrop does not count).
// Asking the indexes again keeps no set of the gfids seen, which at a
// million entries was most of the TUI's memory. An entry healed in
// between, gone from the earlier brick's index, may then be listed twice.
func listedBefore(rs *heal.ReplicaSet, i int, g afr.GFID, st afr.HealStatus) bool {
	for j := range i {
		ix := rs.Read[j]
		if ix == nil {
			continue
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			if ok, err := ix.Has(sub, g); err == nil && ok && heal.ListedFrom(sub, st) {
				return true
			}
		}
	}
	return false
}

// session opens a heal session on volume name (heal.Open), dryRun or for
// a writer that takes no AFR locks (unmounted): refused while GlusterFS
// serves the volume or another afrkit process heals it, recorded in the
// volume's history as the CLI's sessions are. The caller closes it.
func (s Source) session(name string, dryRun, unmounted bool) (*heal.Engine, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	return heal.Open(v, heal.SessionOptions{Engine: heal.EngineOptions{DryRun: dryRun}, StateDir: s.StateDir, ProcDir: s.ProcDir, Unmounted: unmounted})
}

// explain is heal.Explain of one entry.
func (s Source) explain(name string, e Entry) ([]heal.Explanation, error) {
	v, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	target := heal.Target{Path: e.Path}
	if target.Path == "" {
		target = heal.Target{GFID: e.GFID}
	}
	exs, err := heal.Explain(v, target, s.reach(v))
	if errors.Is(err, heal.ErrNowhere) {
		return nil, fmt.Errorf("%s is gone from every brick (healed, or removed)", target)
	}
	return exs, err
}
