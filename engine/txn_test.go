package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/brick/volume"
	"github.com/afrkit/afrkit/engine"
	"github.com/afrkit/afrkit/fixtures"
	"github.com/afrkit/afrkit/heal"
	"github.com/afrkit/afrkit/index"
)

func newSet(t *testing.T, replica int) (*fixtures.Vol, *engine.Set) {
	t.Helper()
	v, err := fixtures.Healthy(t.TempDir(), "fx", replica)
	if err != nil {
		t.Fatal(err)
	}
	s := &engine.Set{Bricks: v.Bricks, Indexes: v.Indexes, Keys: volume.PendingKeys(v.V.Bricks), Up: make([]bool, replica), Optimistic: true}
	for i := range s.Up {
		s.Up[i] = true
	}
	return v, s
}

// write is a data fop: it writes data at the start of the copy, and
// ends the file there.
func write(data string) func(int, *brick.Brick, string) error {
	return func(_ int, b *brick.Brick, abs string) error {
		f, err := b.OpenFile(abs, os.O_WRONLY)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte(data), 0); err != nil {
			return err
		}
		return f.Truncate(int64(len(data)))
	}
}

// state is what the transaction left on each brick for p: every counter
// that is set, and the index entries of p's gfid.
func state(t *testing.T, v *fixtures.Vol, s *engine.Set, p string) []string {
	t.Helper()
	var out []string
	for i, b := range v.Bricks {
		abs, err := b.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := b.ReplyAt(abs, p, s.Keys)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("b%d dirty %v", i, r.Dirty)
		for j, c := range r.Pending {
			if !c.IsZero() {
				line += fmt.Sprintf(" blames b%d %v", j, c)
			}
		}
		for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
			if ok, _ := v.Indexes[i].Has(sub, r.GFID); ok {
				line += " in " + string(sub)
			}
		}
		out = append(out, line)
	}
	return out
}

func same(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestInodeOpLeavesAFRsChangelog: a write and a chmod with every brick up
// leave nothing behind; with a brick down, or failing the fop, the others
// blame it for that kind and index the file, and no dirty mark is left;
// heal then copies the survivors' content to it. Below the quorum nothing
// is written at all.
func TestInodeOpLeavesAFRsChangelog(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 3)
	p := fixtures.HelloPath

	if _, err := s.InodeOp(ctx, afr.Data, p, write("all up\n")); err != nil {
		t.Fatal(err)
	}
	chmod := func(_ int, b *brick.Brick, abs string) error { return b.Chmod(abs, 0o600) }
	if _, err := s.InodeOp(ctx, afr.Metadata, p, chmod); err != nil {
		t.Fatal(err)
	}
	same(t, "all up", state(t, v, s, p), "b0 dirty [0 0 0]", "b1 dirty [0 0 0]", "b2 dirty [0 0 0]")

	s.Up[2] = false
	if _, err := s.InodeOp(ctx, afr.Data, p, write("b2 is down\n")); err != nil {
		t.Fatal(err)
	}
	same(t, "b2 down", state(t, v, s, p),
		"b0 dirty [0 0 0] blames b2 [1 0 0] in xattrop", "b1 dirty [0 0 0] blames b2 [1 0 0] in xattrop", "b2 dirty [0 0 0]")
	s.Up[2] = true

	failOn1 := func(i int, b *brick.Brick, abs string) error {
		if i == 1 {
			return syscall.EIO
		}
		return chmod(i, b, abs)
	}
	failed, err := s.InodeOp(ctx, afr.Metadata, p, failOn1)
	if err != nil || fmt.Sprint(failed) != "[false true false]" {
		t.Fatalf("a fop that failed on b1: failed %v, %v", failed, err)
	}
	same(t, "b1 failed a chmod", state(t, v, s, p),
		"b0 dirty [0 0 0] blames b1 [0 1 0] blames b2 [1 0 0] in xattrop", "b1 dirty [0 0 0] blames b2 [1 0 0] in xattrop", "b2 dirty [0 0 0] blames b1 [0 1 0] in xattrop")

	e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Heal(ctx, false)
	if err != nil || len(res.Left) != 0 {
		t.Fatalf("heal after the transactions: %+v, %v", res, err)
	}
	for i, b := range v.Bricks {
		abs, _ := b.Abs(p)
		got, err := os.ReadFile(abs)
		if err != nil || string(got) != "b2 is down\n" {
			t.Errorf("b%d after heal: %q, %v", i, got, err)
		}
	}

	// Two bricks down of three: below quorum (auto: 2), nothing runs.
	s.QuorumCount = 2
	s.Up[1], s.Up[2] = false, false
	before := fixtures.Snapshot(t, v.Bricks[0].Root)
	if _, err := s.InodeOp(ctx, afr.Data, p, write("never\n")); !errors.Is(err, syscall.EROFS) {
		t.Errorf("below quorum: %v, want EROFS", err)
	}
	if after := fixtures.Snapshot(t, v.Bricks[0].Root); after != before {
		t.Errorf("a fop refused for quorum wrote:\n%s", fixtures.LineDiff(before, after))
	}
}

