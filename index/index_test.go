package index

import (
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
)

func newIndex(t *testing.T) *Index {
	t.Helper()
	ix := Open(t.TempDir())
	if err := os.MkdirAll(filepath.Dir(ix.Dir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := ix.Init(); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestAddWalkCountRemove(t *testing.T) {
	ix := newIndex(t)
	var want []string
	for i := 0; i < 10; i++ {
		g := brick.NewGFID()
		want = append(want, g.String())
		if err := ix.Add(Xattrop, g); err != nil {
			t.Fatal(err)
		}
		if err := ix.Add(Xattrop, g); err != nil { // idempotent
			t.Fatal(err)
		}
	}
	if n, err := ix.Count(Xattrop); err != nil || n != 10 {
		t.Fatalf("Count = %d, %v; want 10", n, err)
	}
	bases, err := ix.Bases(Xattrop)
	if err != nil || len(bases) != 1 {
		t.Fatalf("bases %v, %v; want exactly one xattrop-<uuid>", bases, err)
	}
	// Every entry is a hard link to the base: 10 entries + the base itself.
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(ix.Dir, "xattrop", bases[0]), &st); err != nil || st.Nlink != 11 {
		t.Fatalf("base nlink = %d, %v; want 11", st.Nlink, err)
	}
	var got []string
	if err := ix.Walk(Xattrop, func(e Entry) error {
		if e.Err != nil {
			t.Errorf("entry %s: %v", e.Name, e.Err)
		}
		got = append(got, e.GFID.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("walk got %d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("walk got %v, want %v", got, want)
		}
	}
	g, _ := brick.ParseGFID(want[0])
	if err := ix.Remove(Xattrop, g); err != nil {
		t.Fatal(err)
	}
	if err := ix.Remove(Xattrop, g); err != nil {
		t.Fatalf("removing an absent entry: %v", err)
	}
	if has, _ := ix.Has(Xattrop, g); has {
		t.Fatal("entry still there after Remove")
	}
	if n, _ := ix.Count(Xattrop); n != 9 {
		t.Fatalf("Count after remove = %d, want 9", n)
	}
	if n, _ := ix.Count(Dirty); n != 0 {
		t.Fatalf("dirty Count = %d, want 0", n)
	}
}

func TestWalkReportsForeignNames(t *testing.T) {
	ix := newIndex(t)
	if err := os.WriteFile(filepath.Join(ix.Dir, "dirty", "not-a-gfid"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var errs int
	if err := ix.Walk(Dirty, func(e Entry) error {
		if e.Err != nil {
			errs++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if errs != 1 {
		t.Fatalf("foreign name reported %d times, want 1", errs)
	}
}

func TestEntryChanges(t *testing.T) {
	ix := newIndex(t)
	pg := brick.NewGFID()
	for _, n := range []string{"a", "b"} {
		if err := ix.AddEntryChange(pg, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.AddEntryChange(pg, "../escape"); err == nil {
		t.Fatal("a name with a slash was accepted")
	}
	seen := map[string]afr.GFID{}
	if err := ix.WalkEntryChanges(func(p afr.GFID, name string, err error) error {
		if err != nil {
			t.Error(err)
		}
		seen[name] = p
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen["a"] != pg || seen["b"] != pg {
		t.Fatalf("entry changes %v", seen)
	}
	for _, n := range []string{"a", "b"} {
		if err := ix.RemoveEntryChange(pg, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(ix.Dir, "entry-changes", pg.String())); !os.IsNotExist(err) {
		t.Fatalf("parent's entry-changes directory left behind: %v", err)
	}
}

func BenchmarkWalk100k(b *testing.B) {
	ix := Open(b.TempDir())
	if err := os.MkdirAll(filepath.Dir(ix.Dir), 0o700); err != nil {
		b.Fatal(err)
	}
	if err := ix.Init(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100_000; i++ {
		if err := ix.Add(Xattrop, brick.NewGFID()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ix.Walk(Xattrop, func(Entry) error { n++; return nil }); err != nil || n != 100_000 {
			b.Fatalf("walked %d, %v", n, err)
		}
	}
}
