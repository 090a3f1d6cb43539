package brick

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// Every decoder of what a brick holds gets hostile bytes: a client or a
// damaged disk chooses them. None may panic, and what decodes must encode
// back to the same bytes, so that nothing afrkit reads is silently
// reinterpreted. CI runs each target for a bounded time; a crash found is
// added to testdata/fuzz as a corpus entry.

func FuzzDecodeChangelog(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 13))
	f.Fuzz(func(t *testing.T, v []byte) {
		c, err := DecodeChangelog(v)
		if err == nil && !bytes.Equal(EncodeChangelog(c), v) {
			t.Fatalf("%x decodes to %v, which encodes to %x", v, c, EncodeChangelog(c))
		}
	})
}

func FuzzDecodeMdata(f *testing.F) {
	f.Add(Mdata{}.Encode())
	f.Add(make([]byte, MdataSize))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := DecodeMdata(v)
		if err != nil {
			return
		}
		enc := m.Encode()
		// The flags field is not kept: compare all but it.
		if !bytes.Equal(enc[:1], v[:1]) || !bytes.Equal(enc[9:], v[9:]) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", v, m, enc)
		}
	})
}

func FuzzGFID(f *testing.F) {
	f.Add("00000000-0000-0000-0000-000000000001", []byte{15: 1})
	f.Add("zzzzzzzz-0000-0000-0000-000000000001", []byte{1, 2})
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		if g, err := ParseGFID(s); err == nil && g.String() != strings.ToLower(s) {
			t.Fatalf("%q parses to %s", s, g)
		}
		if g, err := DecodeGFID(raw); err == nil && !bytes.Equal(g[:], raw) {
			t.Fatalf("%x decodes to %s", raw, g)
		}
	})
}

func FuzzParseGfid2path(f *testing.F) {
	f.Add([]byte(Gfid2pathValue(RootGFID, "name")))
	f.Add([]byte("00000000-0000-0000-0000-000000000001/a/b"))
	f.Add([]byte("/"))
	f.Fuzz(func(t *testing.T, v []byte) {
		pg, name, err := ParseGfid2path(v)
		if err != nil {
			return
		}
		if name == "" || strings.Contains(name, "/") {
			t.Fatalf("%q parses to parent %s and name %q", v, pg, name)
		}
	})
}

func FuzzParseDirHandleTarget(f *testing.F) {
	f.Add(DirHandleTarget(RootGFID, "d"))
	f.Add("../../00/00/00000000-0000-0000-0000-000000000001/.")
	f.Add("../../00/00/00000000-0000-0000-0000-000000000001/..")
	f.Add("../../..")
	f.Fuzz(func(t *testing.T, target string) {
		pg, name, err := ParseDirHandleTarget(target)
		if err != nil {
			return
		}
		if checkName(name) != nil {
			t.Fatalf("%q parses to the name %q, which leaves its directory", target, name)
		}
		if got := DirHandleTarget(pg, name); !strings.EqualFold(got, target) {
			t.Fatalf("%q parses to %s/%q, which makes %q", target, pg, name, got)
		}
	})
}

func FuzzEscapeName(f *testing.F) {
	f.Add("/a\nb")
	f.Add("/\xff\x00\x1b[2J")
	f.Fuzz(func(t *testing.T, name string) {
		for _, r := range EscapeName(name) {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("EscapeName(%q) keeps %q", name, r)
			}
		}
	})
}
