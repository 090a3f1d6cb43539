package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/xattr"

	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/index"
	"github.com/afrkit/afrkit/lock"
)

// TestFsckRenamesStaleTempWhileMounted: while the volume is mounted and a
// client writes through the mount, fsck renames a stale rsync temp file
// (under the mount's locks on both names and on the file, on every
// brick), removes a stale index entry and puts back a file's gfid2path
// record (each under the locks the mount's fops on them take), and
// refuses, in its plan and its run, the repair that needs the volume
// unmounted (an orphan handle), which stays as it was. The mount
// then reads the file under its final name, and nothing is left to heal.
func TestFsckRenamesStaleTempWhileMounted(t *testing.T) {
	requireMount(t)
	dir := t.TempDir()
	v, err := fixtures.Healthy(dir, "fx", 2)
	mustDo(t, err)
	env := volEnv(dir)
	mnt := mountFx(t, env, dir)
	const player = `{"name":"player","level":4}` + "\n"
	mustDo(t, os.WriteFile(filepath.Join(mnt, fixtures.StaleTempPath), []byte(player), 0o644))
	// Left behind two hours ago: no transfer is writing it now.
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	mustDo(t, os.Chtimes(filepath.Join(mnt, fixtures.StaleTempPath), twoHoursAgo, twoHoursAgo))
	// One written a moment ago is left alone: rsync may be writing it.
	const fresh = "/.fresh.json.Xy12Zq"
	mustDo(t, os.WriteFile(filepath.Join(mnt, fresh), []byte("being written\n"), 0o644))
	orphan := v.Bricks[0].HandlePath(brick.RootGFID)
	orphan = filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(orphan))), "ab", "cd", "abcd0000-0000-0000-0000-000000000001")
	mustDo(t, os.MkdirAll(filepath.Dir(orphan), 0o700))
	mustDo(t, os.WriteFile(orphan, []byte("no name has me"), 0o644))
	// A stale index entry: the readme's counters are all zero.
	readme, err := v.Bricks[1].GFIDOf(fixtures.ReadmePath)
	mustDo(t, err)
	mustDo(t, v.Indexes[1].Add(index.Xattrop, readme))
	// The readme's name record gone from b0's copy.
	readmeB0 := filepath.Join(v.Bricks[0].Root, fixtures.ReadmePath)
	g2p := func() []string {
		names, _ := xattr.LList(readmeB0)
		return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, "trusted.gfid2path.") })
	}
	for _, n := range g2p() {
		mustDo(t, xattr.LRemove(readmeB0, n))
	}

	// The plan, made while the volume is mounted and still: a check of
	// a volume being written is a snapshot of it, whose tallies a write
	// can balance by chance (an orphan handle then goes unseen until the
	// next check).
	code, plan, errOut := run(t, env, "fsck", "fx", "--repair", "--rename-stale", "--dry-run")
	if code != ExitFsckProblems || !strings.Contains(plan, "/.player.json.AbvgGY: rename it to /player.json") || !strings.Contains(plan, "refused while the volume is mounted") ||
		!strings.Contains(plan, "Dry run: 3 repair(s) planned") || !strings.Contains(plan, "2 repair(s) refused while the volume is mounted") ||
		!strings.Contains(plan, "stale-index  b1") || !strings.Contains(plan, "gfid2path  b0  /docs/readme.md: add it") {
		t.Fatalf("the plan while mounted: exit %d\n%s%s", code, plan, errOut)
	}

	// The repair, while a client writes through the mount.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := os.WriteFile(filepath.Join(mnt, fmt.Sprintf("w%d.txt", k%20)), []byte(fmt.Sprintf("write %d\n", k)), 0o644); err != nil {
				writeErr = err
				return
			}
		}
	}()
	code, out, errOut := run(t, env, "fsck", "fx", "--repair", "--rename-stale")
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write through the mount during the repair: %v", writeErr)
	}
	if code != ExitFsckProblems || !strings.Contains(out, "written within the hour") {
		t.Fatalf("the repair while mounted: exit %d\n%s%s", code, out, errOut)
	}
	// Once the writes are over, the repairs the snapshot may have missed
	// are made (still mounted): the stale index entry and the name record.
	if code, out, errOut := run(t, env, "fsck", "fx", "--repair"); code != ExitFsckProblems {
		t.Fatalf("the repair again, mounted: exit %d\n%s%s", code, out, errOut)
	}
	if got, err := os.ReadFile(orphan); err != nil || string(got) != "no name has me" {
		t.Errorf("the orphan handle a mounted volume's repair refuses: %q, %v", got, err)
	}
	for i, b := range v.Bricks {
		if _, err := os.Lstat(filepath.Join(b.Root, fresh)); err != nil {
			t.Errorf("b%d: the temp file written a moment ago was moved: %v", i, err)
		}
	}
	if ok, err := v.Indexes[1].Has(index.Xattrop, readme); err != nil || ok {
		t.Errorf("the stale index entry is still there: %v, %v", ok, err)
	}
	if got := g2p(); len(got) != 1 {
		t.Errorf("b0's readme records its name in %q, want one gfid2path key back", got)
	}
	// The mount sees the new name once the kernel's cache of the old
	// answers (a second) has run out.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := os.ReadFile(filepath.Join(mnt, "player.json"))
		_, terr := os.Lstat(filepath.Join(mnt, fixtures.StaleTempPath))
		if err == nil && string(got) == player && os.IsNotExist(terr) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("through the mount after the rename: player.json %q, %v; the temp file: %v", got, err, terr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, errOut := run(t, env, "umount", mnt); code != ExitOK {
		t.Fatalf("umount: %s", errOut)
	}
	if code, info, _ := run(t, env, "heal", "fx", "info"); code != ExitOK || strings.Count(info, "Number of entries: 0") != 2 {
		t.Errorf("heal info after the repair and the writes:\n%s", info)
	}
	for i, b := range v.Bricks {
		if _, err := os.Stat(filepath.Join(b.Root, "player.json")); err != nil {
			t.Errorf("b%d: %v", i, err)
		}
	}
}

