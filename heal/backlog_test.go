package heal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

// backlogVol is a replica 2 volume with a data split-brain and n files
// written while b1 was down: b0's index lists the n files, the root
// (its new names) and the split-brain, b1's the split-brain.
func backlogVol(t *testing.T, n int) *fixtures.Vol {
	t.Helper()
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	for i := 0; i < n; i++ {
		if err := v.WriteFile(fmt.Sprintf("/p%03d", i), []byte("missed by b1\n"), 1); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// summary is heal info summary's counts for every brick: total and split-brain.
func summary(t *testing.T, v *fixtures.Vol) [][2]int {
	t.Helper()
	var out [][2]int
	for _, rs := range heal.ReplicaSets(v.V) {
		for i := range rs.Bricks {
			var c [2]int
			err := rs.Info(i, heal.InfoOptions{}, func(e heal.InfoEntry) error {
				c[0]++
				if e.Status.IsSplitBrain() {
					c[1]++
				}
				return nil
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return out
}

// counts are a backlog's figures per brick, as summary's, with the
// unclassified entries.
func counts(b heal.Backlog) (out [][3]int) {
	for _, bb := range b.Bricks {
		out = append(out, [3]int{bb.Pending + bb.SplitBrain, bb.SplitBrain, bb.Unclassified})
	}
	return out
}

func TestBacklogAgreesWithHealInfoSummary(t *testing.T) {
	v := backlogVol(t, 30)
	// A stale entry: an index name for a gfid no brick has.
	ix := index.OpenNS(v.Bricks[0].Root, v.Bricks[0].NS)
	if err := ix.Add(index.Xattrop, afr.GFID{0xde, 0xad, 15: 1}); err != nil {
		t.Fatal(err)
	}
	want := summary(t, v)
	if want[0] != [2]int{32, 1} || want[1] != [2]int{1, 1} {
		t.Fatalf("the volume is not what the test wants: heal info summary %v", want)
	}
	cache := heal.NewStatusCache()
	b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := counts(b)
	for i := range want {
		if got[i] != [3]int{want[i][0], want[i][1], 0} {
			t.Errorf("brick %d: backlog (listed, split-brain, unclassified) %v, heal info summary %v", i, got[i], want[i])
		}
	}
	if b.Bricks[0].Indexed != 33 || b.Left() != 33 || b.Down() != 0 {
		t.Errorf("indexed %d, left %d, down %d: want the stale entry indexed but not left (33 = 32 + 1 on b1)", b.Bricks[0].Indexed, b.Left(), b.Down())
	}
}

func TestBacklogClassifiesWithinItsBudgetAndGoesOnNextTime(t *testing.T) {
	v := backlogVol(t, 40)
	want := summary(t, v)
	// A clock that moves 1 ms each time it is read: a budget of 10 ms
	// classifies a few entries per scan.
	now := time.Unix(1800000000, 0)
	clock := func() time.Time { now = now.Add(time.Millisecond); return now }
	cache := heal.NewStatusCache()
	opts := heal.BacklogOptions{Budget: 10 * time.Millisecond, Now: clock, Workers: 1}
	var scans int
	var last [3]int
	for scans = 1; scans < 100; scans++ {
		b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, opts)
		if err != nil {
			t.Fatal(err)
		}
		c := counts(b)[0]
		if scans == 1 && c[2] == 0 {
			t.Fatalf("the first scan classified all %d entries in a 10 ms budget", c[0])
		}
		if c[0]+c[2] != want[0][0] {
			t.Fatalf("scan %d: %d listed + %d unclassified, want %d entries", scans, c[0], c[2], want[0][0])
		}
		last = c
		if c[2] == 0 {
			break
		}
	}
	if last != [3]int{want[0][0], want[0][1], 0} || scans < 3 {
		t.Fatalf("after %d scans: %v, want %v classified over several scans", scans, last, want[0])
	}
}

func TestBacklogForgetsWhatWasHealed(t *testing.T) {
	v := backlogVol(t, 10)
	cache := heal.NewStatusCache()
	if _, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, heal.BacklogOptions{}); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 12 {
		t.Fatalf("cache holds %d entries, want 12", cache.Len())
	}
	runHeal(t, v, false, heal.EngineOptions{})
	b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, sb, u := b.Sum(); p != 0 || sb != 2 || u != 0 || cache.Len() != 1 {
		t.Fatalf("after the heal: %d pending, %d split-brain, %d unclassified, %d cached; want only the split-brain (on both bricks)", p, sb, u, cache.Len())
	}
}

func TestBacklogRefreshesOldStatuses(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-data", 2)
	now := time.Unix(1800000000, 0)
	opts := heal.BacklogOptions{Refresh: time.Minute, Now: func() time.Time { return now }}
	cache := heal.NewStatusCache()
	scan := func() [3]int {
		b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, opts)
		if err != nil {
			t.Fatal(err)
		}
		return counts(b)[0]
	}
	if got := scan(); got != [3]int{1, 0, 0} {
		t.Fatalf("pending data: %v", got)
	}
	// b0 is written while b1 is up and b0 down: now each blames the other.
	if err := v.Overwrite(fixtures.HelloPath, []byte("b1's\n"), 0); err != nil {
		t.Fatal(err)
	}
	if got := scan(); got != [3]int{1, 0, 0} {
		t.Fatalf("a status cached a moment ago is not read again: %v", got)
	}
	now = now.Add(time.Minute)
	if got := scan(); got != [3]int{1, 1, 0} {
		t.Fatalf("a status cached a minute ago is classified again: %v, want the split-brain", got)
	}
}

func TestBacklogOfABrickThatIsGone(t *testing.T) {
	v := backlogVol(t, 3)
	if err := os.Rename(v.Bricks[1].Root, v.Bricks[1].Root+".gone"); err != nil {
		t.Fatal(err)
	}
	b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), heal.NewStatusCache(), heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Down() != 1 || b.Bricks[1].Connected() || b.Bricks[1].Left() != 0 || !b.Bricks[0].Connected() || b.Bricks[0].Left() != 5 {
		t.Fatalf("bricks %+v, want b1 down and b0's 5 entries", b.Bricks)
	}
}

func TestStatusStateSurvivesAndATornOneStartsAfresh(t *testing.T) {
	v := backlogVol(t, 5)
	path := filepath.Join(t.TempDir(), "status", "fx")
	st, err := heal.LoadStatusState(path)
	if err != nil || st.Cache.Len() != 0 {
		t.Fatalf("no state yet: %v, %d cached", err, st.Cache.Len())
	}
	b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), st.Cache, heal.BacklogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Series.Add(b.Sample())
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := heal.LoadStatusState(path)
	if err != nil || again.Cache.Len() != 7 || len(again.Series.Samples()) != 1 {
		t.Fatalf("loaded %d cached, %d samples, %v; want 7 and 1", again.Cache.Len(), len(again.Series.Samples()), err)
	}
	b2, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), again.Cache, heal.BacklogOptions{Budget: time.Nanosecond})
	if err != nil || counts(b2)[0] != [3]int{7, 1, 0} {
		t.Fatalf("a scan with no budget from the saved cache: %v %v, want all 7 known", counts(b2), err)
	}
	data, err := os.ReadFile(path + ".cache")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".cache", data[:len(data)-7], 0o600); err != nil {
		t.Fatal(err)
	}
	torn, err := heal.LoadStatusState(path)
	if err == nil || torn.Cache.Len() != 0 || len(torn.Series.Samples()) != 1 {
		t.Fatalf("a torn cache: %v, %d cached; want an error and an empty cache, the samples kept", err, torn.Cache.Len())
	}
}

