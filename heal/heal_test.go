package heal_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// newEngine builds an engine whose history lives in the test's directory.
func newEngine(t testing.TB, v *fixtures.Vol, opts heal.EngineOptions) *heal.Engine {
	t.Helper()
	if opts.History == nil {
		opts.History = &heal.History{Path: filepath.Join(filepath.Dir(v.Bricks[0].Root), "history.jsonl")}
	}
	e, err := heal.NewEngine(v.V, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func runHeal(t testing.TB, v *fixtures.Vol, full bool, opts heal.EngineOptions) *heal.Result {
	t.Helper()
	res, err := newEngine(t, v, opts).Heal(context.Background(), full)
	if err != nil {
		t.Fatalf("heal: %v", err)
	}
	return res
}

// describe is everything a user could tell apart about one copy: type,
// gfid, mode, owner, content (or target) and the xattrs heal copies.
func describe(t *testing.T, b *brick.Brick, abs string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(abs, &st); err != nil {
		t.Fatal(err)
	}
	g, _ := b.GFIDAt(abs)
	s := fmt.Sprintf("mode=%o uid=%d gid=%d gfid=%s", st.Mode, st.Uid, st.Gid, g)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		data, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		s += fmt.Sprintf(" size=%d sha=%x", len(data), sha256.Sum256(data))
	case syscall.S_IFLNK:
		target, _ := os.Readlink(abs)
		s += " target=" + target
	}
	names, _ := xattr.LList(abs)
	sort.Strings(names)
	for _, n := range names {
		if b.IsInternalKey(n) {
			continue
		}
		v, _ := xattr.LGet(abs, n)
		s += fmt.Sprintf(" %s=%q", n, v)
	}
	return s
}

// tree describes every entry of a brick's volume namespace.
func tree(t *testing.T, b *brick.Brick) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(b.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, b.Root), "/")
		if rel == "/"+brick.GlusterDir {
			return filepath.SkipDir
		}
		out[rel] = describe(t, b, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertConverged checks what a healed volume looks like: every brick
// holds the same entries (type, gfid, content, owner, mode, xattrs), no
// AFR counter is set anywhere, every index is empty, and every entry's
// handle is in place.
func assertConverged(t *testing.T, v *fixtures.Vol) {
	t.Helper()
	ref := tree(t, v.Bricks[0])
	for i, b := range v.Bricks[1:] {
		got := tree(t, b)
		for p, want := range ref {
			if got[p] != want {
				t.Errorf("b%d %s:\n got %s\nwant %s (b0)", i+1, p, got[p], want)
			}
		}
		for p := range got {
			if _, ok := ref[p]; !ok {
				t.Errorf("b%d has %s, b0 does not", i+1, p)
			}
		}
	}
	for i, b := range v.Bricks {
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			if n, err := v.Indexes[i].Count(sub); err != nil || n != 0 {
				t.Errorf("b%d: %s index has %d entries (%v)", i, sub, n, err)
			}
		}
		_ = v.Indexes[i].WalkEntryChanges(func(pg afr.GFID, name string, _ error) error {
			t.Errorf("b%d: entry-changes/%s/%s left", i, pg, name)
			return nil
		})
		_ = filepath.WalkDir(b.Root, func(p string, d fs.DirEntry, err error) error {
			if d.IsDir() && d.Name() == brick.GlusterDir {
				return filepath.SkipDir
			}
			names, _ := xattr.LList(p)
			for _, n := range names {
				if strings.HasPrefix(n, b.Key(brick.KeyAFRPrefix)) {
					val, _ := xattr.LGet(p, n)
					if !bytes.Equal(val, make([]byte, 12)) {
						t.Errorf("b%d %s: %s = %x after heal", i, p, n, val)
					}
				}
			}
			if g, err := b.GFIDAt(p); err == nil {
				abs, err := b.AbsOfGFID(g)
				fa, _ := os.Lstat(abs)
				fp, _ := os.Lstat(p)
				if err != nil || fa == nil || fp == nil || !os.SameFile(fa, fp) {
					t.Errorf("b%d %s: handle of %s leads to %q (%v)", i, p, g, abs, err)
				}
			} else {
				t.Errorf("b%d %s: no gfid: %v", i, p, err)
			}
			return nil
		})
	}
}

