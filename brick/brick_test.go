package brick

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/afrkit/afrkit/afr"
)

// newBrick makes an initialised brick in a temp dir, in the namespace this
// process may use.
func newBrick(t *testing.T) *Brick {
	t.Helper()
	if os.Getenv("AFRKIT_REQUIRE_ROOT") != "" && os.Geteuid() != 0 {
		t.Fatal("AFRKIT_REQUIRE_ROOT is set but the tests are not running as root")
	}
	b, err := Open(t.TempDir(), DefaultNS())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Init(NewGFID()); err != nil {
		if errors.Is(err, ErrXattrUnsupported) {
			t.Skipf("skipping: %v", err)
		}
		t.Fatal(err)
	}
	return b
}

func TestInitLayout(t *testing.T) {
	b := newBrick(t)
	for _, d := range []string{"00", "7f", "ff"} {
		fi, err := os.Stat(b.GlusterPath(d))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf(".glusterfs/%s: %v, mode %v; want a 0700 directory", d, err, fi.Mode())
		}
	}
	target, err := os.Readlink(b.HandlePath(RootGFID))
	if err != nil || target != "../../.." {
		t.Errorf("root handle -> %q, %v; want ../../..", target, err)
	}
	if g, err := b.GFIDOf("/"); err != nil || g != RootGFID {
		t.Errorf("root gfid %s, %v", g, err)
	}
	if p, err := b.PathOf(RootGFID); err != nil || p != "/" {
		t.Errorf("PathOf(root) = %q, %v", p, err)
	}
}

func TestInitRefusesForeignBrick(t *testing.T) {
	b := newBrick(t)
	err := b.Init(NewGFID())
	if !errors.Is(err, ErrForeignBrick) {
		t.Fatalf("Init with another volume id: err = %v, want ErrForeignBrick", err)
	}
	if !strings.Contains(err.Error(), b.Root) {
		t.Errorf("error %q does not name the brick", err)
	}
}

func TestCreateAndResolve(t *testing.T) {
	b := newBrick(t)
	dir, file, link := NewGFID(), NewGFID(), NewGFID()
	mustCreate(t, b, NewEntry{Path: "/d", GFID: dir, Type: afr.TypeDirectory, Mode: 0o750})
	mustCreate(t, b, NewEntry{Path: "/d/f.txt", GFID: file, Type: afr.TypeRegular, Mode: 0o640, Content: strings.NewReader("data\n")})
	if b.NS == NSTrusted { // user.* xattrs are not allowed on symlinks
		mustCreate(t, b, NewEntry{Path: "/d/l", GFID: link, Type: afr.TypeSymlink, Target: "f.txt"})
	}

	// Directory handle: a symlink in GlusterFS's relative form.
	target, err := os.Readlink(b.HandlePath(dir))
	if err != nil || target != "../../00/00/00000000-0000-0000-0000-000000000001/d" {
		t.Errorf("dir handle -> %q, %v", target, err)
	}
	// File handle: a hard link with link count 2.
	same, err := b.sameFile(filepath.Join(b.Root, "d/f.txt"), b.HandlePath(file))
	if err != nil || !same {
		t.Errorf("file handle is not a hard link of the file: %v", err)
	}
	for g, want := range map[afr.GFID]string{dir: "/d", file: "/d/f.txt"} {
		if p, err := b.PathOf(g); err != nil || p != want {
			t.Errorf("PathOf(%s) = %q, %v; want %q", g, p, err, want)
		}
	}
	if b.NS == NSTrusted {
		if p, err := b.PathOf(link); err != nil || p != "/d/l" {
			t.Errorf("PathOf(symlink) = %q, %v", p, err)
		}
	}
	abs, _ := b.Abs("/d/f.txt")
	v, err := b.getXattr(abs, Gfid2pathKey(dir, "f.txt"))
	if err != nil || string(v) != dir.String()+"/f.txt" {
		t.Errorf("gfid2path = %q, %v", v, err)
	}
	r, err := b.Reply("/d/f.txt", []string{PendingKey("v-client-0"), PendingKey("v-client-1")})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exists || r.GFID != file || r.Type != afr.TypeRegular || r.Size != 5 || r.Mode != 0o640 || len(r.Pending) != 2 {
		t.Errorf("Reply = %+v", r)
	}
	// Creating it again with another gfid must fail, not overwrite.
	if err := b.Create(NewEntry{Path: "/d/f.txt", GFID: NewGFID(), Type: afr.TypeRegular}); err == nil {
		t.Error("Create over an existing file succeeded")
	}
}

