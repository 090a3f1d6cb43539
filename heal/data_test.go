package heal_test

import (
	"bytes"
	"os"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

// blocksOf is the space a file takes on disk.
func blocksOf(t *testing.T, p string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// TestDiffHealWritesOnlyChangedBlocks: one changed block of a 6-block file
// costs one block of writes with diff, and all of them with full.
func TestDiffHealWritesOnlyChangedBlocks(t *testing.T) {
	const bs = 1 << 20
	old := bytes.Repeat([]byte("abcdefgh"), 6*bs/8)
	changed := append([]byte(nil), old...)
	copy(changed[3*bs+100:], "a few bytes changed in the fourth block")
	for _, tc := range []struct {
		algo string
		want int64
	}{{heal.AlgorithmDiff, bs}, {heal.AlgorithmFull, 6 * bs}} {
		t.Run(tc.algo, func(t *testing.T) {
			v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.WriteFile("/big", old); err != nil {
				t.Fatal(err)
			}
			if err := v.Overwrite("/big", changed, 1); err != nil {
				t.Fatal(err)
			}
			res := runHeal(t, v, false, heal.EngineOptions{Algorithm: tc.algo})
			if res.Bytes != tc.want {
				t.Errorf("%s heal wrote %d bytes, want %d", tc.algo, res.Bytes, tc.want)
			}
			assertConverged(t, v)
		})
	}
}

// TestSparseStaysSparse: a source with a 7 MiB hole heals into a sink with
// the same hole, with either algorithm, including over an old sink whose
// data lies where the hole now is.
func TestSparseStaysSparse(t *testing.T) {
	for _, algo := range []string{heal.AlgorithmFull, heal.AlgorithmDiff} {
		t.Run(algo, func(t *testing.T) {
			v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.WriteFile("/sparse", bytes.Repeat([]byte{1}, 8<<20)); err != nil {
				t.Fatal(err)
			}
			// b0 punches everything but the last MiB into a hole.
			src, _ := v.Bricks[0].Abs("/sparse")
			makeSparse(t, src)
			if blocksOf(t, src) > 2<<20 {
				t.Skip("this filesystem does not keep holes")
			}
			if err := v.Overwrite("/sparse", mustRead(t, src), 1); err != nil {
				t.Fatal(err)
			}
			// Overwrite rewrote b0 in full; make it sparse again.
			makeSparse(t, src)
			runHeal(t, v, false, heal.EngineOptions{Algorithm: algo})
			assertConverged(t, v)
			sink, _ := v.Bricks[1].Abs("/sparse")
			if got := blocksOf(t, sink); got > 2<<20 {
				t.Errorf("the sink takes %d bytes on disk; the source's hole was filled", got)
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDiffHealGrownFile: a file grown on the source by two blocks, with
// one of its old blocks changed, costs that block and the two new ones:
// past the sink's old end there is nothing to compare, and the copy
// (copy_file_range) still counts every byte it writes.
func TestDiffHealGrownFile(t *testing.T) {
	const bs = 1 << 20
	old := bytes.Repeat([]byte("abcdefgh"), 2*bs/8)
	grown := append(append([]byte(nil), old...), bytes.Repeat([]byte("ijklmnop"), 2*bs/8)...)
	copy(grown[100:], "changed in the first block")
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/grown", old); err != nil {
		t.Fatal(err)
	}
	if err := v.Overwrite("/grown", grown, 1); err != nil {
		t.Fatal(err)
	}
	res := runHeal(t, v, false, heal.EngineOptions{})
	if want := int64(3 * bs); res.Bytes != want {
		t.Errorf("diff heal wrote %d bytes, want %d", res.Bytes, want)
	}
	assertConverged(t, v)
	sink, _ := v.Bricks[1].Abs("/grown")
	if got := mustRead(t, sink); !bytes.Equal(got, grown) {
		t.Errorf("the sink has %d bytes unlike the source's %d", len(got), len(grown))
	}
}

// makeSparse rewrites the 8 MiB file at p as a 7 MiB hole followed by
// one MiB of data.
func makeSparse(t *testing.T, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{2}, 1<<20), 7<<20); err != nil {
		t.Fatal(err)
	}
}

// TestNewSparseFile: a sparse file missed by a brick is created there by
// entry heal and filled by data heal with its data only: the hole stays a
// hole, and only the data counts as written.
func TestNewSparseFile(t *testing.T) {
	v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("/sparse", bytes.Repeat([]byte{1}, 8<<20), 1); err != nil {
		t.Fatal(err)
	}
	src, _ := v.Bricks[0].Abs("/sparse")
	makeSparse(t, src)
	if blocksOf(t, src) > 2<<20 {
		t.Skip("this filesystem does not keep holes")
	}
	res := runHeal(t, v, false, heal.EngineOptions{})
	if res.Bytes != 1<<20 {
		t.Errorf("heal wrote %d bytes, want %d (the data, not the hole)", res.Bytes, 1<<20)
	}
	assertConverged(t, v)
	sink, _ := v.Bricks[1].Abs("/sparse")
	if got := blocksOf(t, sink); got > 2<<20 {
		t.Errorf("the sink takes %d bytes on disk; the source's hole was filled", got)
	}
}
