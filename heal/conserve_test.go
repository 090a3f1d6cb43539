package heal_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/crashtest"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// propCases is how many damaged volumes TestContentIsConserved generates:
// 2000 in .ci/run's run without the race detector (about a minute), 150
// under it, where each takes ten times as long (still every command, for
// the detector to watch).
func propCases() int {
	if crashtest.UnderRace() {
		return 150
	}
	return 2000
}

// TestContentIsConserved is the content-conservation property: on volumes
// damaged at random (fixtures.Damage), every writing command — heal, heal
// full, each split-brain policy on each file and source-brick on the
// whole volume, fsck --repair --rename-stale, undo — run in random order,
// each
//   - in a dry run first, which changes nothing on any brick and plans
//     exactly the actions the run then takes;
//   - then for real, after which every version of every file that was on
//     any brick (content, symlink target, metadata set), unless a
//     changelog said a write through the volume replaced it, is still in
//     the volume's namespace or in the keep store where a history record
//     or a quarantine manifest says;
//   - then again, which does nothing and changes nothing.
//
// The seed is printed (1 unless AFRKIT_PROP_SEED says another, or
// "random"); AFRKIT_PROP_SEED replays a run, AFRKIT_PROP_CASE one case of
// it, and AFRKIT_PROP_CASES sets how many.
func TestContentIsConserved(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of generated volumes")
	}
	// CI runs one fixed seed, so that a change is judged on the same
	// volumes every time; AFRKIT_PROP_SEED=random explores others.
	seed := uint64(1)
	switch s := os.Getenv("AFRKIT_PROP_SEED"); s {
	case "":
	case "random":
		seed = uint64(time.Now().UnixNano())
	default:
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("AFRKIT_PROP_SEED=%q: %v", s, err)
		}
	}
	first, last := 0, propCases()
	if s := os.Getenv("AFRKIT_PROP_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("AFRKIT_PROP_CASES=%q: %v", s, err)
		}
		last = n
	}
	if s := os.Getenv("AFRKIT_PROP_CASE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("AFRKIT_PROP_CASE=%q: %v", s, err)
		}
		first, last = n, n+1
	}
	t.Logf("seed %d, cases %d to %d (AFRKIT_PROP_SEED=%d AFRKIT_PROP_CASE=N replays case N)", seed, first, last-1, seed)
	base := memDir(t)
	ran := map[string]int{}
	for c := first; c < last; c++ {
		dir := filepath.Join(base, strconv.Itoa(c))
		pc := newPropCase(t, dir, rand.New(rand.NewPCG(seed, uint64(c))))
		for _, cmd := range pc.commands {
			ran[cmd.name]++
			if msg := pc.check(cmd); msg != "" {
				t.Fatalf("seed %d case %d (AFRKIT_PROP_SEED=%d AFRKIT_PROP_CASE=%d), replica %d\ndamage:\n  %s\ncommands: %s\n%s: %s",
					seed, c, seed, c, len(pc.v.Bricks), strings.Join(pc.damage, "\n  "), pc.names(), cmd.name, msg)
			}
		}
		os.RemoveAll(dir)
	}
	t.Logf("%d cases: %v", last-first, ran)
}

// memDir is a directory on tmpfs (/dev/shm), which keeps trusted and user
// xattrs as a brick's filesystem does and makes a volume's 768 handle
// directories in microseconds rather than milliseconds: the property runs
// thousands. Without /dev/shm it is t.TempDir.
func memDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/dev/shm", "afrkit-prop-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// propCommand is one writing command. run runs it (dry or not) and
// returns the actions it took or planned, in words that do not depend on
// the run (no record ids, no times).
type propCommand struct {
	name string
	run  func(dry bool) ([]string, error)
	// againRefuses: a second run may fail (undo of a record undone
	// already), as long as it changes nothing.
	againRefuses bool
	// each, when set, lists the commands this one is, one per file, each
	// checked on its own: a command on a file in the volume that an
	// earlier one changed.
	each func() []propCommand
	// sampled commands that plan nothing are checked one time in four.
	sampled bool
}