func TestBacklogClassifiesEvenWhenTheListingSpentTheBudget(t *testing.T) {
	v := backlogVol(t, 20)
	now := time.Unix(1800000000, 0)
	clock := func() time.Time { now = now.Add(time.Millisecond); return now }
	for _, tc := range []struct {
		min  time.Duration
		some bool
	}{{0, false}, {5 * time.Millisecond, true}} {
		cache := heal.NewStatusCache()
		opts := heal.BacklogOptions{Budget: time.Millisecond, MinClassify: tc.min, Now: clock, Workers: 1}
		if _, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), cache, opts); err != nil {
			t.Fatal(err)
		}
		if got := cache.Len() > 0; got != tc.some || cache.Len() == 22 {
			t.Errorf("MinClassify %v: %d of 22 entries classified", tc.min, cache.Len())
		}
	}
}

func TestBacklogForgetsWhatLeftWhileOthersAreRefreshed(t *testing.T) {
	v := backlogVol(t, 10)
	now := time.Unix(1800000000, 0)
	opts := heal.BacklogOptions{Refresh: time.Minute, Now: func() time.Time { return now }}
	cache := heal.NewStatusCache()
	scan := func() heal.Backlog {
		b, err := heal.ScanVolume(context.Background(), v.V, cache, opts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := scan(); cache.Len() != 12 || b.Left() != 13 {
		t.Fatalf("first scan: %d cached, %d left", cache.Len(), b.Left())
	}
	// Three entries leave b0's index, and every status the cache has is
	// a minute old: the scan classifies the rest again, and forgets the
	// three.
	rs := heal.ReplicaSets(v.V)[0]
	n := 0
	err := rs.Pending(0, func(sub index.Subdir, e index.Entry) error {
		if n < 3 && e.Err == nil && sub == index.Xattrop {
			if p := rs.PathOf(e.GFID); strings.HasPrefix(p, "/p0") {
				n++
				return v.Indexes[0].Remove(sub, e.GFID)
			}
		}
		return nil
	})
	rs.Close()
	if err != nil || n != 3 {
		t.Fatalf("removed %d index entries: %v", n, err)
	}
	now = now.Add(time.Minute)
	if b := scan(); cache.Len() != 9 || b.Left() != 10 {
		t.Fatalf("after three entries left: %d cached, %d left; want 9 and 10", cache.Len(), b.Left())
	}
}

// TestBacklogCountsWhatEachEntryWaitsFor: a brick's pending entries are
// counted by kind, with the bytes their data heals copy, and a state
// saved and loaded keeps both.
func TestBacklogCountsWhatEachEntryWaitsFor(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/dir"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/data", "/meta", "/dir/gone"} {
		if err := v.WriteFile(p, []byte("ten bytes\n")); err != nil {
			t.Fatal(err)
		}
	}
	// b1 misses a write that makes /data 5000 bytes, a chmod of /meta
	// and the removal of /dir/gone.
	if err := v.Overwrite("/data", []byte(strings.Repeat("x", 5000)), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Chmod("/meta", 0o600, 1); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("/dir/gone", 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "status", "fx")
	st, err := heal.LoadStatusState(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, opts heal.BacklogOptions) {
		t.Helper()
		b, err := heal.ScanBacklog(context.Background(), heal.ReplicaSets(v.V), st.Cache, opts)
		if err != nil {
			t.Fatal(err)
		}
		b0 := b.Bricks[0]
		if b0.Pending != 3 || b0.Kinds != [3]int{1, 1, 1} || b0.Bytes != 5000 || b0.Unclassified != 0 {
			t.Errorf("%s: b0 has %d pending, by kind (data, metadata, entry) %v, %d bytes, %d unclassified; want 3, [1 1 1], 5000, 0",
				when, b0.Pending, b0.Kinds, b0.Bytes, b0.Unclassified)
		}
	}
	check("classified", heal.BacklogOptions{})
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, err = heal.LoadStatusState(path); err != nil {
		t.Fatal(err)
	}
	check("from the saved state", heal.BacklogOptions{Budget: time.Nanosecond})
}