func TestHealPendingStates(t *testing.T) {
	for _, state := range []string{"pending-data", "pending-entry", "pending-metadata"} {
		for _, replica := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/replica%d", state, replica), func(t *testing.T) {
				v := fixtures.MustBuild(t, state, replica)
				before := tree(t, v.Bricks[0])
				res := runHeal(t, v, false, heal.EngineOptions{})
				if len(res.Left) != 0 {
					t.Fatalf("left: %+v", res.Left)
				}
				assertConverged(t, v)
				if after := tree(t, v.Bricks[0]); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("the source changed:\n%v\n%v", before, after)
				}
			})
		}
	}
}

// TestHealManyKinds heals, on replica 3 with one brick down, creations of
// every type in new nested directories, hard links, a rename, removals,
// chmod, xattrs and data changes.
func TestHealManyKinds(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 3)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.Mkdir("/a", 2))
	must(v.Mkdir("/a/b", 2))
	must(v.WriteFile("/a/b/deep.txt", bytes.Repeat([]byte("x"), 3<<20+17), 2))
	must(v.Symlink("../hello.txt", "/a/link", 2))
	must(v.Remove(fixtures.LinkPath, 2))
	must(v.Overwrite(fixtures.HelloPath, []byte("rewritten while b2 was down\n"), 2))
	must(v.Chmod(fixtures.ReadmePath, 0o640, 2))
	must(v.SetXattr(fixtures.ReadmePath, "user.colour", []byte("blue"), 2))
	res := runHeal(t, v, false, heal.EngineOptions{Jobs: 3, BlockSize: 64 << 10})
	if len(res.Left) != 0 {
		t.Fatalf("left: %+v", res.Left)
	}
	assertConverged(t, v)
	if _, err := os.Lstat(filepath.Join(v.Bricks[2].Root, "hello.link")); err == nil {
		t.Error("the symlink removed on the sources is still on b2")
	}
	// The removed symlink's gfid was gone from the sources: its copy is
	// kept, and recorded.
	recs, err := (&heal.History{Path: filepath.Join(filepath.Dir(v.Bricks[0].Root), "history.jsonl")}).Read()
	if err != nil || len(recs) != 1 || recs[0].Kind != "removed" || recs[0].Path != fixtures.LinkPath {
		t.Fatalf("history = %+v, %v", recs, err)
	}
	if _, err := os.Lstat(recs[0].Kept[0].Path); err != nil {
		t.Errorf("kept copy: %v", err)
	}
}

// TestHealRenameAndHardLink: a file renamed and a hard link made while a
// brick was down heal as a rename and a link, not as a copy.
func TestHealRenameAndHardLink(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	// Rename /hello.txt to /docs/hello.txt and link /docs/readme.md as
	// /readme.md on b0 only, as the brick would after those fops.
	b := v.Bricks[0]
	g, _ := b.GFIDOf(fixtures.HelloPath)
	docs, _ := b.GFIDOf(fixtures.DocsPath)
	root := brick.RootGFID
	if err := os.Rename(filepath.Join(b.Root, "hello.txt"), filepath.Join(b.Root, "docs/hello.txt")); err != nil {
		t.Fatal(err)
	}
	h := b.HandlePath(g)
	_ = b.RemoveGfid2path(h, root, "hello.txt")
	_ = b.AddGfid2path(h, docs, "hello.txt")
	if err := os.Link(filepath.Join(b.Root, "docs/readme.md"), filepath.Join(b.Root, "readme.md")); err != nil {
		t.Fatal(err)
	}
	rg, _ := b.GFIDOf(fixtures.ReadmePath)
	_ = b.AddGfid2path(b.HandlePath(rg), root, "readme.md")
	for _, dir := range []string{"/", fixtures.DocsPath} {
		abs, _ := b.Abs(dir)
		if _, err := b.AddChangelog(abs, dir, brick.PendingKey(v.V.Bricks[1].ID), afr.Changelog{0, 0, 1}); err != nil {
			t.Fatal(err)
		}
		dg, _ := b.GFIDOf(dir)
		if err := v.Indexes[0].Add(index.Xattrop, dg); err != nil {
			t.Fatal(err)
		}
	}
	res := runHeal(t, v, false, heal.EngineOptions{})
	if len(res.Left) != 0 {
		t.Fatalf("left: %+v", res.Left)
	}
	assertConverged(t, v)
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(v.Bricks[1].Root, "readme.md"), &st); err != nil || st.Nlink != 3 {
		t.Errorf("b1 /readme.md: nlink %d, want 3 (two names and the handle): %v", st.Nlink, err)
	}
	if n := len(res.Resolved); n != 0 {
		t.Errorf("a rename kept %d copies; nothing was lost, nothing should be kept", n)
	}
}