// TestInodeOpCountsEveryTransaction: transactions running at once on one
// file, with a brick down, each add their blame: the counter ends equal
// to the number of transactions, which a non-atomic read-modify-write of
// the counters does not (the xattrop lock of brick.AddChangelog).
func TestInodeOpCountsEveryTransaction(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 2)
	s.Up[1] = false
	const writers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.InodeOp(ctx, afr.Data, fixtures.HelloPath, write("x")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	same(t, "after concurrent writes", state(t, v, s, fixtures.HelloPath),
		fmt.Sprintf("b0 dirty [0 0 0] blames b1 [%d 0 0] in xattrop", writers*each), "b1 dirty [0 0 0]")
}

// TestCreateLeavesAFRsChangelog: a file and a directory made with b1
// down carry the new-entry marks against b1, their parent blames b1 for
// entries and names them in its entry-changes index, and no dirty mark is
// left; with every brick up, nothing is left at all. heal then makes them
// on b1.
func TestCreateLeavesAFRsChangelog(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 2)
	s.Granular = true
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/up.txt", Type: afr.TypeRegular, Mode: 0o644}, []byte("both up\n")); err != nil {
		t.Fatal(err)
	}
	same(t, "made with both up", state(t, v, s, "/up.txt"), "b0 dirty [0 0 0]", "b1 dirty [0 0 0]")
	same(t, "the root after it", state(t, v, s, "/"), "b0 dirty [0 0 0]", "b1 dirty [0 0 0]")

	s.Up[1] = false
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/new.txt", Type: afr.TypeRegular, Mode: 0o644}, []byte("b1 is down\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/newdir", Type: afr.TypeDirectory, Mode: 0o755}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/new.link", Type: afr.TypeSymlink, Target: "new.txt"}, nil); err != nil {
		t.Fatal(err)
	}
	same(t, "a file made with b1 down", state(t, v, s, "/new.txt")[:1], "b0 dirty [0 0 0] blames b1 [1 1 0] in xattrop")
	same(t, "a directory made with b1 down", state(t, v, s, "/newdir")[:1], "b0 dirty [0 0 0] blames b1 [1 1 1] in xattrop")
	same(t, "a symlink made with b1 down (no mark of its own)", state(t, v, s, "/new.link")[:1], "b0 dirty [0 0 0]")
	same(t, "their parent", state(t, v, s, "/"), "b0 dirty [0 0 0] blames b1 [0 0 3] in xattrop", "b1 dirty [0 0 0]")
	var names []string
	mustWalk := v.Indexes[0].WalkEntryChanges(func(pg afr.GFID, name string, err error) error {
		names = append(names, pg.String()+"/"+name)
		return err
	})
	if mustWalk != nil {
		t.Fatal(mustWalk)
	}
	sort.Strings(names)
	root := brick.RootGFID.String()
	same(t, "b0's entry-changes", names, root+"/new.link", root+"/new.txt", root+"/newdir")

	s.Up[1] = true
	e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.Heal(ctx, false); err != nil || len(res.Left) != 0 {
		t.Fatalf("heal: %+v, %v", res, err)
	}
	if got, err := os.ReadFile(filepath.Join(v.Bricks[1].Root, "new.txt")); err != nil || string(got) != "b1 is down\n" {
		t.Errorf("b1's /new.txt after heal: %q, %v", got, err)
	}
	same(t, "the root after heal", state(t, v, s, "/"), "b0 dirty [0 0 0]", "b1 dirty [0 0 0]")
}

