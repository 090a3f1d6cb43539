package mount_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/mount"
)

// settled asserts what every workload must leave once the mount is gone:
// no counter set on any copy (no dirty mark, no blame: every brick was
// up), and the same names with the same content on every brick.
func settled(t *testing.T, v *fixtures.Vol) {
	t.Helper()
	keys := volume.PendingKeys(v.V.Bricks)
	var trees []string
	for _, b := range v.Bricks {
		var lines []string
		err := filepath.WalkDir(b.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, b.Root)
			if rel == "/.glusterfs" {
				return filepath.SkipDir
			}
			if rel == "" {
				rel = "/"
			}
			r, err := b.ReplyAt(p, rel, keys)
			if err != nil {
				return err
			}
			if !r.Dirty.IsZero() {
				t.Errorf("%s%s: dirty %v left behind", b.Root, rel, r.Dirty)
			}
			for j, c := range r.Pending {
				if !c.IsZero() {
					t.Errorf("%s%s: blames brick %d %v", b.Root, rel, j, c)
				}
			}
			line := rel + " " + r.GFID.String()
			if r.Type == afr.TypeRegular {
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				line += fmt.Sprintf(" %x", sha256.Sum256(data))
			}
			lines = append(lines, line)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		trees = append(trees, strings.Join(lines, "\n"))
	}
	for i := 1; i < len(trees); i++ {
		if trees[i] != trees[0] {
			t.Errorf("brick %d differs from brick 0:\n%s", i, fixtures.LineDiff(trees[0], trees[i]))
		}
	}
}

// workload mounts a healthy replica-3 volume, runs fn on the mount,
// unmounts, and asserts the bricks settled.
func workload(t *testing.T, fn func(mnt string)) {
	t.Helper()
	requireFUSE(t)
	v, err := fixtures.Healthy(t.TempDir(), "wl", 3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mount.Open(v.V, mount.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	srv, err := m.Serve(mnt, false)
	if err != nil {
		t.Fatal(err)
	}
	fn(mnt)
	if err := srv.Unmount(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	settled(t, v)
}

// TestFioVerifies: fio's parallel random writers with crc32c verification
// of every block read back, on the mount; the bricks then agree.
func TestFioVerifies(t *testing.T) {
	fio := requireTool(t, "fio")
	workload(t, func(mnt string) {
		out, err := exec.Command(fio, "--name=afrkit", "--directory="+mnt, "--rw=randwrite", "--bs=4k",
			"--size=8m", "--numjobs=4", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
			"--fsync_on_close=1", "--ioengine=psync", "--group_reporting",
			// fio saves its verify state in the working directory, the
			// source tree's; nothing here resumes a verify.
			"--verify_state_save=0").CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("verify: bad")) {
			t.Fatalf("fio: %v\n%s", err, out)
		}
	})
}

// TestDbenchRunsClean: dbench's file-server load (creates, renames,
// unlinks, locks, reads and writes from several clients) on the mount.
func TestDbenchRunsClean(t *testing.T) {
	dbench := requireTool(t, "dbench")
	workload(t, func(mnt string) {
		out, err := exec.Command(dbench, "-D", mnt, "-t", "8", "4").CombinedOutput()
		// dbench itself sometimes cannot make the semaphore it starts its
		// clients with, says "failed to create barrier semaphore", and
		// starts them without it: nothing of the mount's.
		checked := bytes.ReplaceAll(out, []byte("failed to create barrier semaphore"), nil)
		if err != nil || bytes.Contains(checked, []byte("ERROR")) || bytes.Contains(checked, []byte("failed")) {
			t.Fatalf("dbench: %v\n%s", err, out)
		}
	})
}

// TestParallelWritersAgree: goroutines write their own files and the
// same shared file at once, through the mount; every file reads back as
// written and the bricks agree, with no counter left behind.
func TestParallelWritersAgree(t *testing.T) {
	workload(t, func(mnt string) {
		const writers, rounds = 6, 20
		shared, err := os.OpenFile(filepath.Join(mnt, "shared"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer shared.Close()
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				block := bytes.Repeat([]byte{byte('a' + w)}, 4096)
				for r := 0; r < rounds; r++ {
					p := filepath.Join(mnt, fmt.Sprintf("w%d-%d", w, r))
					if err := os.WriteFile(p, block[:1000+r], 0o644); err != nil {
						t.Error(err)
						return
					}
					if _, err := shared.WriteAt(block, int64(w*4096)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := shared.Sync(); err != nil {
			t.Fatal(err)
		}
		for w := 0; w < writers; w++ {
			for r := 0; r < rounds; r++ {
				got, err := os.ReadFile(filepath.Join(mnt, fmt.Sprintf("w%d-%d", w, r)))
				if err != nil || len(got) != 1000+r || got[0] != byte('a'+w) {
					t.Errorf("w%d-%d: %d bytes, %v", w, r, len(got), err)
				}
			}
		}
	})
}
