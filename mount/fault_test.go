package mount_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fixtures/loopdisk"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/mount"
)

// events collects a mount's brick events.
type events chan mount.Event

func (e events) await(t *testing.T, brick int, up bool) mount.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-e:
			if ev.Brick == brick && ev.Up == up {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event: brick %d up=%v", brick, up)
		}
	}
}

// serve mounts v with the events sent to ev; unmount ends it (the test's
// end does too).
func serve(t *testing.T, v *fixtures.Vol, ev events) (dir string, unmount func()) {
	t.Helper()
	m, err := mount.Open(v.V, mount.Options{ProbeInterval: 50 * time.Millisecond, Events: func(e mount.Event) { ev <- e }})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	srv, err := m.Serve(dir, os.Getenv("AFRKIT_FUSE_DEBUG") != "")
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unmount = func() {
		once.Do(func() {
			if err := srv.Unmount(); err != nil {
				t.Errorf("unmount: %v", err)
			}
			m.Close()
		})
	}
	t.Cleanup(unmount)
	return dir, unmount
}

// writeSynced writes data to p through the mount, fsyncs and closes it.
func writeSynced(t *testing.T, p string, data []byte) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("fsync %s: %v", p, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s: %v", p, err)
	}
}

// pendingOn reads brick i's changelog of p: what it blames brick j for.
func pendingOn(t *testing.T, v *fixtures.Vol, i int, p string, j int) afr.Changelog {
	t.Helper()
	b := v.Bricks[i]
	abs, err := b.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.ReplyAt(abs, p, volume.PendingKeys(v.V.Bricks))
	if err != nil {
		t.Fatal(err)
	}
	return r.Pending[j]
}