func TestSplitBrainIsLeftWithoutPolicy(t *testing.T) {
	for _, state := range []string{"data-split-brain", "metadata-split-brain", "gfid-mismatch"} {
		t.Run(state, func(t *testing.T) {
			v := fixtures.MustBuild(t, state, 2)
			before := []map[string]string{tree(t, v.Bricks[0]), tree(t, v.Bricks[1])}
			res := runHeal(t, v, false, heal.EngineOptions{})
			if len(res.Left) == 0 || !res.Left[0].SplitBrain {
				t.Fatalf("left = %+v, want a split-brain", res.Left)
			}
			for i := range before {
				if got := tree(t, v.Bricks[i]); fmt.Sprint(got) != fmt.Sprint(before[i]) {
					t.Errorf("b%d changed although nothing could be decided", i)
				}
			}
		})
	}
}

func TestFavoriteChildPolicy(t *testing.T) {
	for _, tc := range []struct {
		state, policy, path string
		winner              int
	}{
		{"data-split-brain", "size", fixtures.HelloPath, 1},
		{"data-split-brain", "mtime", fixtures.HelloPath, 1},
		{"gfid-mismatch", "mtime", "/same.txt", 1},
	} {
		t.Run(tc.state+"/"+tc.policy, func(t *testing.T) {
			v := fixtures.MustBuild(t, tc.state, 2)
			v.V.Options = map[string]string{"cluster.favorite-child-policy": tc.policy}
			winner := describeContent(t, v, tc.winner, tc.path)
			loser := describeContent(t, v, 1-tc.winner, tc.path)
			res := runHeal(t, v, false, heal.EngineOptions{})
			if len(res.Left) != 0 {
				t.Fatalf("left: %+v", res.Left)
			}
			assertConverged(t, v)
			if got := describeContent(t, v, 1-tc.winner, tc.path); got != winner {
				t.Errorf("b%d now has %q, want the winner's %q", 1-tc.winner, got, winner)
			}
			if len(res.Resolved) != 1 {
				t.Fatalf("resolved = %+v", res.Resolved)
			}
			var kept string
			for _, k := range res.Resolved[0].Kept {
				if !k.Source && k.Path != "" {
					data, err := os.ReadFile(k.Path)
					if err != nil {
						t.Fatal(err)
					}
					kept = string(data)
				}
			}
			if kept != loser {
				t.Errorf("kept loser = %q, want %q", kept, loser)
			}
		})
	}
}

