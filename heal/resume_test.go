package heal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/xattr"
	"golang.org/x/sys/unix"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
)

const mib = 1 << 20

// noise is n bytes no block of which is all zeros or like another.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// stopHeal heals v with opts until stop, told each step before it is
// taken (one at a time), says to stop; the heal ends there as at a signal.
func stopHeal(tb testing.TB, v *fixtures.Vol, opts heal.EngineOptions, stop func(step string) bool) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	opts.Step = func(what string) {
		mu.Lock()
		defer mu.Unlock()
		if stop(what) {
			cancel()
		}
	}
	if _, err := newEngine(tb, v, opts).Heal(ctx, false); !errors.Is(err, context.Canceled) {
		tb.Fatalf("the heal: %v, want it cancelled", err)
	}
}

// stopAfterMarks heals v until the data heal of p has made its marks'th
// resume mark, and stops it there as a signal would.
func stopAfterMarks(t testing.TB, v *fixtures.Vol, algo, p string, marks int) {
	t.Helper()
	seen := 0
	stopHeal(t, v, heal.EngineOptions{Jobs: 1, Algorithm: algo}, func(what string) bool {
		if what == "mark resume "+p {
			seen++
			return false
		}
		return seen >= marks
	})
	if seen != marks {
		t.Fatalf("%d marks made, want %d", seen, marks)
	}
}

// resumeMark is the mark on the copy of p on brick i, "" for none.
func resumeMark(t *testing.T, v *fixtures.Vol, i int, p string) string {
	t.Helper()
	abs, err := v.Bricks[i].Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := xattr.LGet(abs, "trusted.afrkit.heal-resume")
	if errors.Is(err, xattr.ENOATTR) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(m)
}

// dataDetail is the detail of the data heal of p that res reports.
func dataDetail(t *testing.T, res *heal.Result, p string) string {
	t.Helper()
	for _, a := range res.Actions {
		if a.What == "data" && a.Path == p {
			return a.Detail
		}
	}
	t.Fatalf("no data heal of %s in %+v", p, res.Actions)
	return ""
}

// TestDataHealResumesAtItsLastMark: a 160 MiB file's data heal stopped
// after its second mark goes on from 128 MiB the next time, writes only
// the rest, and leaves the copies equal and unmarked.
func TestDataHealResumesAtItsLastMark(t *testing.T) {
	const size = 160 * mib
	// A hole beyond the mark (punched in the source below): a full copy
	// skips it, over a sink whose old data is there.
	withHole := noise(1, size)
	clear(withHole[140*mib : 141*mib])
	for _, tc := range []struct {
		name string
		// algo is the stopped heal's, then (algo2, when set) the next's.
		algo, algo2 string
		// old is what the sink held before it missed the write.
		old, data []byte
	}{
		{"full", heal.AlgorithmFull, "", nil, noise(1, size)},
		{"diff", heal.AlgorithmDiff, "", noise(2, size), noise(1, size)},
		{"diff then full", heal.AlgorithmDiff, heal.AlgorithmFull, noise(2, size), withHole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			if tc.old != nil {
				if err := v.WriteFile("/img", tc.old); err != nil {
					t.Fatal(err)
				}
				if err := v.Overwrite("/img", tc.data, 1); err != nil {
					t.Fatal(err)
				}
			} else if err := v.WriteFile("/img", tc.data, 1); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(tc.data, withHole) {
				punchHole(t, v, 0, "/img", 140*mib, mib)
			}
			stopAfterMarks(t, v, tc.algo, "/img", 2)
			if m := resumeMark(t, v, 1, "/img"); !strings.Contains(m, fmt.Sprintf(" off=%d ", 128*mib)) {
				t.Fatalf("b1's mark after the stop: %q, want one at 128 MiB", m)
			}
			algo2 := tc.algo
			if tc.algo2 != "" {
				algo2 = tc.algo2
			}
			res := runHeal(t, v, false, heal.EngineOptions{Jobs: 1, Algorithm: algo2})
			if d := dataDetail(t, res, "/img"); !strings.HasSuffix(d, fmt.Sprintf(", resumed at %d", 128*mib)) {
				t.Errorf("the second heal: %q, want it resumed at 128 MiB", d)
			}
			// The block after the mark was written before the stop (diff
			// finds it right), and a hole is punched, not written.
			if res.Bytes > size-128*mib || res.Bytes < size-130*mib {
				t.Errorf("the second heal wrote %d bytes, want the %d after the mark (less a block, and a hole)", res.Bytes, size-128*mib)
			}
			assertConverged(t, v)
			b1, _ := v.Bricks[1].Abs("/img")
			if !bytes.Equal(mustRead(t, b1), tc.data) {
				t.Error("b1 does not hold what was written")
			}
			if m := resumeMark(t, v, 1, "/img"); m != "" {
				t.Errorf("b1 still marked after the heal: %q", m)
			}
		})
	}
}

// TestDataHealStartsOverWhenTheMarkNoLongerHolds: a mark is not trusted
// once the source changed, or once a split-brain resolution chose a source
// over bytes only the sink held: the heal reads from zero and the copies
// end equal.
func TestDataHealStartsOverWhenTheMarkNoLongerHolds(t *testing.T) {
	const size = 96 * mib
	for _, tc := range []struct {
		name string
		// change happens between the stopped heal and the next.
		change func(t *testing.T, v *fixtures.Vol)
	}{
		{"the source written", func(t *testing.T, v *fixtures.Vol) {
			// Both bricks take the write: b1's first block is right, but
			// b0's ctime moved.
			data := noise(1, size)
			copy(data, "rewritten")
			if err := v.Overwrite("/img", data); err != nil {
				t.Fatal(err)
			}
		}},
		{"a split-brain resolved for the source", func(t *testing.T, v *fixtures.Vol) {
			// b0 is down while a client writes a shorter file to b1
			// alone; the size policy then keeps b0's bigger one, and
			// b1's bytes below the mark are not b0's.
			if err := v.Overwrite("/img", noise(3, size/2), 0); err != nil {
				t.Fatal(err)
			}
			v.V.Options = map[string]string{"cluster.favorite-child-policy": "size"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := fixtures.Healthy(t.TempDir(), "fx", 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.WriteFile("/img", noise(1, size), 1); err != nil {
				t.Fatal(err)
			}
			stopAfterMarks(t, v, heal.AlgorithmFull, "/img", 1)
			if resumeMark(t, v, 1, "/img") == "" {
				t.Fatal("no mark on b1 after the stop")
			}
			tc.change(t, v)
			res := runHeal(t, v, false, heal.EngineOptions{Jobs: 1})
			if d := dataDetail(t, res, "/img"); strings.Contains(d, "resumed") {
				t.Errorf("the heal after %s: %q, want it from zero", tc.name, d)
			}
			assertConverged(t, v)
			b0, _ := v.Bricks[0].Abs("/img")
			b1, _ := v.Bricks[1].Abs("/img")
			if !bytes.Equal(mustRead(t, b0), mustRead(t, b1)) {
				t.Error("b0 and b1 differ after the heal")
			}
		})
	}
}

// punchHole makes [off, off+n) of brick i's copy of p a hole.
func punchHole(t *testing.T, v *fixtures.Vol, i int, p string, off, n int64) {
	t.Helper()
	abs, _ := v.Bricks[i].Abs(p)
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
		t.Skipf("this filesystem punches no holes: %v", err)
	}
}
