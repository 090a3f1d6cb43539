package brick

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

func hashOf(t *testing.T, b *Brick, name string, write func(f *os.File)) string {
	t.Helper()
	abs := filepath.Join(b.Root, name)
	f, err := os.Create(abs)
	if err != nil {
		t.Fatal(err)
	}
	write(f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := b.HashFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestHashFile: content without zero blocks is named as b3sum names it;
// content with them by a stream in which holes are never read, the same
// whether the zeros are holes or written out, and different for any other
// content. A sparse terabyte once took many minutes to hash.
func TestHashFile(t *testing.T) {
	b, err := Open(t.TempDir(), DefaultNS())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("afrkit "), 50000) // 350 KB, no zero block
	write := func(p []byte, at int64) func(f *os.File) {
		return func(f *os.File) {
			if _, err := f.WriteAt(p, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	plain := blake3.Sum256(data)
	if got := hashOf(t, b, "plain", write(data, 0)); got != hex.EncodeToString(plain[:]) {
		t.Errorf("a file without zero blocks: %s, want b3sum's %x", got, plain)
	}
	small := []byte("tiny\n")
	tiny := blake3.Sum256(small)
	if got := hashOf(t, b, "tiny", write(small, 0)); got != hex.EncodeToString(tiny[:]) {
		t.Errorf("a small file: %s, want %x", got, tiny)
	}
	if got := hashOf(t, b, "empty", func(*os.File) {}); got != hex.EncodeToString(blake3.New().Sum(nil)) {
		t.Errorf("an empty file: %s", got)
	}

	// data, a 1 MiB hole, data: as a hole and as written zeros.
	n := int64(len(data))
	withHole := func(f *os.File) {
		write(data, 0)(f)
		write(data, n+1<<20)(f)
	}
	withZeros := func(f *os.File) {
		write(data, 0)(f)
		write(make([]byte, 1<<20), n)(f)
		write(data, n+1<<20)(f)
	}
	h1, h2 := hashOf(t, b, "hole", withHole), hashOf(t, b, "zeros", withZeros)
	if !strings.HasPrefix(h1, SparsePrefix) || h1 != h2 {
		t.Errorf("the same content with a hole and with written zeros: %s and %s", h1, h2)
	}
	others := map[string]func(f *os.File){
		"longer hole":  func(f *os.File) { write(data, 0)(f); write(data, n+2<<20)(f) },
		"tail changed": func(f *os.File) { withHole(f); write([]byte{'!'}, 2*n+1<<20-1)(f) },
		"zero at end":  func(f *os.File) { withHole(f); write([]byte{0}, 2*n+1<<20)(f) },
		"hole at end": func(f *os.File) {
			withHole(f)
			if err := f.Truncate(2*n + 2<<20); err != nil {
				t.Fatal(err)
			}
		},
	}
	seen := map[string]string{h1: "hole"}
	for name, fn := range others {
		h := hashOf(t, b, strings.ReplaceAll(name, " ", "-"), fn)
		if prev, ok := seen[h]; ok {
			t.Errorf("%q and %q have one name %s", name, prev, h)
		}
		seen[h] = name
	}

	// A sparse terabyte with a little data: hashed without reading its
	// holes (the test would time out otherwise).
	tb := func(f *os.File) {
		write(data, 1<<39)(f)
		if err := f.Truncate(1 << 40); err != nil {
			t.Fatal(err)
		}
	}
	if h1, h2 := hashOf(t, b, "tb1", tb), hashOf(t, b, "tb2", tb); h1 != h2 || !strings.HasPrefix(h1, SparsePrefix) {
		t.Errorf("two equal sparse terabytes: %s and %s", h1, h2)
	}
}

// TestHashReaderAtNamesAsHashFile: content read where holes cannot be
// seen (over the network) gets the name HashFile gives it on a disk.
func TestHashReaderAtNamesAsHashFile(t *testing.T) {
	b, err := Open(t.TempDir(), DefaultNS())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("afrkit "), 50000)
	for name, at := range map[string][]int64{"plain": {0}, "hole": {0, int64(len(data)) + 1<<20}, "tail hole": {1 << 21}} {
		h := hashOf(t, b, strings.ReplaceAll(name, " ", "-"), func(f *os.File) {
			for _, o := range at {
				if _, err := f.WriteAt(data, o); err != nil {
					t.Fatal(err)
				}
			}
		})
		content, err := os.ReadFile(filepath.Join(b.Root, strings.ReplaceAll(name, " ", "-")))
		if err != nil {
			t.Fatal(err)
		}
		got, err := HashReaderAt(bytes.NewReader(content), int64(len(content)))
		if err != nil || got != h {
			t.Errorf("%s: HashReaderAt %s, %v; HashFile %s", name, got, err, h)
		}
	}
}

func TestShortHash(t *testing.T) {
	sum := strings.Repeat("0123456789abcdef", 4)
	for in, want := range map[string]string{
		sum:                 sum[:16],
		SparsePrefix + sum:  SparsePrefix + sum[:16],
		"unreadable: EIO":   "unreadable: EIO",
		"abc":               "abc",
		SparsePrefix + "xy": SparsePrefix + "xy",
	} {
		if got := ShortHash(in); got != want {
			t.Errorf("ShortHash(%q) = %q, want %q", in, got, want)
		}
	}
}
