package compare

import (
	"context"
	"os"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// TestVolumeReadsWhatAFRReads: a replicated volume is compared by the
// copies AFR would read. A file rewritten while b0 was down (b1 blames
// b0, whose copy is stale) compares equal to the new content, not to
// b0's; a file in data split-brain is unreadable, not a difference.
func TestVolumeReadsWhatAFRReads(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: trusted.* xattrs")
	}
	dir := t.TempDir()
	v, err := fixtures.New(dir, "cv", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.Mkdir("/d"))
	must(v.WriteFile("/d/stale", []byte("old, on both\n")))
	must(v.Overwrite("/d/stale", []byte("new, only on b1\n"), 0))
	must(v.WriteFile("/d/sb", []byte("both\n")))
	must(v.Overwrite("/d/sb", []byte("b1's\n"), 0))
	must(v.Overwrite("/d/sb", []byte("b0's!\n"), 1))

	other := tree(t, map[string]string{"d/stale": "new, only on b1\n", "d/sb": "b1's\n"})
	o, err := OpenDir(other)
	must(err)
	defer o.Close()
	vt := OpenVolume(v.V, heal.OpenOptions{})
	defer vt.Close()
	rep, err := Compare(context.Background(), vt, o, Options{})
	must(err)
	got := lines(rep)
	want := "unreadable /d/sb: master: /d/sb: no copy of it can be read\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n, err := vt.Count(context.Background()); err != nil || n != 2 {
		t.Errorf("Count: %d, %v; want 2", n, err)
	}
}