// TestRemoveLeavesAFRsChangelog: a hard-linked file unlinked with b1 down
// keeps its other name, its handle and only that name's gfid2path on b0;
// the parent blames b1 and names the entry; heal removes it from b1 too
// (keeping b1's copy, as heal keeps what it removes).
func TestRemoveLeavesAFRsChangelog(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 2)
	s.Granular = true
	if err := v.Link(fixtures.HelloPath, "/hello.again"); err != nil {
		t.Fatal(err)
	}
	s.Up[1] = false
	if _, err := s.Remove(ctx, "/hello.again"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, fixtures.LinkPath); err != nil {
		t.Fatal(err)
	}
	b0 := v.Bricks[0]
	g, err := b0.GFIDOf(fixtures.HelloPath)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := b0.Exists(b0.HandlePath(g)); !ok {
		t.Error("the handle went with one of two names")
	}
	keys, err := b0.RawXattrs(b0.HandlePath(g), fixtures.HelloPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for k := range keys {
		if strings.Contains(k, "gfid2path") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("b0's /hello.txt has %d gfid2path records after its second name went, want 1", n)
	}
	same(t, "the parent", state(t, v, s, "/"), "b0 dirty [0 0 0] blames b1 [0 0 2] in xattrop", "b1 dirty [0 0 0]")
	s.Up[1] = true
	e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.Heal(ctx, false); err != nil || len(res.Left) != 0 {
		t.Fatalf("heal: %+v, %v", res, err)
	}
	for _, p := range []string{"hello.again", "hello.link"} {
		if _, err := os.Lstat(filepath.Join(v.Bricks[1].Root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("b1's /%s after heal: %v", p, err)
		}
	}
}

// TestRenameAndLinkLeaveAFRsChangelog: a file renamed into another
// directory and a hard link made with b1 down leave both parents blaming
// b1 for entries and naming the changed entries, the file's gfid2path
// records following its names; heal then makes b1's namespace b0's.
func TestRenameAndLinkLeaveAFRsChangelog(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 2)
	s.Granular = true
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/sub", Type: afr.TypeDirectory, Mode: 0o755}, nil); err != nil {
		t.Fatal(err)
	}
	s.Up[1] = false
	if _, err := s.Rename(ctx, fixtures.HelloPath, "/sub/moved.txt", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Link(ctx, "/sub/moved.txt", "/sub/again.txt"); err != nil {
		t.Fatal(err)
	}
	same(t, "the old parent", state(t, v, s, "/"), "b0 dirty [0 0 0] blames b1 [0 0 1] in xattrop", "b1 dirty [0 0 0]")
	same(t, "the new parent", state(t, v, s, "/sub")[:1], "b0 dirty [0 0 0] blames b1 [0 0 2] in xattrop")
	b0 := v.Bricks[0]
	g, err := b0.GFIDOf("/sub/moved.txt")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b0.RawXattrs(b0.HandlePath(g), "/sub/moved.txt")
	if err != nil {
		t.Fatal(err)
	}
	var records []string
	for k, val := range raw {
		if strings.Contains(k, "gfid2path") {
			_, name, err := brick.ParseGfid2path(val)
			if err != nil {
				t.Fatal(err)
			}
			records = append(records, name)
		}
	}
	sort.Strings(records)
	same(t, "b0's gfid2path names", records, "again.txt", "moved.txt")

	s.Up[1] = true
	e, err := heal.NewEngine(v.V, heal.EngineOptions{History: &heal.History{Path: filepath.Join(t.TempDir(), "h.jsonl")}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.Heal(ctx, false); err != nil || len(res.Left) != 0 {
		t.Fatalf("heal: %+v, %v", res, err)
	}
	for _, p := range []string{"sub/moved.txt", "sub/again.txt"} {
		if _, err := os.Lstat(filepath.Join(v.Bricks[1].Root, p)); err != nil {
			t.Errorf("b1's /%s after heal: %v", p, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(v.Bricks[1].Root, "hello.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("b1's /hello.txt after heal: %v, want gone", err)
	}
}

// TestDataSessionWritesOnePreOpAndPostOp: many writes in one data session
// leave the file dirty while it runs, and one blame (not one per write)
// against a brick that was down; a brick failing mid-session is blamed
// and written no more.
func TestDataSessionWritesOnePreOpAndPostOp(t *testing.T) {
	ctx := context.Background()
	v, s := newSet(t, 3)
	p := fixtures.HelloPath
	g, err := v.Bricks[0].GFIDOf(p)
	if err != nil {
		t.Fatal(err)
	}
	s.Up[2] = false
	d, err := s.BeginData(context.Background(), engine.Inode{Path: p, GFID: g})
	if err != nil {
		t.Fatal(err)
	}
	writes := map[int]int{}
	for k := 0; k < 5; k++ {
		err := d.Write(ctx, func(i int, b *brick.Brick) error {
			// b1 fails once, at the 4th write: it is written no more,
			// though it would take the 5th.
			if i == 1 && k == 3 {
				return syscall.EIO
			}
			writes[i]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	same(t, "while it runs", state(t, v, s, p)[:2], "b0 dirty [1 0 0] in dirty", "b1 dirty [1 0 0] in dirty")
	if _, err := d.End(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(writes) != "map[0:5 1:3]" {
		t.Errorf("writes per brick %v, want b0 5, b1 3 (failed at the 4th), b2 none", writes)
	}
	same(t, "after End", state(t, v, s, p),
		"b0 dirty [0 0 0] blames b1 [1 0 0] blames b2 [1 0 0] in xattrop", "b1 dirty [1 0 0] in dirty", "b2 dirty [0 0 0]")
}

// TestCreateOpenGivesTheNewCopies: CreateOpen makes a file as Create does
// and hands back each copy made open for reading and writing, nothing
// for a brick that was down; what is written through them is each copy's
// content.
func TestCreateOpenGivesTheNewCopies(t *testing.T) {
	v, s := newSet(t, 3)
	s.Up[2] = false
	g, failed, files, err := s.CreateOpen(context.Background(), brick.NewEntry{Path: "/f", Type: afr.TypeRegular, Mode: 0o200})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "failed", []string{fmt.Sprint(failed)}, "[false false true]")
	if files[2] != nil {
		t.Errorf("a copy open on the brick that was down")
	}
	for i, f := range files[:2] {
		if _, err := f.WriteAt([]byte("new"), 0); err != nil {
			t.Fatalf("brick %d: write: %v", i, err)
		}
		buf := make([]byte, 3)
		if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "new" {
			t.Errorf("brick %d: read back %q, %v (a write-only mode does not bar the creating open)", i, buf, err)
		}
		f.Close()
		got, err := os.ReadFile(v.Bricks[i].HandlePath(g))
		if err != nil || string(got) != "new" {
			t.Errorf("brick %d: the copy holds %q, %v", i, got, err)
		}
	}
}

// arbiterSet is newSet for replica 3 arbiter 1.
func arbiterSet(t *testing.T) (*fixtures.Vol, *engine.Set) {
	t.Helper()
	v, s := newSet(t, 3)
	s.Arbiter = true
	return v, s
}

// TestArbiterHoldsNoData: a data fop changes the data bricks and leaves
// the arbiter's copy empty; its metadata fops reach the arbiter.
func TestArbiterHoldsNoData(t *testing.T) {
	v, s := arbiterSet(t)
	ctx := context.Background()
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/f", Type: afr.TypeRegular, Mode: 0o644}, []byte("made with content\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InodeOp(ctx, afr.Data, "/f", write("written\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InodeOp(ctx, afr.Metadata, "/f", func(_ int, b *brick.Brick, abs string) error { return os.Chmod(abs, 0o600) }); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"written\n", "written\n", ""} {
		got, err := os.ReadFile(filepath.Join(v.Bricks[i].Root, "f"))
		if err != nil || string(got) != want {
			t.Errorf("brick %d: %q, %v; want %q", i, got, err, want)
		}
		if fi, err := os.Stat(filepath.Join(v.Bricks[i].Root, "f")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("brick %d's mode: %v, %v", i, fi, err)
		}
	}
}

// TestArbiterVetoes: with b0 blamed and b1 down, a write would leave the
// arbiter the only good copy: it fails with ENOTCONN and writes nothing
// (tests/basic/afr/arbiter.t). A write session whose data bricks both
// fail part-way fails with EIO rather than succeed on the arbiter alone.
func TestArbiterVetoes(t *testing.T) {
	v, s := arbiterSet(t)
	ctx := context.Background()
	if _, _, err := s.Create(ctx, brick.NewEntry{Path: "/f", Type: afr.TypeRegular, Mode: 0o644}, []byte("v1\n")); err != nil {
		t.Fatal(err)
	}
	s.Up[0] = false
	if _, err := s.InodeOp(ctx, afr.Data, "/f", write("v2, b0 down\n")); err != nil {
		t.Fatal(err)
	}
	s.Up[0], s.Up[1] = true, false
	_, err := s.InodeOp(ctx, afr.Data, "/f", write("v3, refused\n"))
	if !errors.Is(err, syscall.ENOTCONN) || !errors.Is(err, engine.ErrArbiterOnlySource) {
		t.Errorf("a write with only the arbiter good: %v, want ENOTCONN", err)
	}
	for i, want := range []string{"v1\n", "v2, b0 down\n", ""} {
		if got, err := os.ReadFile(filepath.Join(v.Bricks[i].Root, "f")); err != nil || string(got) != want {
			t.Errorf("brick %d after the refusal: %q, %v; want %q", i, got, err, want)
		}
	}

	// Every brick up again (the blame of b0 stays): a session whose data
	// bricks fail under it.
	s.Up[1] = true
	d, err := s.BeginData(ctx, engine.Inode{Path: "/f"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Write(ctx, func(i int, _ *brick.Brick) error {
		if i < 2 {
			return fmt.Errorf("brick %d: %w", i, syscall.EIO)
		}
		return nil
	})
	if !errors.Is(err, engine.ErrNoDataBrick) {
		t.Errorf("a write that reached no data brick: %v, want ErrNoDataBrick", err)
	}
	d.End(ctx)
}