type propCase struct {
	t        *testing.T
	v        *fixtures.Vol
	hist     string
	damage   []string
	commands []propCommand
	// must is every version seen so far that must stay reachable.
	must *fixtures.Inventory
	// last is the bricks' snapshot after the last command.
	last string
	rng  *rand.Rand
}

func newPropCase(t *testing.T, dir string, rng *rand.Rand) *propCase {
	t.Helper()
	replica := 2 + rng.IntN(2)
	v, err := fixtures.Healthy(dir, "fx", replica)
	if err != nil {
		t.Fatal(err)
	}
	pc := &propCase{t: t, v: v, hist: heal.HistoryPath(filepath.Join(dir, "state"), "fx"), rng: rng}
	pc.damage = v.Damage(rng, 1+rng.IntN(6))
	all := pc.allCommands(rng)
	for range 1 + rng.IntN(3) {
		pc.commands = append(pc.commands, all[rng.IntN(len(all))])
	}
	pc.must, err = fixtures.TakeInventory(v, pc.hist)
	if err != nil {
		t.Fatal(err)
	}
	pc.last = pc.snapshot()
	return pc
}

// debugf logs, when AFRKIT_PROP_DEBUG is set, what a failing case's
// commands did step by step.
func (pc *propCase) debugf(format string, args ...any) {
	if os.Getenv("AFRKIT_PROP_DEBUG") != "" {
		pc.t.Logf(format, args...)
	}
}

func (pc *propCase) names() string {
	var n []string
	for _, c := range pc.commands {
		n = append(n, c.name)
	}
	return strings.Join(n, ", ")
}

func (pc *propCase) engine(dry bool) *heal.Engine {
	e, err := heal.NewEngine(pc.v.V, heal.EngineOptions{Jobs: 1, DryRun: dry, History: &heal.History{Path: pc.hist}})
	if err != nil {
		pc.t.Fatal(err)
	}
	return e
}

// actionWords words a heal's actions but those that fill in what an
// earlier action created or gave a gfid (the content of a created file,
// the names in a created directory): a dry run cannot plan those, and
// says so.
func actionWords(acts []heal.Action) []string {
	var out []string
	created := map[string]bool{}
	made := map[afr.GFID]bool{}
	for _, a := range acts {
		// A link names a gfid that is there already: nothing follows it.
		making := a.What == "create" || a.What == "gfid"
		followUp := createdBelow(created, filepath.Dir(a.Path)) || made[a.GFID] && !making
		if !followUp {
			// The heal of a file's own data or metadata is named by its
			// gfid: a file with several names is reported under one of
			// them, which a link made in the same run may change.
			what := a.Path
			switch a.What {
			case "data", "metadata", "mark", "keep", "resolve":
				what = "gfid:" + a.GFID.String()
			}
			out = append(out, fmt.Sprintf("%s %s %s->%s", a.What, what, a.Source, strings.Join(a.Sinks, ",")))
		}
		if making {
			created[a.Path] = true
			made[a.Target] = true
		}
	}
	return out
}

// createdBelow reports whether p or a directory above it was created.
func createdBelow(created map[string]bool, p string) bool {
	for ; p != "/" && p != "."; p = filepath.Dir(p) {
		if created[p] {
			return true
		}
	}
	return false
}