func TestReplyReportsCorruptXattrs(t *testing.T) {
	b := newBrick(t)
	g := NewGFID()
	mustCreate(t, b, NewEntry{Path: "/f", GFID: g, Type: afr.TypeRegular, Mode: 0o644})
	abs, _ := b.Abs("/f")
	if err := b.setXattr(abs, PendingKey("v-client-1"), []byte{0, 0, 1}, false); err != nil {
		t.Fatal(err)
	}
	_, err := b.Reply("/f", []string{PendingKey("v-client-0"), PendingKey("v-client-1")})
	var be *Error
	if !errors.Is(err, ErrBadLength) || !errors.As(err, &be) || be.Path != "/f" || be.Brick != b.Root {
		t.Fatalf("corrupt changelog: err = %v, want ErrBadLength naming brick and path", err)
	}
	if !strings.Contains(err.Error(), "afr.v-client-1") {
		t.Errorf("error %q does not name the xattr", err)
	}
}

func TestChangelogRoundTripOnDisk(t *testing.T) {
	b := newBrick(t)
	mustCreate(t, b, NewEntry{Path: "/f", GFID: NewGFID(), Type: afr.TypeRegular, Mode: 0o644})
	want := afr.Changelog{3, 0, 1}
	if err := b.WriteChangelog("/f", PendingKey("v-client-2"), want); err != nil {
		t.Fatal(err)
	}
	abs, _ := b.Abs("/f")
	raw, err := b.getXattr(abs, PendingKey("v-client-2"))
	if err != nil || !bytes.Equal(raw, []byte{0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("on-disk value %x, %v", raw, err)
	}
	if got, err := b.ReadChangelog(abs, "/f", PendingKey("v-client-2")); err != nil || got != want {
		t.Fatalf("read back %v, %v", got, err)
	}
	if got, err := b.ReadChangelog(abs, "/f", PendingKey("v-client-9")); err != nil || !got.IsZero() {
		t.Fatalf("absent key reads %v, %v; want zeros", got, err)
	}
}

func TestAbsRefusesEscapes(t *testing.T) {
	b := newBrick(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(b.Root, "out")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/../x", "/.glusterfs/00", "/.glusterfs"} {
		if _, err := b.Abs(p); !errors.Is(err, ErrOutsideBrick) {
			t.Errorf("Abs(%q) err = %v, want ErrOutsideBrick", p, err)
		}
	}
	// A path through a symlink maps, but nothing acts on it: the
	// resolution of every operation refuses the symlink.
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs, err := b.Abs("/out/secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reply("/out/secret", nil); !errors.Is(err, ErrSymlinkInPath) || !errors.Is(err, ErrOutsideBrick) {
		t.Errorf("Reply(/out/secret) err = %v, want ErrSymlinkInPath", err)
	}
	if err := b.Chmod(abs, 0o4777); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("Chmod(/out/secret) err = %v, want ErrSymlinkInPath", err)
	}
	if err := b.SetRawXattr(abs, "/out/secret", b.Key("x"), []byte("1")); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("SetRawXattr(/out/secret) err = %v, want ErrSymlinkInPath", err)
	}
	if fi, err := os.Stat(filepath.Join(outside, "secret")); err != nil || fi.Mode() != 0o600 {
		t.Errorf("the file behind the symlink changed: %v, %v", fi.Mode(), err)
	}
	// A symlink as the last component is fine: it is the entry itself.
	if _, err := b.Abs("/out"); err != nil {
		t.Errorf("Abs(/out) = %v", err)
	}
}