func describeContent(t *testing.T, v *fixtures.Vol, i int, p string) string {
	t.Helper()
	abs, _ := v.Bricks[i].Abs(p)
	data, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDryRunChangesNothing(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-entry", 2)
	v.V.Options = map[string]string{"cluster.favorite-child-policy": "size"}
	if err := v.Overwrite(fixtures.HelloPath, []byte("b0 alone\n"), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite(fixtures.HelloPath, []byte("b1 alone, longer\n"), 0); err != nil {
		t.Fatal(err)
	}
	snap := func() string {
		var s []string
		for _, b := range v.Bricks {
			s = append(s, fmt.Sprint(tree(t, b)))
			_ = filepath.WalkDir(b.GlusterPath(), func(p string, d fs.DirEntry, err error) error {
				s = append(s, p)
				return nil
			})
		}
		return strings.Join(s, "\n")
	}
	before := snap()
	res := runHeal(t, v, false, heal.EngineOptions{DryRun: true})
	if after := snap(); after != before {
		t.Error("a dry run changed the bricks")
	}
	var what []string
	for _, a := range res.Actions {
		what = append(what, a.Path+" "+a.What)
	}
	sort.Strings(what)
	want := "/docs/new.txt create,/hello.txt data,/hello.txt resolve"
	if got := strings.Join(what, ","); got != want {
		t.Errorf("plan = %s, want %s", got, want)
	}
}

func TestFullHealFindsWhatNoCounterSays(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	// A file created on b0's backend directly: no gfid, no counter, no
	// index entry.
	if err := os.WriteFile(filepath.Join(v.Bricks[0].Root, "backend.txt"), []byte("made on the brick\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runHeal(t, v, false, heal.EngineOptions{}); len(res.Actions) != 0 {
		t.Fatalf("an index heal acted on an unindexed file: %+v", res.Actions)
	}
	res := runHeal(t, v, true, heal.EngineOptions{})
	if len(res.Left) != 0 {
		t.Fatalf("left: %+v", res.Left)
	}
	assertConverged(t, v)
}

// TestEventsComeOneAtATime: the events callback is called by the
// workers, one at a time, so that a printer keeping its own state (the
// last time it drew) needs no lock; `afrkit heal`'s printer raced when
// four workers called it at once. Every action comes as an event, and
// with ForgetActions as an event only: a daemon's round keeps none.
func TestEventsComeOneAtATime(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("ForgetActions=%v", forget), func(t *testing.T) {
			v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 60; i++ {
				if err := v.WriteFile(fmt.Sprintf("/f%02d", i), []byte("made while b1 was down\n"), 1); err != nil {
					t.Fatal(err)
				}
			}
			var inside, overlaps int32
			var progress, actions, dataHealed, stillBlamed int // unsynchronised: -race reports concurrent calls
			res := runHeal(t, v, false, heal.EngineOptions{Jobs: 4, ForgetActions: forget, Events: func(ev heal.Event) {
				if !atomic.CompareAndSwapInt32(&inside, 0, 1) {
					atomic.AddInt32(&overlaps, 1)
					return
				}
				time.Sleep(200 * time.Microsecond) // widen the window two calls could share
				switch ev := ev.(type) {
				case heal.Progress:
					progress++
				case heal.Action:
					actions++
				case heal.Healed:
					if slices.Contains(ev.Kinds, "data") {
						dataHealed++
						// Durable by now: b0 blames b1 no more.
						abs, _ := v.Bricks[0].Abs(ev.Path)
						if c, err := xattr.LGet(abs, "trusted.afr.fx-client-1"); err == nil && !bytes.Equal(c, make([]byte, 12)) {
							stillBlamed++
						}
					}
				}
				atomic.StoreInt32(&inside, 0)
			}})
			if overlaps > 0 {
				t.Errorf("Events was called %d times while another call ran", overlaps)
			}
			if progress == 0 {
				t.Errorf("no progress came")
			}
			// The root's entry heal creates the 60 files; each file's
			// data heal fills it.
			if actions < 120 {
				t.Errorf("%d actions came, want one per create and per data heal at least", actions)
			}
			switch {
			case forget && len(res.Actions) != 0:
				t.Errorf("ForgetActions kept %d actions", len(res.Actions))
			case !forget && len(res.Actions) != actions:
				t.Errorf("%d actions kept, %d came as events", len(res.Actions), actions)
			}
			if stillBlamed > 0 {
				t.Errorf("%d files came as healed while b0 still blamed b1 for them", stillBlamed)
			}
			if res.Healed["data"] != 60 || dataHealed != 60 {
				t.Errorf("healed %v, %d data heals as events, want the 60 data heals counted", res.Healed, dataHealed)
			}
			assertConverged(t, v)
		})
	}
}

// TestEventsNameWhatIsLeftAndBricksDown: a split-brain the heal leaves
// comes as a Left event, and a brick the heal cannot read as BrickDown
// before it refuses.
func TestEventsNameWhatIsLeftAndBricksDown(t *testing.T) {
	v, err := fixtures.Build(t.TempDir(), "data-split-brain", 2)
	if err != nil {
		t.Fatal(err)
	}
	var events []heal.Event
	collect := func(ev heal.Event) {
		if _, ok := ev.(heal.Progress); !ok {
			events = append(events, ev)
		}
	}
	res := runHeal(t, v, false, heal.EngineOptions{Events: collect})
	if len(res.Left) != 1 || len(events) == 0 || !reflect.DeepEqual(events[len(events)-1], heal.Event(res.Left[0])) {
		t.Errorf("events %+v, want the split-brain left last: %+v", events, res.Left)
	}

	events = nil
	if err := os.Rename(v.Bricks[1].Root, v.Bricks[1].Root+".gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := newEngine(t, v, heal.EngineOptions{Events: collect}).Heal(context.Background(), false); err == nil {
		t.Fatal("a heal with b1 gone did not refuse")
	}
	if len(events) != 1 {
		t.Fatalf("events %+v, want b1 down", events)
	}
	if d, ok := events[0].(heal.BrickDown); !ok || !strings.HasSuffix(d.Brick, "/b1") || d.Err == nil {
		t.Errorf("event %+v, want b1 down with why", events[0])
	}
}