func (pc *propCase) allCommands(rng *rand.Rand) []propCommand {
	var undoID string
	healCmd := func(full bool) func(bool) ([]string, error) {
		return func(dry bool) ([]string, error) {
			res, err := pc.engine(dry).Heal(context.Background(), full)
			if res == nil {
				return nil, err
			}
			for _, a := range res.Actions {
				pc.debugf("dry=%v %+v", dry, a)
			}
			for _, l := range res.Left {
				pc.debugf("dry=%v left %+v", dry, l)
			}
			return actionWords(res.Actions), err
		}
	}
	cmds := []propCommand{
		{name: "heal", run: healCmd(false)},
		{name: "heal full", run: healCmd(true)},
		{name: "fsck --repair --rename-stale", run: func(dry bool) ([]string, error) {
			check := func() (*fsck.Report, error) { return fsck.CheckVolume(context.Background(), pc.v.V, fsck.Options{}) }
			_, done, _, err := fsck.Converge(context.Background(), check, fsck.RepairOptions{Repair: true, RenameStale: true, DryRun: dry, ID: "prop"})
			// A later pass may finish what an earlier one began on the
			// same entry (the index of a file given a gfid); the dry run
			// plans the first.
			var out []string
			began := map[string]bool{}
			for _, r := range done {
				pc.debugf("dry=%v %+v", dry, r)
				f := r.Finding
				byPath, byGFID := f.Brick+" "+f.Path, f.Brick+" "+f.GFID
				if !began[byPath] && (f.GFID == "" || !began[byGFID]) {
					out = append(out, fmt.Sprintf("%s %s %s", f.Class, byPath, r.Err))
				}
				began[byPath] = true
				if f.GFID != "" {
					began[byGFID] = true
				}
			}
			return out, err
		}},
		{name: "fsck --restore", againRefuses: true, run: func(dry bool) ([]string, error) {
			var roots []string
			for _, b := range pc.v.Bricks {
				roots = append(roots, b.Root)
			}
			lines, err := fsck.Restore(roots, pc.v.V.XattrNS, "prop", dry)
			var out []string
			for _, l := range lines {
				// "would restore /a (class)" plans "restored /a (class)",
				// "would rename /b back to /a" plans "renamed /b back to /a".
				l = strings.Replace(l, ": would restore ", ": restored ", 1)
				out = append(out, strings.Replace(l, ": would rename ", ": renamed ", 1))
			}
			return out, err
		}},
		{name: "undo", againRefuses: true, run: func(dry bool) ([]string, error) {
			// The dry run picks the last record not undone yet; the run and
			// the run again undo that one.
			if dry || undoID == "" {
				undoID = ""
				recs, err := (&heal.History{Path: pc.hist}).Read()
				if err != nil {
					return nil, err
				}
				undone := map[string]bool{}
				for _, r := range recs {
					undone[r.Undoes] = true
				}
				for _, r := range recs {
					if r.Kind != "undo" && !undone[r.ID] {
						undoID = r.ID
					}
				}
			}
			if undoID == "" {
				return nil, nil
			}
			pc.debugf("dry=%v undo %s", dry, undoID)
			lines, err := pc.engine(dry).Undo(undoID, false)
			var out []string
			for _, l := range lines {
				// "would restore b1's data …" plans "Restored b1's data …".
				for _, w := range strings.Fields(l) {
					if strings.HasSuffix(w, "'s") {
						out = append(out, w)
						break
					}
				}
			}
			return out, err
		}},
	}
	ops := []afr.HealOp{afr.OpBiggerFile, afr.OpLatestMtime, afr.OpSourceBrick}
	if len(pc.v.Bricks) > 2 {
		ops = append(ops, afr.OpMajority)
	}
	for _, op := range ops {
		sbo := heal.SplitBrainOp{Op: op, Brick: -1}
		name := "split-brain " + op.String()
		if op == afr.OpSourceBrick {
			sbo.Brick = rng.IntN(len(pc.v.Bricks))
			name += fmt.Sprintf(" b%d", sbo.Brick)
			cmds = append(cmds, propCommand{name: name, run: func(dry bool) ([]string, error) {
				var out []string
				e := pc.engine(dry)
				_, err := e.SplitBrainAll(context.Background(), 0, sbo, func(o heal.Outcome) {
					pc.debugf("dry=%v outcome %+v actions %v", dry, o, actionWords(e.Result().Actions))
					if o.Healed {
						out = append(out, actionWords(e.Result().Actions)...)
					}
				})
				return out, err
			}})
		}
		cmds = append(cmds, propCommand{name: name + " FILE", each: func() []propCommand {
			var per []propCommand
			for _, p := range pc.paths() {
				per = append(per, propCommand{name: name + " " + p, sampled: true, run: func(dry bool) ([]string, error) {
					e := pc.engine(dry)
					o, err := e.SplitBrain(context.Background(), heal.Target{Path: p}, sbo)
					if err != nil {
						return nil, err
					}
					if !o.Healed {
						// A refusal: the snapshot shows it changed nothing.
						return nil, fmt.Errorf("refused: %s", strings.Join(o.Lines, " "))
					}
					return actionWords(e.Result().Actions), nil
				}})
			}
			return per
		}})
	}
	return cmds
}

