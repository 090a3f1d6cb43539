package mount_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
)

// TestListingNeverShowsAStaleCopy: a readdirplus answers every entry's
// attributes from the one copy it lists, but only where no copy can be
// stale. Here the first copy, which lists the directory, missed a write
// and a chmod (the others blame it): what a listing shows of the file
// (ls -l) is what the file is.
func TestListingNeverShowsAStaleCopy(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "stale", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/d/f", []byte("old")); err != nil {
		t.Fatal(err)
	}
	content := []byte("what was written while brick 0 was down")
	if err := v.Overwrite("/d/f", content, 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Chmod("/d/f", 0o600, 0); err != nil {
		t.Fatal(err)
	}
	v.Close()
	dir, _ := serve(t, v, make(events, 16))

	// The names, then each one's attributes: the kernel answers the
	// lstat from what the readdirplus told it.
	ents, err := os.ReadDir(filepath.Join(dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "f" {
		t.Fatalf("listing of /d: %v, want f alone", ents)
	}
	fi, err := os.Lstat(filepath.Join(dir, "d", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(content)) || fi.Mode().Perm() != 0o600 {
		t.Errorf("listed /d/f: size %d mode %v, want size %d mode -rw------- (brick 0's stale copy answered)", fi.Size(), fi.Mode().Perm(), len(content))
	}
}
