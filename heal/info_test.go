package heal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// listing is what Info reports for one brick: "path status" lines, sorted.
func listing(t *testing.T, v *fixtures.Vol, i int) []string {
	t.Helper()
	rs := heal.ReplicaSets(v.V)[0]
	var lines []string
	err := rs.Info(i, heal.InfoOptions{Paths: true}, func(e heal.InfoEntry) error {
		lines = append(lines, e.Path+" "+e.Status.String())
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}

// TestNamedStates checks that every named damaged state is what its name
// says, as afr and heal info see it.
func TestNamedStates(t *testing.T) {
	want := map[string][2]string{ // state: brick 0's listing, brick 1's listing
		"healthy":              {"", ""},
		"pending-data":         {"/hello.txt heal-pending", ""},
		"pending-entry":        {"/docs heal-pending,/docs/new.txt heal-pending", ""},
		"pending-metadata":     {"/docs/readme.md heal-pending", ""},
		"data-split-brain":     {"/hello.txt split-brain-pending", "/hello.txt split-brain-pending"},
		"metadata-split-brain": {"/docs/readme.md split-brain-pending", "/docs/readme.md split-brain-pending"},
		// Each brick blames the other for the root's entries; the file
		// itself differs by gfid, which heal info never calls split-brain.
		"gfid-mismatch":                 {"/ split-brain-pending,/same.txt heal-pending", "/ split-brain-pending,/same.txt heal-pending"},
		"stale-temp":                    {"", ""},
		"data-and-metadata-split-brain": {"/both.txt split-brain-pending", "/both.txt split-brain-pending"},
	}
	states := []string{"healthy"}
	for _, s := range fixtures.States() {
		states = append(states, s.Name)
	}
	for _, name := range states {
		t.Run(name, func(t *testing.T) {
			v := fixtures.MustBuild(t, name, 2)
			for i := 0; i < 2; i++ {
				if got := strings.Join(listing(t, v, i), ","); got != want[name][i] {
					t.Errorf("brick b%d lists %q, want %q", i, got, want[name][i])
				}
			}
		})
	}
}

func TestDataSplitBrainVerdict(t *testing.T) {
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	rs := heal.ReplicaSets(v.V)[0]
	replies, errs := rs.GatherPath(fixtures.HelloPath)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	vd := afr.Decide(replies, afr.Options{})
	if !vd.Data.SplitBrain || !vd.Data.Unresolved || vd.Metadata.NeedsHeal {
		t.Fatalf("verdict:\n%s", vd)
	}
	if !strings.Contains(vd.Data.Reason, "b0 blames b1; b1 blames b0") {
		t.Errorf("reason %q does not say who blames whom", vd.Data.Reason)
	}
	// bigger-file picks b1, whose copy is longer.
	src, err := afr.ResolveSplitBrain(replies, afr.Data, afr.OpBiggerFile, -1, 0)
	if err != nil || src != 1 {
		t.Errorf("bigger-file chose %d, %v; want b1", src, err)
	}
}

func TestStaleAndForeignIndexEntriesAreSkipped(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	ix := v.Indexes[0]
	gone := brick.NewGFID()
	if err := ix.Add(index.Xattrop, gone); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ix.Dir, "xattrop", "junk"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rs := heal.ReplicaSets(v.V)[0]
	var listed, skipped []string
	err := rs.Info(0, heal.InfoOptions{Paths: true}, func(e heal.InfoEntry) error {
		listed = append(listed, e.Path)
		return nil
	}, func(s heal.Skipped) error {
		if !s.Stale {
			t.Errorf("%s skipped as %q but not marked stale", s.Name, s.Reason)
		}
		skipped = append(skipped, s.Name+": "+s.Reason)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(skipped)
	if strings.Join(listed, ",") != fixtures.HelloPath {
		t.Errorf("listed %v, want only %s", listed, fixtures.HelloPath)
	}
	want := []string{gone.String() + ": no brick has this gfid", "junk: not a gfid"}
	if strings.Join(skipped, "|") != strings.Join(want, "|") {
		t.Errorf("skipped %q", skipped)
	}
}

func TestMissingBrickIsDown(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	if err := os.RemoveAll(v.V.Bricks[1].Path); err != nil {
		t.Fatal(err)
	}
	rs := heal.ReplicaSets(v.V)[0]
	if rs.Open[1] != nil || rs.Err[1] == nil {
		t.Fatalf("a missing brick opened: %v", rs.Err[1])
	}
	if err := rs.Info(1, heal.InfoOptions{}, func(heal.InfoEntry) error { return nil }, nil); err == nil {
		t.Error("Info on a missing brick did not fail")
	}
	got := listing(t, v, 0)
	// With b1 gone heal info still lists the entry, never as split-brain.
	if strings.Join(got, ",") != "/hello.txt heal-pending" {
		t.Errorf("b0 lists %v", got)
	}
}

func TestCorruptChangelogMakesBrickUntrusted(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	b := v.Bricks[0]
	abs, err := b.Abs(fixtures.HelloPath)
	if err != nil {
		t.Fatal(err)
	}
	key := b.NS + ".afr." + v.V.Bricks[1].ID
	if err := setRaw(abs, key, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	rs := heal.ReplicaSets(v.V)[0]
	replies, errs := rs.GatherPath(fixtures.HelloPath)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "wrong length") || replies[0].Answered {
		t.Fatalf("corrupt changelog: err %v, answered %v", errs[0], replies[0].Answered)
	}
	if vd := afr.Decide(replies, afr.Options{}); vd.Data.Source == 0 {
		t.Fatalf("afr chose the brick with the corrupt changelog as source:\n%s", vd)
	}
}

func TestOptionsReadTheVolume(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 3)
	v.V.Options = map[string]string{"cluster.favorite-child-policy": "mtime", "cluster.metadata-splitbrain-forced-heal": "on", "cluster.quorum-type": "fixed", "cluster.quorum-count": "1"}
	opts, err := heal.Options(v.V)
	if err != nil {
		t.Fatal(err)
	}
	if want := (afr.Options{QuorumCount: 1, FavoriteChild: afr.PolicyMtime, MetadataSplitBrainForcedHeal: true, GranularEntryHeal: true}); opts != want {
		t.Errorf("options %+v, want %+v", opts, want)
	}
	v.V.Options["cluster.granular-entry-heal"] = "off"
	if opts, err := heal.Options(v.V); err != nil || opts.GranularEntryHeal {
		t.Errorf("granular-entry-heal off gives %+v, %v", opts, err)
	}
	delete(v.V.Options, "cluster.granular-entry-heal")
	v.V.Options["cluster.favorite-child-policy"] = "biggest"
	if _, err := heal.Options(v.V); err == nil || !strings.Contains(err.Error(), "favorite-child-policy") {
		t.Errorf("an unknown policy gives %v", err)
	}
}

// TestInfoKeepsIndexOrderAndStops: Info gathers entries concurrently but
// reports them in the order the index lists them, and a callback's error
// stops the walk and comes back unchanged.
func TestInfoKeepsIndexOrderAndStops(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	ix := v.Indexes[0]
	for n := 0; n < 700; n++ {
		if err := ix.Add(index.Xattrop, brick.NewGFID()); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
		if err := ix.Walk(sub, func(e index.Entry) error { want = append(want, e.Name); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	rs := heal.ReplicaSets(v.V)[0]
	for _, workers := range []int{1, 3, 50} {
		var got []string
		err := rs.Info(0, heal.InfoOptions{Workers: workers}, func(e heal.InfoEntry) error {
			got = append(got, e.GFID.String())
			return nil
		}, func(s heal.Skipped) error {
			got = append(got, s.Name)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%d workers: %d entries out of index order (want %d)", workers, len(got), len(want))
		}
	}
	stop := errors.New("enough")
	calls := 0
	count := func() error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	}
	err := rs.Info(0, heal.InfoOptions{}, func(heal.InfoEntry) error { return count() }, func(heal.Skipped) error { return count() })
	if !errors.Is(err, stop) || calls != 10 {
		t.Errorf("after stopping at 10: %d calls, err %v", calls, err)
	}
}

// countingReader counts the gfids gathered from one brick, to show what a
// memo saves: each read of a brick on another host is round trips.
type countingReader struct {
	heal.BrickReader
	n *atomic.Int64 // Info's workers read at once
}

func (c countingReader) CountersGFID(g afr.GFID, keys []string) (afr.Reply, error) {
	c.n.Add(1)
	return c.BrickReader.CountersGFID(g, keys)
}

// TestInfoMemoGathersAnEntryOnce: with a memo, a gfid the second brick's
// index lists as the first's did is not gathered again, and both bricks
// list the same statuses and paths as without one.
func TestInfoMemoGathersAnEntryOnce(t *testing.T) {
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	report := func(memo *heal.InfoMemo) ([]string, int64) {
		rs := heal.ReplicaSets(v.V)[0]
		defer rs.Close()
		var n atomic.Int64
		for i := range rs.Read {
			rs.Read[i] = countingReader{rs.Read[i], &n}
		}
		var lines []string
		for i := range rs.Bricks {
			err := rs.Info(i, heal.InfoOptions{Paths: true, Memo: memo}, func(e heal.InfoEntry) error {
				lines = append(lines, fmt.Sprintf("b%d %s %s", i, e.Path, e.Status))
				return nil
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		return lines, n.Load()
	}
	without, gathered := report(nil)
	with, memoGathered := report(heal.NewInfoMemo())
	if strings.Join(with, "\n") != strings.Join(without, "\n") || len(with) != 2 {
		t.Errorf("with a memo:\n%s\nwithout:\n%s", strings.Join(with, "\n"), strings.Join(without, "\n"))
	}
	// Without a memo each of the two listings reads the entry from both
	// bricks; with one, the first listing alone does.
	if gathered != 4 || memoGathered != 2 {
		t.Errorf("brick reads: %d without a memo, %d with; want 4 and 2", gathered, memoGathered)
	}
}
