// Package readertest is the contract every brick.Reader and index.Lister
// meets, as a suite a test runs against each implementation: a local brick
// directory (brick.LocalReader, index.Index) and a brick read over the
// network (package brick/remote). The test that made the brick's content
// says what it holds (Want); Run checks the reader against it, and Same
// checks that two readers of one brick answer alike.
package readertest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/afrkit/afrkit/afr"
	"github.com/afrkit/afrkit/brick"
	"github.com/afrkit/afrkit/index"
)

// Copy is one entry the brick holds.
type Copy struct {
	Path string
	GFID afr.GFID
	Type afr.FileType
	// Size is checked for regular files.
	Size int64
	// Content, when set, is what the copy reads.
	Content string
	// Xattrs are xattrs the copy carries (others may be there too).
	Xattrs map[string]string
	// Blamed are the bricks (positions in Want.Keys) whose data, metadata
	// or entry counter this copy holds non-zero; the others are zero.
	Blamed []int
}

// Want is what the brick holds, as the test that wrote it knows.
type Want struct {
	// Keys are the replica set's pending keys, in brick order.
	Keys   []string
	Copies []Copy
	// Absent are volume paths the brick has no entry at.
	Absent []string
	// Dirs are directories with every name in them.
	Dirs map[string][]string
	// Indexed are gfids the brick's index lists in each subdirectory
	// (others may be listed too).
	Indexed map[index.Subdir][]afr.GFID
}

// Run checks r and l, which read one brick, against want.
func Run(t *testing.T, r brick.Reader, l index.Lister, want Want) {
	t.Run("Reply", func(t *testing.T) { testReply(t, r, want) })
	t.Run("ReplyGFID", func(t *testing.T) { testReplyGFID(t, r, want) })
	t.Run("Absent", func(t *testing.T) { testAbsent(t, r, want) })
	t.Run("OutsideTheVolume", func(t *testing.T) { testOutside(t, r, want) })
	t.Run("PathOf", func(t *testing.T) { testPathOf(t, r, want) })
	t.Run("ReadDir", func(t *testing.T) { testReadDir(t, r, want) })
	t.Run("Index", func(t *testing.T) { testIndex(t, l, want) })
	t.Run("OpenGFID", func(t *testing.T) { testOpenGFID(t, r, want) })
}

func testOpenGFID(t *testing.T, r brick.Reader, want Want) {
	for _, c := range want.Copies {
		f, err := r.OpenGFID(c.GFID)
		if c.Type != afr.TypeRegular {
			if err == nil {
				f.Close()
				t.Errorf("OpenGFID(%s) opened a %v", c.Path, c.Type)
			}
			continue
		}
		if err != nil {
			t.Errorf("OpenGFID(%s): %v", c.Path, err)
			continue
		}
		buf := make([]byte, c.Size+16)
		n, err := f.ReadAt(buf, 0)
		if err != io.EOF || int64(n) != c.Size || c.Content != "" && string(buf[:n]) != c.Content {
			t.Errorf("OpenGFID(%s) reads %d bytes %q, %v; want %d bytes %q and EOF", c.Path, n, buf[:n], err, c.Size, c.Content)
		}
		if err := f.Close(); err != nil {
			t.Errorf("close %s: %v", c.Path, err)
		}
	}
	var g afr.GFID
	_, _ = rand.Read(g[:])
	if f, err := r.OpenGFID(g); err == nil {
		f.Close()
		t.Error("OpenGFID of an unknown gfid opened something")
	}
}

func checkCopy(t *testing.T, how string, got afr.Reply, c Copy, keys []string) {
	t.Helper()
	if !got.Answered || !got.Exists {
		t.Errorf("%s %s: answered %v exists %v, want the copy", how, c.Path, got.Answered, got.Exists)
		return
	}
	if got.GFID != c.GFID {
		t.Errorf("%s %s: gfid %s, want %s", how, c.Path, got.GFID, c.GFID)
	}
	if got.Type != c.Type {
		t.Errorf("%s %s: type %v, want %v", how, c.Path, got.Type, c.Type)
	}
	if c.Type == afr.TypeRegular && got.Size != c.Size {
		t.Errorf("%s %s: size %d, want %d", how, c.Path, got.Size, c.Size)
	}
	if len(got.Pending) != len(keys) {
		t.Errorf("%s %s: %d pending counters, want %d", how, c.Path, len(got.Pending), len(keys))
		return
	}
	for j := range keys {
		if blamed := !got.Pending[j].IsZero(); blamed != slices.Contains(c.Blamed, j) {
			t.Errorf("%s %s: counter of brick %d is %v, want blamed=%v", how, c.Path, j, got.Pending[j], !blamed)
		}
	}
}

