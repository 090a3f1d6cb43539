package lock

import (
	"bufio"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
)

func table(t *testing.T, path string) *Table {
	t.Helper()
	tb := NewTable(func() (*os.File, error) { return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) })
	t.Cleanup(tb.Close)
	return tb
}

func gfid(b byte) afr.GFID {
	var g afr.GFID
	g[15] = b
	return g
}

// conflicts reports whether a second owner is refused key b while a first
// holds key a.
func conflicts(t *testing.T, tb *Table, a, b Key) bool {
	t.Helper()
	o1, o2 := tb.Owner(), tb.Owner()
	defer o1.Release()
	defer o2.Release()
	if ok, err := o1.TryLock(a); err != nil || !ok {
		t.Fatalf("lock %s on a free table: %v %v", a, ok, err)
	}
	ok, err := o2.TryLock(b)
	if err != nil {
		t.Fatal(err)
	}
	return !ok
}

func TestWhichLocksConflict(t *testing.T) {
	tb := table(t, filepath.Join(t.TempDir(), "locks"))
	f, g := gfid(1), gfid(2)
	for _, c := range []struct {
		name string
		a, b Key
		want bool
	}{
		{"the same range", Range(Data, f, 0, 4096), Range(Data, f, 0, 4096), true},
		{"overlapping ranges", Range(Data, f, 0, 4096), Range(Data, f, 4095, 10), true},
		{"adjacent ranges", Range(Data, f, 0, 4096), Range(Data, f, 4096, 10), false},
		{"a range and the whole file", Range(Data, f, 1<<20, 10), Whole(Data, f), true},
		{"metadata and the whole file (an eager data lock)", Whole(Data, f), Metadata(f), true},
		{"metadata and a write's range", Range(Data, f, 0, 1<<30), Metadata(f), false},
		{"a range past the mapped space and the end of the file", Range(Data, f, 1<<50, 1), Range(Data, f, 1<<45, 0), true},
		{"the data and the self-heal domain", Whole(Data, f), Whole(SelfHeal, f), false},
		{"two files", Whole(Data, f), Whole(Data, g), false},
		{"a name and its directory", Name(Data, f, "a"), Dir(Data, f), true},
		{"the same name", Name(Data, f, "a"), Name(Data, f, "a"), true},
		{"two names", Name(Data, f, "a"), Name(Data, f, "b"), false},
		{"a name in two domains", Name(Data, f, "a"), Name(SelfHeal, f, "a"), false},
		{"a directory's names and its inode", Dir(Data, f), Whole(Data, f), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := conflicts(t, tb, c.a, c.b); got != c.want {
				t.Errorf("%s held, %s: conflict %v, want %v", c.a, c.b, got, c.want)
			}
			if got := conflicts(t, tb, c.b, c.a); got != c.want {
				t.Errorf("%s held, %s: conflict %v, want %v", c.b, c.a, got, c.want)
			}
		})
	}
}

// The mapping of ranges into the lock file keeps every overlap: two
// ranges of one file that overlap are never both granted.
func TestOverlappingRangesAlwaysConflict(t *testing.T) {
	tb := table(t, filepath.Join(t.TempDir(), "locks"))
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() (int64, int64) {
		scale := []int64{1 << 12, 1 << 30, 1 << 40, math.MaxInt64 / 2}[r.IntN(4)]
		start := r.Int64N(scale)
		n := int64(0)
		if r.IntN(4) > 0 {
			n = 1 + r.Int64N(scale)
		}
		return start, n
	}
	end := func(s, n int64) int64 {
		if n == 0 || s > math.MaxInt64-n {
			return math.MaxInt64
		}
		return s + n
	}
	for range 2000 {
		s1, n1 := pick()
		s2, n2 := pick()
		overlap := s1 < end(s2, n2) && s2 < end(s1, n1)
		if !overlap {
			continue
		}
		a, b := Range(Data, gfid(7), s1, n1), Range(Data, gfid(7), s2, n2)
		if !conflicts(t, tb, a, b) {
			t.Fatalf("%s and %s overlap, but both were granted", a, b)
		}
	}
}

func TestAnOwnersLocksNeverConflict(t *testing.T) {
	tb := table(t, filepath.Join(t.TempDir(), "locks"))
	o := tb.Owner()
	defer o.Release()
	g := gfid(3)
	if err := o.Lock(context.Background(), Whole(Data, g), Metadata(g), Dir(Data, g), Name(Data, g, "x")); err != nil {
		t.Fatalf("one owner's overlapping keys: %v", err)
	}
	o.Release()
	if ok, _ := tb.Owner().TryLock(Whole(Data, g)); !ok {
		t.Fatal("Release left a lock behind")
	}
}

func TestLockWaitsForTheHolder(t *testing.T) {
	tb := table(t, filepath.Join(t.TempDir(), "locks"))
	g := gfid(4)
	holder, waiter := tb.Owner(), tb.Owner()
	defer waiter.Release()
	if err := holder.Lock(context.Background(), Whole(Data, g)); err != nil {
		t.Fatal(err)
	}
	if holder.Contended(Whole(Data, g)) {
		t.Fatal("contended before anyone waits")
	}
	got := make(chan error, 1)
	go func() { got <- waiter.Lock(context.Background(), Range(Data, g, 10, 10)) }()
	deadline := time.Now().Add(10 * time.Second)
	for !holder.Contended(Whole(Data, g)) {
		if time.Now().After(deadline) {
			t.Fatal("the holder never learned that someone waits")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-got:
		t.Fatalf("the waiter got the lock while it was held: %v", err)
	default:
	}
	holder.Release()
	if err := <-got; err != nil {
		t.Fatalf("the waiter, after the release: %v", err)
	}
	if holder.Contended(Whole(Data, g)) {
		t.Fatal("still contended once the waiter has the lock")
	}
}

func TestLockGivesUpWhenTheContextEnds(t *testing.T) {
	tb := table(t, filepath.Join(t.TempDir(), "locks"))
	g := gfid(5)
	holder, waiter := tb.Owner(), tb.Owner()
	defer holder.Release()
	defer waiter.Release()
	if err := holder.Lock(context.Background(), Name(Data, g, "b")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := waiter.Lock(ctx, Whole(Data, g), Name(Data, g, "b"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held key: %v, want the context's deadline", err)
	}
	waiter.Release()
	if ok, _ := tb.Owner().TryLock(Whole(Data, g)); !ok {
		t.Fatal("Release after a failed Lock kept the key it had taken")
	}
}

const envHold = "AFRKIT_LOCK_TEST_HOLD"

// TestMain lets a test run this binary as a second process that holds a
// lock until its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv(envHold); path != "" {
		tb := NewTable(func() (*os.File, error) { return os.OpenFile(path, os.O_RDWR, 0) })
		o := tb.Owner()
		if err := o.Lock(context.Background(), Whole(Data, gfid(6))); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLocksConflictAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks")
	tb := table(t, path)
	o := tb.Owner()
	if err := o.Lock(context.Background(), Metadata(gfid(9))); err != nil { // makes the file
		t.Fatal(err)
	}
	o.Release()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHold+"="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("the other process: %q", line)
	}
	if ok, _ := o.TryLock(Metadata(gfid(6))); ok {
		t.Fatal("a lock another process holds was granted")
	}
	stdin.Close()
	cmd.Wait()
	// The kernel dropped the lock of the process that ended.
	if ok, _ := o.TryLock(Metadata(gfid(6))); !ok {
		t.Fatal("the lock of a process that ended is still held")
	}
	o.Release()
}