// healAll heals the volume, holding its lock as afrkit heal does, and
// fails unless nothing is left.
func healAll(t *testing.T, v *fixtures.Vol) {
	t.Helper()
	release, err := v.V.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Heal(context.Background(), false)
	if err != nil || len(res.Left) != 0 {
		t.Fatalf("heal: %+v, %v", res.Left, err)
	}
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrickFillsUpAndIsGrown: b2's disk (8 MiB of ext4) fills up in the
// middle of a 16 MiB write through the mount. The write succeeds on b0
// and b1, which blame b2; b2 is taken down and stays down while full.
// Grown (resize2fs), it comes back by itself; a later file reaches all
// three; heal then makes b2's copy of the big file whole.
func TestBrickFillsUpAndIsGrown(t *testing.T) {
	requireFUSE(t)
	root := t.TempDir()
	d := loopdisk.New(t, filepath.Join(root, "b2"), 8, "")
	v, err := fixtures.Healthy(root, "full", 3)
	if err != nil {
		t.Fatal(err)
	}
	ev := make(events, 16)
	mnt, unmount := serve(t, v, ev)

	big := random(t, 16<<20)
	writeSynced(t, mnt+"/big", big)
	down := ev.await(t, 2, false)
	if !strings.Contains(down.Reason, "no space left on device") {
		t.Errorf("b2 went down for %q, want ENOSPC", down.Reason)
	}
	if got, err := os.ReadFile(mnt + "/big"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("reading the big file back through the mount: %d bytes, %v", len(got), err)
	}
	for i := 0; i < 2; i++ {
		if c := pendingOn(t, v, i, "/big", 2); c[afr.Data] == 0 {
			t.Errorf("b%d does not blame b2 for /big's data: %v", i, c)
		}
	}

	// The test's own handles on b2 let go too, as the mount's have.
	v.Bricks[2].Close()
	v.Indexes[2].Close()
	d.Grow(64)
	ev.await(t, 2, true)
	if v, err = fixtures.Open(v.V); err != nil {
		t.Fatal(err)
	}
	small := []byte("after the disk was grown\n")
	writeSynced(t, mnt+"/small", small)
	if got, err := os.ReadFile(filepath.Join(v.Bricks[2].Root, "small")); err != nil || !bytes.Equal(got, small) {
		t.Errorf("b2's /small after it came back: %q, %v", got, err)
	}

	// afrkit heal waits for the mount to let go of the volume.
	unmount()
	healAll(t, v)
	if got, err := os.ReadFile(filepath.Join(v.Bricks[2].Root, "big")); err != nil || !bytes.Equal(got, big) {
		t.Errorf("b2's /big after heal: %d bytes, %v", len(got), err)
	}
	for i := 0; i < 2; i++ {
		if c := pendingOn(t, v, i, "/big", 2); !c.IsZero() {
			t.Errorf("b%d still blames b2 after heal: %v", i, c)
		}
	}
}

// TestBrickDiskFailsUnderTheMount: b2's ext4 (errors=remount-ro) fails in
// the middle of a stream of fsync'd writes and goes read-only. Every
// write still succeeds, on b0 and b1, which blame b2; b2 is taken down
// and let go, so the operator unmounts it; files written while it is
// unmounted go nowhere near the empty directory left in its place; it is
// checked and mounted back, comes back by itself, and heal makes its
// copies whole: no fsync'd byte is lost.
func TestBrickDiskFailsUnderTheMount(t *testing.T) {
	requireFUSE(t)
	root := t.TempDir()
	d := loopdisk.New(t, filepath.Join(root, "b2"), 64, "errors=remount-ro")
	v, err := fixtures.Healthy(root, "dying", 3)
	if err != nil {
		t.Fatal(err)
	}
	ev := make(events, 16)
	mnt, unmount := serve(t, v, ev)

	want := map[string][]byte{}
	write := func(name string) {
		data := random(t, 64<<10)
		writeSynced(t, mnt+"/"+name, data)
		want[name] = data
	}
	// A file kept open across b2's failure and return, as a database
	// keeps its files.
	long, err := os.Create(mnt + "/long-open")
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	longData := random(t, 3*4096)
	writeAt := func(off int) {
		t.Helper()
		if _, err := long.WriteAt(longData[off:off+4096], int64(off)); err != nil {
			t.Fatal(err)
		}
		if err := long.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	writeAt(0)
	for k := 0; k < 20; k++ {
		if k == 8 {
			d.Fail()
		}
		write(fmt.Sprintf("f%02d", k))
	}
	down := ev.await(t, 2, false)
	if !strings.Contains(down.Reason, "read-only") && !strings.Contains(down.Reason, "input/output") {
		t.Errorf("b2 went down for %q, want EROFS or EIO", down.Reason)
	}

	v.Bricks[2].Close()
	v.Indexes[2].Close()
	d.Umount()
	write("while-b2-is-unmounted")
	writeAt(4096) // b2 misses it
	if names, err := os.ReadDir(d.Dir); err != nil || len(names) != 0 {
		t.Errorf("the empty directory where b2 was holds %v (%v): the mount wrote where the brick was", names, err)
	}
	d.Check()
	d.Mount()
	ev.await(t, 2, true)
	// b2 is written again through the descriptor opened before it
	// failed, as GlusterFS's client reopens it.
	writeAt(2 * 4096)
	b2long, err := os.ReadFile(filepath.Join(d.Dir, "long-open"))
	if err != nil || len(b2long) != len(longData) || !bytes.Equal(b2long[2*4096:], longData[2*4096:]) {
		t.Errorf("b2's long-open after its return: %d bytes, %v; want the write made since", len(b2long), err)
	}
	if got, err := os.ReadFile(mnt + "/long-open"); err != nil || !bytes.Equal(got, longData) {
		t.Errorf("long-open through the mount: %d bytes, %v; want every write (b2's copy, behind, is not read)", len(got), err)
	}
	long.Close()
	want["long-open"] = longData

	for name, data := range want {
		if got, err := os.ReadFile(mnt + "/" + name); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s through the mount: %d bytes, %v", name, len(got), err)
		}
	}
	unmount()
	if v, err = fixtures.Open(v.V); err != nil {
		t.Fatal(err)
	}
	healAll(t, v)
	for name, data := range want {
		if got, err := os.ReadFile(filepath.Join(v.Bricks[2].Root, name)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("b2's %s after heal: %d bytes, %v", name, len(got), err)
		}
	}
}