func testReply(t *testing.T, r brick.Reader, want Want) {
	for _, c := range want.Copies {
		got, err := r.Reply(c.Path, want.Keys)
		if err != nil {
			t.Errorf("Reply(%s): %v", c.Path, err)
			continue
		}
		checkCopy(t, "Reply", got, c, want.Keys)
		for k, v := range c.Xattrs {
			if got.Xattrs[k] != v {
				t.Errorf("Reply(%s): xattr %s is %q, want %q", c.Path, k, got.Xattrs[k], v)
			}
		}
		for k := range got.Xattrs {
			if brick.IsInternalXattr(brick.NSTrusted, k) {
				t.Errorf("Reply(%s): internal xattr %s among those metadata heal compares", c.Path, k)
			}
		}
	}
}

func testReplyGFID(t *testing.T, r brick.Reader, want Want) {
	for _, c := range want.Copies {
		byPath, err := r.Reply(c.Path, want.Keys)
		if err != nil {
			continue // reported by testReply
		}
		got, err := r.ReplyGFID(c.GFID, want.Keys)
		if err != nil {
			t.Errorf("ReplyGFID(%s): %v", c.Path, err)
			continue
		}
		checkCopy(t, "ReplyGFID", got, c, want.Keys)
		if d := Diff(byPath, got); d != "" {
			t.Errorf("%s: ReplyGFID differs from Reply: %s", c.Path, d)
		}
		counters, err := r.CountersGFID(c.GFID, want.Keys)
		if err != nil {
			t.Errorf("CountersGFID(%s): %v", c.Path, err)
			continue
		}
		checkCopy(t, "CountersGFID", counters, c, want.Keys)
		if counters.Mode != got.Mode || counters.UID != got.UID || counters.GID != got.GID || counters.Dirty != got.Dirty {
			t.Errorf("%s: CountersGFID's mode, owner or dirty differ from ReplyGFID's", c.Path)
		}
	}
}

func testAbsent(t *testing.T, r brick.Reader, want Want) {
	for _, p := range want.Absent {
		got, err := r.Reply(p, want.Keys)
		if err != nil || !got.Answered || got.Exists {
			t.Errorf("Reply(%s) of an absent entry: answered %v exists %v, %v; want answered, not there, no error", p, got.Answered, got.Exists, err)
		}
	}
	var g afr.GFID
	_, _ = rand.Read(g[:])
	for name, read := range map[string]func(afr.GFID, []string) (afr.Reply, error){"ReplyGFID": r.ReplyGFID, "CountersGFID": r.CountersGFID} {
		got, err := read(g, want.Keys)
		if err != nil || !got.Answered || got.Exists {
			t.Errorf("%s of an unknown gfid: answered %v exists %v, %v; want answered, not there, no error", name, got.Answered, got.Exists, err)
		}
	}
}

func testOutside(t *testing.T, r brick.Reader, want Want) {
	for _, p := range []string{"/.glusterfs", "/.glusterfs/indices", "/../etc/passwd", "/d/../../etc"} {
		got, err := r.Reply(p, want.Keys)
		if err == nil && got.Exists {
			t.Errorf("Reply(%s) read %+v: a path outside the volume must not be read", p, got)
		}
	}
}

func testPathOf(t *testing.T, r brick.Reader, want Want) {
	if p, err := r.PathOf(brick.RootGFID); err != nil || p != "/" {
		t.Errorf("PathOf(root) = %q, %v; want /", p, err)
	}
	for _, c := range want.Copies {
		p, err := r.PathOf(c.GFID)
		if err != nil || p != c.Path {
			t.Errorf("PathOf(%s) = %q, %v; want %s", c.GFID, p, err, c.Path)
		}
	}
	var g afr.GFID
	_, _ = rand.Read(g[:])
	if p, err := r.PathOf(g); err == nil {
		t.Errorf("PathOf(an unknown gfid) = %q, want an error", p)
	}
}

