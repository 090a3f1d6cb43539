package brick

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/afrkit/afrkit/afr"
)

// Values below were read off bricks written by GlusterFS 10.3 (see
// fixtures/gluster/testdata/pending-brick-down/getfattr.txt).
func TestGfid2pathKeyMatchesGlusterFS(t *testing.T) {
	cases := []struct {
		pgfid, name, key string
	}{
		{"00000000-0000-0000-0000-000000000001", "chmod-me", "gfid2path.55dfba08834d89c7"},
		{"39868116-3c8c-45fd-b226-5137661ebe6d", "added", "gfid2path.fd6205c2f0446e58"},
		{"39868116-3c8c-45fd-b226-5137661ebe6d", "keep", "gfid2path.6b2eb322de66bbb2"},
		{"00000000-0000-0000-0000-000000000001", "new-symlink", "gfid2path.c43f9edbfb4826e0"},
	}
	for _, c := range cases {
		pg, err := ParseGFID(c.pgfid)
		if err != nil {
			t.Fatal(err)
		}
		if got := Gfid2pathKey(pg, c.name); got != c.key {
			t.Errorf("Gfid2pathKey(%s, %s) = %s, GlusterFS wrote %s", c.pgfid, c.name, got, c.key)
		}
		if got, want := Gfid2pathValue(pg, c.name), c.pgfid+"/"+c.name; got != want {
			t.Errorf("Gfid2pathValue = %q, want %q", got, want)
		}
	}
}

func TestChangelogLayout(t *testing.T) {
	// trusted.afr.fxpend-client-1 on dir1/added: data 2, metadata 1.
	raw := []byte{0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}
	c, err := DecodeChangelog(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c != (afr.Changelog{2, 1, 0}) {
		t.Fatalf("decoded %v, want [2 1 0]", c)
	}
	if !bytes.Equal(EncodeChangelog(c), raw) {
		t.Fatalf("EncodeChangelog(%v) = %x, want %x", c, EncodeChangelog(c), raw)
	}
	neg := EncodeChangelog(afr.Changelog{-1, 0, 0})
	if got, _ := DecodeChangelog(neg); got[0] != -1 {
		t.Fatalf("negative counter round trip gave %v", got)
	}
	for _, bad := range [][]byte{nil, raw[:11], append(raw, 0)} {
		if _, err := DecodeChangelog(bad); !errors.Is(err, ErrBadLength) {
			t.Errorf("DecodeChangelog(%d bytes) err = %v, want ErrBadLength", len(bad), err)
		}
	}
}

func TestMdataLayout(t *testing.T) {
	// trusted.glusterfs.mdata of /srv/glab/fxpend/b1/chmod-me.
	raw := unhex(t, "010000000000000000000000006b013272000000001168f17c000000006b01326d000000003b13f2c8000000006b01326d000000003af2d771")
	m, err := DecodeMdata(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Mdata{
		Ctime: afr.Timespec{Sec: 0x6b013272, Nsec: 0x1168f17c},
		Mtime: afr.Timespec{Sec: 0x6b01326d, Nsec: 0x3b13f2c8},
		Atime: afr.Timespec{Sec: 0x6b01326d, Nsec: 0x3af2d771},
	}
	if m != want {
		t.Fatalf("decoded %+v, want %+v", m, want)
	}
	if !bytes.Equal(m.Encode(), raw) {
		t.Fatalf("re-encoded %x, want %x", m.Encode(), raw)
	}
	if _, err := DecodeMdata(raw[:56]); !errors.Is(err, ErrBadLength) {
		t.Fatalf("short mdata: err = %v, want ErrBadLength", err)
	}
}

func TestParseGFID(t *testing.T) {
	g, err := ParseGFID("f1e3f281-c81e-485b-8ae2-8bca35817044")
	if err != nil {
		t.Fatal(err)
	}
	if g.String() != "f1e3f281-c81e-485b-8ae2-8bca35817044" {
		t.Fatalf("round trip gave %s", g)
	}
	for _, bad := range []string{"", "f1e3f281c81e485b8ae28bca35817044", "f1e3f281-c81e-485b-8ae2-8bca3581704z", "f1e3f281-c81e-485b-8ae2-8bca358170444"} {
		if _, err := ParseGFID(bad); !errors.Is(err, ErrBadGFID) {
			t.Errorf("ParseGFID(%q) err = %v, want ErrBadGFID", bad, err)
		}
	}
	if _, err := DecodeGFID(make([]byte, 15)); !errors.Is(err, ErrBadLength) {
		t.Errorf("15-byte gfid err = %v, want ErrBadLength", err)
	}
	if _, err := DecodeGFID(make([]byte, 16)); !errors.Is(err, ErrBadGFID) {
		t.Errorf("zero gfid err = %v, want ErrBadGFID", err)
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"/": "/", "a/b": "/a/b", "/a/./b/": "/a/b", "/a/../b": "/b"} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"..", "/../etc/passwd", "a/../../b", "a\x00b"} {
		if _, err := CleanPath(bad); !errors.Is(err, ErrOutsideBrick) {
			t.Errorf("CleanPath(%q) err = %v, want ErrOutsideBrick", bad, err)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHandlePathShape checks the hand-built handle paths and gfid strings
// against their plain fmt spelling.
func TestHandlePathShape(t *testing.T) {
	for _, root := range []string{"/srv/b1", "/"} {
		b := &Brick{Root: root, NS: NSTrusted}
		for i := 0; i < 100; i++ {
			g := NewGFID()
			s := fmt.Sprintf("%x-%x-%x-%x-%x", g[0:4], g[4:6], g[6:8], g[8:10], g[10:16])
			if g.String() != s {
				t.Fatalf("String() = %s, want %s", g, s)
			}
			want := filepath.Join(root, fmt.Sprintf(".glusterfs/%02x/%02x/%s", g[0], g[1], s))
			if got := b.HandlePath(g); got != want {
				t.Fatalf("HandlePath = %s, want %s", got, want)
			}
		}
	}
}
