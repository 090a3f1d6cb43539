package mount_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/fsck"
	"github.com/afrkit/afrkit/heal"
)

// TestHealRunsWhileMounted: files whose copies on b2 are stale are
// healed by afrkit heal while writers rewrite every block of them through
// the mount, over and over, and fsck checks the volume. Heal takes each file's lock, which the
// writers' eager data sessions give up for it, so it finishes while they
// still write; nothing a writer wrote is lost on any copy (a heal copying
// a block a write had just replaced would leave b2 stale with no counter
// to say so); and afterwards every copy of every file is what the
// writers wrote last.
func TestHealRunsWhileMounted(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "live", 3)
	if err != nil {
		t.Fatal(err)
	}
	const files, blocks, block = 4, 16, 1 << 20
	stale := bytes.Repeat([]byte{'s'}, blocks*block)
	for k := 0; k < files; k++ {
		p := fmt.Sprintf("/f%d", k)
		if err := v.WriteFile(p, stale); err != nil {
			t.Fatal(err)
		}
		// b2 misses this write: b0 and b1 blame it.
		if err := v.Overwrite(p, random(t, blocks*block), 2); err != nil {
			t.Fatal(err)
		}
	}
	mnt, unmount := serve(t, v, make(events, 64))

	healed := make(chan error, 1)
	var (
		wg      sync.WaitGroup
		writing sync.WaitGroup // each writer's first round: heal starts after it
		mu      sync.Mutex
		last    = make([][]byte, files) // what each file must hold at the end
		rounds  = make([]int, files)
	)
	writing.Add(files)
	for k := 0; k < files; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := sync.OnceFunc(writing.Done)
			defer first()
			f, err := os.OpenFile(filepath.Join(mnt, fmt.Sprintf("f%d", k)), os.O_RDWR, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			content, err := os.ReadFile(f.Name())
			if err != nil {
				t.Error(err)
				return
			}
			deadline := time.After(2 * time.Minute)
			for r := 0; ; r++ {
				for i := 0; i < blocks; i++ {
					pat := fmt.Sprintf("%d:%d:%d;", k, r, i)
					b := bytes.Repeat([]byte(pat), block/len(pat)+1)[:block]
					if _, err := f.WriteAt(b, int64(i*block)); err != nil {
						t.Errorf("f%d: write: %v", k, err)
						return
					}
					copy(content[i*block:], b)
				}
				mu.Lock()
				rounds[k] = r + 1
				mu.Unlock()
				first()
				select {
				case <-healed:
					healed <- nil // for the other writers
				case <-deadline:
					t.Errorf("f%d: heal did not finish in 2 minutes of writes", k)
				default:
					continue
				}
				break
			}
			if err := f.Sync(); err != nil {
				t.Errorf("f%d: fsync: %v", k, err)
			}
			last[k] = content
		}()
	}
	go func() {
		writing.Wait()
		release, err := v.V.Lock()
		if err != nil {
			healed <- err
			return
		}
		defer release()
		e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
		if err != nil {
			healed <- err
			return
		}
		defer e.Close()
		res, err := e.Heal(context.Background(), false)
		if err == nil && len(res.Left) > 0 {
			err = fmt.Errorf("left: %+v", res.Left)
		}
		if err == nil && res.Healed["data"] < files {
			err = fmt.Errorf("healed %v, want the data of %d files", res.Healed, files)
		}
		healed <- err
	}()
	// fsck only reads: it checks the volume while it is written and
	// healed, and must not fail (what it finds then is a moment's).
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	for stop := false; !stop; {
		if _, err := fsck.CheckVolume(context.Background(), v.V, fsck.Options{}); err != nil {
			t.Errorf("fsck while mounted: %v", err)
		}
		select {
		case <-writersDone:
			stop = true
		default:
		}
	}
	if err := <-healed; err != nil {
		t.Fatalf("heal while mounted: %v", err)
	}
	t.Logf("rounds of writes over each file while heal ran: %v", rounds)
	unmount()
	settled(t, v)
	rep, err := fsck.CheckVolume(context.Background(), v.V, fsck.Options{Deep: true})
	if err != nil || len(rep.Findings) > 0 {
		t.Errorf("fsck once unmounted: %v %+v", err, rep)
	}
	for k := 0; k < files; k++ {
		for _, b := range v.Bricks {
			got, err := os.ReadFile(filepath.Join(b.Root, fmt.Sprintf("f%d", k)))
			if err != nil || !bytes.Equal(got, last[k]) {
				t.Errorf("%s/f%d: not what the writers wrote last (%v)", b.Root, k, err)
			}
		}
	}
}

// TestFsckChecksWhileNamesChange: fsck checks the volume over and over
// while writers make, rename and remove files through the mount in the
// directory it checks. A name it lists may be gone by the time it reads
// the copies, on one brick or on every brick: it goes on (it failed the
// whole check, and panicked, before). Once unmounted, the volume is
// clean and every file holds what was written.
func TestFsckChecksWhileNamesChange(t *testing.T) {
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "fsckl", 3)
	if err != nil {
		t.Fatal(err)
	}
	mnt, unmount := serve(t, v, make(events, 64))
	d := filepath.Join(mnt, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 3, 150
	var wg sync.WaitGroup
	want := make([]map[string]string, writers) // each writer's files at the end
	for w := 0; w < writers; w++ {
		want[w] = map[string]string{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				name := fmt.Sprintf("w%d-%d", w, r)
				content := fmt.Sprintf("writer %d round %d\n", w, r)
				if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
					t.Errorf("write %s: %v", name, err)
					return
				}
				switch r % 3 {
				case 1:
					renamed := fmt.Sprintf("r%d-%d", w, r)
					if err := os.Rename(filepath.Join(d, name), filepath.Join(d, renamed)); err != nil {
						t.Errorf("rename %s: %v", name, err)
						return
					}
					want[w][renamed] = content
				case 2:
					if err := os.Remove(filepath.Join(d, name)); err != nil {
						t.Errorf("remove %s: %v", name, err)
						return
					}
				default:
					want[w][name] = content
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	check := func() (*fsck.Report, error) { return fsck.CheckVolume(context.Background(), v.V, fsck.Options{}) }
	checks := 0
	for stop := false; !stop; checks++ {
		select {
		case <-writersDone:
			stop = true
		default:
		}
		if _, err := check(); err != nil {
			t.Fatalf("fsck while names change: %v", err)
		}
	}
	t.Logf("%d checks while the writers wrote", checks)
	for w := range want {
		for name, content := range want[w] {
			if got, err := os.ReadFile(filepath.Join(d, name)); err != nil || string(got) != content {
				t.Errorf("%s through the mount: %q, %v, want %q", name, got, err, content)
			}
		}
	}
	unmount()
	settled(t, v)
	rep, err := check()
	if err != nil || len(rep.Findings) > 0 {
		t.Errorf("fsck once unmounted: %v %+v", err, rep)
	}
	for w := range want {
		for name, content := range want[w] {
			for _, b := range v.Bricks {
				if got, err := os.ReadFile(filepath.Join(b.Root, "d", name)); err != nil || string(got) != content {
					t.Errorf("%s/d/%s: %q, %v", b.Root, name, got, err)
				}
			}
		}
	}
}