// TestFsckWaitsForTheMountsLocks: a rename fsck makes beside a mount
// waits while a fop holds the mount's lock on the final name (here, the
// test holds it on each brick, as a create there would), and runs once
// it is let go.
func TestFsckWaitsForTheMountsLocks(t *testing.T) {
	requireMount(t)
	dir := t.TempDir()
	v, err := fixtures.Build(dir, "stale-temp", 2)
	mustDo(t, err)
	env := volEnv(dir)
	mountFx(t, env, dir) // the repair runs beside it
	// Left behind two hours ago: no transfer is writing it now.
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	for _, b := range v.Bricks {
		mustDo(t, os.Chtimes(filepath.Join(b.Root, fixtures.StaleTempPath), twoHoursAgo, twoHoursAgo))
	}
	var owners []*lock.Owner
	for _, b := range v.Bricks {
		tb, err := lock.OnBrick(b)
		mustDo(t, err)
		defer tb.Close()
		o := tb.Owner()
		mustDo(t, o.Lock(context.Background(), lock.Name(lock.Data, brick.RootGFID, "player.json")))
		owners = append(owners, o)
	}
	done := make(chan ExitCode)
	go func() {
		code, _, _ := run(t, env, "fsck", "fx", "--rename-stale")
		done <- code
	}()
	time.Sleep(500 * time.Millisecond)
	for i, b := range v.Bricks {
		if _, err := os.Lstat(filepath.Join(b.Root, "player.json")); err == nil {
			t.Fatalf("b%d: renamed while the mount's lock on the name was held", i)
		}
	}
	select {
	case code := <-done:
		t.Fatalf("fsck ended (exit %d) while the mount's lock on the name was held", code)
	default:
	}
	for _, o := range owners {
		o.Release()
	}
	if code := <-done; code != ExitFsckRepaired {
		t.Fatalf("fsck --rename-stale once the lock was let go: exit %d", code)
	}
	for i, b := range v.Bricks {
		if _, err := os.Lstat(filepath.Join(b.Root, "player.json")); err != nil {
			t.Errorf("b%d: not renamed once the lock was let go: %v", i, err)
		}
	}
}