func TestDanglingAndMalformedHandles(t *testing.T) {
	b := newBrick(t)
	g := NewGFID()
	mustCreate(t, b, NewEntry{Path: "/d", GFID: g, Type: afr.TypeDirectory, Mode: 0o755})
	if err := os.Remove(filepath.Join(b.Root, "d")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AbsOfGFID(g); !errors.Is(err, ErrDanglingHandle) {
		t.Errorf("dangling dir handle: err = %v, want ErrDanglingHandle", err)
	}
	if _, err := b.PathOf(NewGFID()); !errors.Is(err, ErrNoHandle) {
		t.Errorf("unknown gfid: err = %v, want ErrNoHandle", err)
	}
	bad := NewGFID()
	if err := b.ensureHandleDir(bad); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../zz/yy/not-a-gfid/x", b.HandlePath(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PathOf(bad); err == nil {
		t.Error("malformed handle resolved")
	}
}

func mustCreate(t *testing.T, b *Brick, e NewEntry) {
	t.Helper()
	if err := b.Create(e); err != nil {
		t.Fatal(err)
	}
}

// TestCountersGFIDAgreesWithReplyGFID: the cut-down read heal info uses
// sees the same existence, type, size, owner, mode, gfid and counters as
// the full one, for every kind of entry and for a gfid with no handle, and
// reports a corrupt counter the same way.
func TestCountersGFIDAgreesWithReplyGFID(t *testing.T) {
	b := newBrick(t)
	keys := []string{PendingKey("v-client-0"), PendingKey("v-client-1")}
	dir, file, link := NewGFID(), NewGFID(), NewGFID()
	mustCreate(t, b, NewEntry{Path: "/d", GFID: dir, Type: afr.TypeDirectory, Mode: 0o750})
	mustCreate(t, b, NewEntry{Path: "/d/f", GFID: file, Type: afr.TypeRegular, Mode: 0o640, Content: strings.NewReader("data\n")})
	gfids := []afr.GFID{RootGFID, dir, file, NewGFID()}
	if b.NS == NSTrusted {
		mustCreate(t, b, NewEntry{Path: "/d/l", GFID: link, Type: afr.TypeSymlink, Target: "f"})
		gfids = append(gfids, link)
	}
	if err := b.WriteChangelog("/d/f", keys[1], afr.Changelog{2, 1, 0}); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteChangelog("/d", KeyDirty, afr.Changelog{0, 0, 1}); err != nil {
		t.Fatal(err)
	}
	for _, g := range gfids {
		full, ferr := b.ReplyGFID(g, keys)
		cut, cerr := b.CountersGFID(g, keys)
		full.Xattrs, full.Mtime, full.Ctime = nil, afr.Timespec{}, afr.Timespec{}
		cut.Mtime, cut.Ctime = afr.Timespec{}, afr.Timespec{}
		if !full.Exists { // no handle: the full read has no gfid to report
			cut.GFID = afr.GFID{}
		}
		if ferr != nil || cerr != nil || !reflect.DeepEqual(full, cut) {
			t.Errorf("%s:\nfull %+v, %v\ncut  %+v, %v", g, full, ferr, cut, cerr)
		}
	}
	abs, _ := b.Abs("/d/f")
	if err := b.setXattr(abs, keys[0], []byte{1, 2, 3}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CountersGFID(file, keys); !errors.Is(err, ErrBadLength) || !strings.Contains(err.Error(), "afr.v-client-0") {
		t.Errorf("corrupt counter: %v", err)
	}
}

// TestPathOfCachedAgreesWithPathOf resolves a small tree with caches of
// several sizes (one forgets everything at every other directory) and
// compares with the uncached walk.
func TestPathOfCachedAgreesWithPathOf(t *testing.T) {
	b := newBrick(t)
	want := map[afr.GFID]string{RootGFID: "/"}
	parents := []string{""}
	for i := 0; i < 4; i++ {
		for _, par := range append([]string(nil), parents...) {
			p := fmt.Sprintf("%s/d%d", par, i)
			g := NewGFID()
			mustCreate(t, b, NewEntry{Path: p, GFID: g, Type: afr.TypeDirectory, Mode: 0o755})
			want[g] = p
			parents = append(parents, p)
			f := NewGFID()
			mustCreate(t, b, NewEntry{Path: p + "/f", GFID: f, Type: afr.TypeRegular, Mode: 0o644})
			want[f] = p + "/f"
		}
	}
	for _, limit := range []int{1, 2, 1000} {
		cache := NewDirCache(limit)
		for round := 0; round < 2; round++ {
			for g, p := range want {
				got, err := b.PathOfCached(g, cache)
				if err != nil || got != p {
					t.Errorf("limit %d: PathOfCached(%s) = %q, %v; want %q", limit, g, got, err, p)
				}
			}
		}
		if n := len(cache.paths); n > limit {
			t.Errorf("limit %d: the cache holds %d directories", limit, n)
		}
	}
}

// TestReplyListsXattrs: a reply reads the counters a copy has and no
// others, lists names past the first buffer's kilobyte, and reads every
// key of a copy without a gfid, whose list it does not go by.
func TestReplyListsXattrs(t *testing.T) {
	b := newBrick(t)
	keys := []string{PendingKey("v-client-0"), PendingKey("v-client-1")}
	mustCreate(t, b, NewEntry{Path: "/f", GFID: NewGFID(), Type: afr.TypeRegular, Mode: 0o644})
	abs, _ := b.Abs("/f")
	want := map[string]string{}
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("user.a-rather-long-name-to-fill-the-list-%02d", i)
		want[k] = fmt.Sprint(i)
		if err := b.SetRawXattr(abs, "/f", k, []byte(want[k])); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.WriteChangelog("/f", keys[1], afr.Changelog{1, 2, 0}); err != nil {
		t.Fatal(err)
	}
	r, err := b.Reply("/f", keys)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Xattrs, want) {
		t.Errorf("Xattrs = %v, want the 40 set", r.Xattrs)
	}
	if r.Pending[0] != (afr.Changelog{}) || r.Pending[1] != (afr.Changelog{1, 2, 0}) {
		t.Errorf("Pending = %v", r.Pending)
	}
	has := b.KeysPresent(abs)
	if has(keys[0]) || !has(keys[1]) || has(KeyDirty) || !has(KeyGFID) {
		t.Errorf("KeysPresent: %s %v, %s %v, dirty %v, gfid %v", keys[0], has(keys[0]), keys[1], has(keys[1]), has(KeyDirty), has(KeyGFID))
	}

	// A name made on the brick directly has no gfid: every key is read.
	raw := filepath.Join(b.Root, "raw")
	if err := os.WriteFile(raw, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteChangelog("/raw", KeyDirty, afr.Changelog{0, 1, 0}); err != nil {
		t.Fatal(err)
	}
	r, err = b.Reply("/raw", keys)
	if err != nil || !r.GFID.IsZero() || r.Dirty != (afr.Changelog{0, 1, 0}) {
		t.Errorf("gfid-less copy: %+v, %v", r, err)
	}
	if has := b.KeysPresent(raw); !has(keys[0]) || !has(KeyDirty) {
		t.Error("KeysPresent trusts the list of a copy without a gfid")
	}
}

// TestReadDirReplies: a directory's names come with their type, gfid
// and reply, .glusterfs is left out at the root, and a name without a
// gfid (made on the brick behind the volume's back) is not listed.
func TestReadDirReplies(t *testing.T) {
	b := newBrick(t)
	dir, file := NewGFID(), NewGFID()
	mustCreate(t, b, NewEntry{Path: "/d", GFID: dir, Type: afr.TypeDirectory, Mode: 0o755})
	mustCreate(t, b, NewEntry{Path: "/f", GFID: file, Type: afr.TypeRegular, Mode: 0o644, Content: strings.NewReader("x")})
	if err := os.WriteFile(filepath.Join(b.Root, "stray"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ents, err := b.ReadDirReplies(b.Root, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	var got []DirEntry
	for _, e := range ents {
		if !e.Reply.Answered || !e.Reply.Exists || e.Reply.GFID != e.GFID || e.Reply.Type != FileType(e.Stat.Mode) {
			t.Errorf("%s: reply %+v does not describe the entry", e.Name, e.Reply)
		}
		got = append(got, DirEntry{Name: e.Name, Mode: e.Mode, GFID: e.GFID})
	}
	want := []DirEntry{{Name: "d", Mode: syscall.S_IFDIR, GFID: dir}, {Name: "f", Mode: syscall.S_IFREG, GFID: file}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ReadDirReplies(/) = %v, want %v", got, want)
	}
	if ents[1].Reply.Size != 1 {
		t.Errorf("f's reply: size %d, want 1", ents[1].Reply.Size)
	}
}
