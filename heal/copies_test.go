package heal_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeebo/blake3"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// The copies of fixtures.HelloPath in the data-split-brain state.
var splitBrainCopies = []string{
	"written while b1 was down\n",
	"written while b0 was down, and longer\n",
}

func explainOne(t *testing.T, v *fixtures.Vol, target heal.Target) heal.Explanation {
	t.Helper()
	exs, err := heal.Explain(v.V, target, heal.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1 {
		t.Fatalf("explained in %d replica sets, want 1", len(exs))
	}
	return exs[0]
}

func b3sum(data []byte) string {
	sum := blake3.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestReadCopiesDataSplitBrain(t *testing.T) {
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	g, err := v.Bricks[0].GFIDOf(fixtures.HelloPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []heal.Target{{Path: fixtures.HelloPath}, {GFID: g}} {
		t.Run(target.String(), func(t *testing.T) {
			copies := heal.ReadCopies(v.V, explainOne(t, v, target), heal.CopyOptions{Hash: true})
			if len(copies) != 2 {
				t.Fatalf("%d copies, want 2", len(copies))
			}
			for i, c := range copies {
				want := splitBrainCopies[i]
				if c.Err != nil {
					t.Fatalf("%s: %v", c.Label, c.Err)
				}
				if c.Label != v.V.BrickLabels()[i] || !c.Exists || c.Type != afr.TypeRegular {
					t.Errorf("copy %d: label %q, exists %v, type %v; want %q, a regular file", i, c.Label, c.Exists, c.Type, v.V.BrickLabels()[i])
				}
				if string(c.Data) != want || c.Size != int64(len(want)) || c.Truncated {
					t.Errorf("%s: data %q (size %d, truncated %v), want %q whole", c.Label, c.Data, c.Size, c.Truncated, want)
				}
				if c.Hash != b3sum([]byte(want)) {
					t.Errorf("%s: hash %s, want the blake3 of its content %s", c.Label, c.Hash, b3sum([]byte(want)))
				}
			}
		})
	}
}

func TestReadCopiesLimit(t *testing.T) {
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	ex := explainOne(t, v, heal.Target{Path: fixtures.HelloPath})
	const limit = 26 // b0's copy exactly; b1's is longer
	copies := heal.ReadCopies(v.V, ex, heal.CopyOptions{Limit: limit})
	if c := copies[0]; string(c.Data) != splitBrainCopies[0] || c.Truncated {
		t.Errorf("b0 (%d bytes, the limit): data %q, truncated %v; want it whole", len(splitBrainCopies[0]), c.Data, c.Truncated)
	}
	c := copies[1]
	if string(c.Data) != splitBrainCopies[1][:limit] || !c.Truncated || c.Size != int64(len(splitBrainCopies[1])) {
		t.Errorf("b1: data %q, truncated %v, size %d; want its first %d bytes, truncated, size %d",
			c.Data, c.Truncated, c.Size, limit, len(splitBrainCopies[1]))
	}
	if c.Hash != "" {
		t.Errorf("b1: hash %q though none was asked for", c.Hash)
	}
	// The hash is of the whole file, however little is read.
	copies = heal.ReadCopies(v.V, ex, heal.CopyOptions{Limit: 4, Hash: true})
	if got, want := copies[1].Hash, b3sum([]byte(splitBrainCopies[1])); got != want {
		t.Errorf("b1 read 4 bytes at a time: hash %s, want the whole file's %s", got, want)
	}
}

// TestReadCopiesDoesNotFollowSymlink plants, on b1, a symlink in place of
// the file, pointing at a secret outside the brick, as a client could:
// ReadCopies reports the symlink and its target, and reads nothing of
// the secret. The explanation is taken before the symlink is planted
// (its reply says "regular file") and after.
func TestReadCopiesDoesNotFollowSymlink(t *testing.T) {
	for _, when := range []string{"before", "after"} {
		t.Run("explained "+when, func(t *testing.T) {
			v := fixtures.MustBuild(t, "data-split-brain", 2)
			secretText := "TOP SECRET: the root password is hunter2\n"
			secret := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(secret, []byte(secretText), 0o600); err != nil {
				t.Fatal(err)
			}
			var ex heal.Explanation
			if when == "before" {
				ex = explainOne(t, v, heal.Target{Path: fixtures.HelloPath})
			}
			abs := filepath.Join(v.V.Bricks[1].Path, fixtures.HelloPath)
			if err := os.Remove(abs); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(secret, abs); err != nil {
				t.Fatal(err)
			}
			if when == "after" {
				ex = explainOne(t, v, heal.Target{Path: fixtures.HelloPath})
			}
			copies := heal.ReadCopies(v.V, ex, heal.CopyOptions{Hash: true})
			c := copies[1]
			if c.Err != nil || !c.Exists || c.Type != afr.TypeSymlink || c.Target != secret {
				t.Errorf("b1: exists %v, type %v, target %q, err %v; want a symlink to %s", c.Exists, c.Type, c.Target, c.Err, secret)
			}
			if c.Data != nil || c.Size != 0 || c.Hash != "" {
				t.Errorf("b1: a symlink's copy read: data %q, size %d, hash %q", c.Data, c.Size, c.Hash)
			}
			for _, c := range copies {
				if bytes.Contains(c.Data, []byte("SECRET")) || c.Hash == b3sum([]byte(secretText)) ||
					c.Err != nil && strings.Contains(c.Err.Error(), "SECRET") {
					t.Errorf("%s: the secret behind the symlink was read: %+v", c.Label, c)
				}
			}
			if string(copies[0].Data) != splitBrainCopies[0] {
				t.Errorf("b0: data %q, want %q", copies[0].Data, splitBrainCopies[0])
			}
		})
	}
}

func TestReadCopiesDirectoryAndMissing(t *testing.T) {
	v := fixtures.MustBuild(t, "pending-entry", 2) // /docs/new.txt only on b0
	copies := heal.ReadCopies(v.V, explainOne(t, v, heal.Target{Path: "/docs/new.txt"}), heal.CopyOptions{Hash: true})
	if c := copies[0]; c.Err != nil || !c.Exists || string(c.Data) != "made while b1 was down\n" {
		t.Errorf("b0: %+v, want its copy", c)
	}
	if c := copies[1]; c.Err != nil || c.Exists || c.Data != nil {
		t.Errorf("b1: %+v, want no copy and no error", c)
	}
	copies = heal.ReadCopies(v.V, explainOne(t, v, heal.Target{Path: fixtures.DocsPath}), heal.CopyOptions{Hash: true})
	for _, c := range copies {
		if c.Err != nil || !c.Exists || c.Type != afr.TypeDirectory || c.Data != nil || c.Hash != "" || c.Size != 0 {
			t.Errorf("%s: %+v, want a directory, unread", c.Label, c)
		}
	}
}

// TestReadCopiesBrickGone: a brick that cannot be opened is an error on
// its copy alone.
func TestReadCopiesBrickGone(t *testing.T) {
	v := fixtures.MustBuild(t, "data-split-brain", 2)
	ex := explainOne(t, v, heal.Target{Path: fixtures.HelloPath})
	root := v.V.Bricks[1].Path
	if err := os.Rename(root, root+".gone"); err != nil {
		t.Fatal(err)
	}
	copies := heal.ReadCopies(v.V, ex, heal.CopyOptions{})
	if copies[1].Err == nil || copies[1].Data != nil {
		t.Errorf("b1 (gone): %+v, want an error", copies[1])
	}
	if copies[0].Err != nil || string(copies[0].Data) != splitBrainCopies[0] {
		t.Errorf("b0: %+v, want its copy", copies[0])
	}
}

// TestReadCopiesDoesNotFollowSymlinkedParent: a client's symlink in place
// of a directory on the way is refused, not followed to the file of the
// same name at its target.
func TestReadCopiesDoesNotFollowSymlinkedParent(t *testing.T) {
	v := fixtures.MustBuild(t, "healthy", 2)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "readme.md"), []byte("SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ex := explainOne(t, v, heal.Target{Path: fixtures.ReadmePath})
	docs := filepath.Join(v.V.Bricks[1].Path, fixtures.DocsPath)
	if err := os.RemoveAll(docs); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, docs); err != nil {
		t.Fatal(err)
	}
	copies := heal.ReadCopies(v.V, ex, heal.CopyOptions{Hash: true})
	if c := copies[1]; c.Err == nil || c.Data != nil || c.Hash != "" {
		t.Errorf("b1, through a symlinked /docs: %+v, want an error and nothing read", c)
	}
	if c := copies[0]; c.Err != nil || string(c.Data) != "# docs\n" {
		t.Errorf("b0: %+v, want its copy", c)
	}
}

// TestReadCopiesGFIDSplitBrain: named by path, the entry's copies are
// what each brick holds under the name, whatever their gfids; named by
// one brick's gfid, they are that gfid's copies only, as the
// explanation's replies are.
func TestReadCopiesGFIDSplitBrain(t *testing.T) {
	v := fixtures.MustBuild(t, "gfid-mismatch", 2) // /same.txt made on each brick while the other was down
	copies := heal.ReadCopies(v.V, explainOne(t, v, heal.Target{Path: "/same.txt"}), heal.CopyOptions{})
	for i, want := range []string{"b0's\n", "b1's\n"} {
		if c := copies[i]; c.Err != nil || string(c.Data) != want {
			t.Errorf("by path, %s: %+v, want %q", c.Label, c, want)
		}
	}
	g, err := v.Bricks[0].GFIDOf("/same.txt")
	if err != nil {
		t.Fatal(err)
	}
	copies = heal.ReadCopies(v.V, explainOne(t, v, heal.Target{GFID: g}), heal.CopyOptions{})
	if c := copies[0]; c.Err != nil || string(c.Data) != "b0's\n" {
		t.Errorf("by b0's gfid, b0: %+v, want its copy", c)
	}
	if c := copies[1]; c.Err != nil || c.Exists || c.Data != nil {
		t.Errorf("by b0's gfid, b1: %+v, want no copy (b1's /same.txt has another gfid)", c)
	}
}