func testReadDir(t *testing.T, r brick.Reader, want Want) {
	for dir, names := range want.Dirs {
		got, err := r.ReadDir(dir)
		if err != nil {
			t.Errorf("ReadDir(%s): %v", dir, err)
			continue
		}
		slices.Sort(got)
		w := slices.Clone(names)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("ReadDir(%s) = %q, want %q", dir, got, w)
		}
	}
	if _, err := r.ReadDir("/.glusterfs"); err == nil {
		t.Errorf("ReadDir(/.glusterfs) listed the brick's internal directory")
	}
}

func testIndex(t *testing.T, l index.Lister, want Want) {
	for sub, gfids := range want.Indexed {
		listed := map[afr.GFID]bool{}
		err := index.Walk(l, sub, func(e index.Entry) error {
			if e.Err != nil {
				return fmt.Errorf("entry %q: %w", e.Name, e.Err)
			}
			listed[e.GFID] = true
			return nil
		})
		if err != nil {
			t.Errorf("Walk(%s): %v", sub, err)
			continue
		}
		for _, g := range gfids {
			if !listed[g] {
				t.Errorf("Walk(%s) does not list %s", sub, g)
			}
			if ok, err := l.Has(sub, g); err != nil || !ok {
				t.Errorf("Has(%s, %s) = %v, %v; want true", sub, g, ok, err)
			}
		}
		var g afr.GFID
		_, _ = rand.Read(g[:])
		if ok, err := l.Has(sub, g); err != nil || ok {
			t.Errorf("Has(%s, an unlisted gfid) = %v, %v; want false", sub, ok, err)
		}
		// A listing stops at the first error its callback returns, and
		// returns that error.
		stop := errors.New("stop")
		calls := 0
		err = l.Names(sub, func(string) error { calls++; return stop })
		if len(listed) > 0 && (err != stop || calls != 1) {
			t.Errorf("Names(%s) with a callback that stops: %d calls, %v; want 1 call and its error", sub, calls, err)
		}
	}
}

// Same checks that readers a and b of one brick answer alike for every
// copy of want and every gfid its index lists: two implementations of
// brick.Reader agree.
func Same(t *testing.T, a, b brick.Reader, la, lb index.Lister, want Want) {
	for _, c := range want.Copies {
		ra, erra := a.Reply(c.Path, want.Keys)
		rb, errb := b.Reply(c.Path, want.Keys)
		if (erra == nil) != (errb == nil) {
			t.Errorf("Reply(%s): %v against %v", c.Path, erra, errb)
		}
		if d := Diff(ra, rb); d != "" {
			t.Errorf("Reply(%s) differs: %s", c.Path, d)
		}
		pa, erra := a.PathOf(c.GFID)
		pb, errb := b.PathOf(c.GFID)
		if pa != pb || (erra == nil) != (errb == nil) {
			t.Errorf("PathOf(%s): %q, %v against %q, %v", c.GFID, pa, erra, pb, errb)
		}
	}
	for _, sub := range []index.Subdir{index.Xattrop, index.Dirty} {
		na, nb := names(t, la, sub), names(t, lb, sub)
		if !slices.Equal(na, nb) {
			t.Errorf("index %s lists %q against %q", sub, na, nb)
		}
		for _, n := range na {
			g, err := brick.ParseGFID(n)
			if err != nil {
				continue
			}
			ra, erra := a.ReplyGFID(g, want.Keys)
			rb, errb := b.ReplyGFID(g, want.Keys)
			if d := Diff(ra, rb); d != "" || (erra == nil) != (errb == nil) {
				t.Errorf("ReplyGFID(%s) differs: %s (%v against %v)", g, d, erra, errb)
			}
		}
	}
}

func names(t *testing.T, l index.Lister, sub index.Subdir) []string {
	t.Helper()
	var out []string
	if err := index.Walk(l, sub, func(e index.Entry) error { out = append(out, e.Name); return nil }); err != nil {
		t.Errorf("Walk(%s): %v", sub, err)
	}
	slices.Sort(out)
	return out
}

// Diff says how two replies for one copy differ, "" when they agree. The
// brick's label and the inode's own mtime (which only a local reader
// sees; see package brick/remote) are not compared.
func Diff(a, b afr.Reply) string {
	a.Name, b.Name = "", ""
	a.InodeMtime, b.InodeMtime = afr.Timespec{}, afr.Timespec{}
	sa, sb := fmt.Sprintf("%+v", a), fmt.Sprintf("%+v", b)
	if sa == sb {
		return ""
	}
	return sa + "\n  against\n" + sb
}