// paths lists every name in any brick's namespace, for the split-brain
// commands to name.
func (pc *propCase) paths() []string {
	var out []string
	for _, b := range pc.v.Bricks {
		filepath.WalkDir(b.Root, func(abs string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if abs == b.GlusterPath() {
				return filepath.SkipDir
			}
			if abs != b.Root {
				out = append(out, b.RelToRoot(abs))
			}
			return nil
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// snapshot is every brick's snapshot.
func (pc *propCase) snapshot() string {
	var s strings.Builder
	for _, b := range pc.v.Bricks {
		s.WriteString(fixtures.Snapshot(pc.t, b.Root))
	}
	return s.String()
}

// check runs cmd dry, for real and again, and says what went wrong.
func (pc *propCase) check(cmd propCommand) string {
	if cmd.each != nil {
		for _, c := range cmd.each() {
			if msg := pc.check(c); msg != "" {
				return c.name + ": " + msg
			}
		}
		return ""
	}
	before := pc.last
	plan, planErr := cmd.run(true)
	if cmd.sampled && len(plan) == 0 && pc.rng.IntN(4) != 0 {
		// A command on one file that plans nothing is checked one time
		// in four: snapshots are most of the test's time, and there are
		// a dozen files.
		return ""
	}
	inv, err := fixtures.TakeInventory(pc.v, pc.hist)
	if err != nil {
		return err.Error()
	}
	pc.must.Merge(inv)
	if after := pc.snapshot(); after != before {
		return "the dry run changed the bricks:\n" + fixtures.LineDiff(before, after)
	}
	did, err := cmd.run(false)
	if (planErr == nil) != (err == nil) {
		return fmt.Sprintf("the dry run's error %v, the run's %v", planErr, err)
	}
	if err != nil {
		if pc.last = pc.snapshot(); pc.last != before {
			return fmt.Sprintf("the run failed (%v) and changed the bricks:\n%s", err, fixtures.LineDiff(before, pc.last))
		}
		return ""
	}
	if !slices.Equal(plan, did) {
		return fmt.Sprintf("the dry run planned\n  %s\nthe run did\n  %s", strings.Join(plan, "\n  "), strings.Join(did, "\n  "))
	}
	got, err := fixtures.TakeInventory(pc.v, pc.hist)
	if err != nil {
		return err.Error()
	}
	if lost := fixtures.Lost(pc.must, got); len(lost) > 0 {
		return fmt.Sprintf("versions lost (the run did %s):\n  %s", strings.Join(did, "; "), strings.Join(lost, "\n  "))
	}
	settled := pc.snapshot()
	again, err := cmd.run(false)
	if err != nil && !cmd.againRefuses && !strings.HasPrefix(err.Error(), "refused: ") {
		return fmt.Sprintf("the second run failed: %v", err)
	}
	if len(again) > 0 {
		return fmt.Sprintf("the second run did more:\n  %s", strings.Join(again, "\n  "))
	}
	if pc.last = pc.snapshot(); pc.last != settled {
		return fmt.Sprintf("the second run (%s) changed the bricks:\n%s", strings.Join(again, "; "), fixtures.LineDiff(settled, pc.last))
	}
	return ""
}
